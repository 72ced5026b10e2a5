"""The checkpoint receiver's check: python scripts/audit_receiver.py PUBLIC_KEY[,PUBLIC_KEY…] RECEIVED [INCOMING]

Run where the audit checkpoints are received (docs/audit.md), with only the signers' public keys
(`manage.py audit_checkpoint --public-key` prints the current one) and no access to the database or
to any key of the server. Checks every line of the RECEIVED directory: signed by a listed key, in
sequence, each linked to the one before. With INCOMING (a fresh copy from the server), also checks
that it continues RECEIVED: every line received before is still there, unchanged, in the same place.
Exits 0 when all holds, 1 with the reasons otherwise.
"""

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    settings.configure(USE_TZ=True, TIME_ZONE="Asia/Shanghai", USE_I18N=False)
    django.setup()
    from zongzhi.audit import checkpoints, keys

    public = keys.parse_public_keys(argv[0])
    received, problems = checkpoints.read(Path(argv[1]), public)
    reasons = [p.message for p in problems]
    if len(argv) == 3:
        incoming, new_problems = checkpoints.read(Path(argv[2]), public)
        reasons += [p.message for p in new_problems]
        for old, new in zip(received, incoming, strict=False):
            if old.digest != new.digest:
                reasons.append(
                    f"新副本中的检查点 #{new.seq}（{new.source}）与已接收的 #{old.seq}（{old.source}）不同："
                    "服务器上的检查点被改写。"
                )
                break
        if len(incoming) < len(received):
            reasons.append(
                f"新副本只有 {len(incoming)} 个检查点，少于已接收的 {len(received)} 个：服务器上的检查点被删除。"
            )
        received = incoming
    if reasons:
        for reason in reasons:
            print(reason, file=sys.stderr)
        return 1
    newest = received[-1].describe() if received else "无检查点"
    print(f"检查点完好：共 {len(received)} 个，最新为{newest}。")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
