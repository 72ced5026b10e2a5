"""Run by test_audit_concurrency.py in a separate process against the test database (committed data).

python -m tests.audit_race N M: N threads, each with its own database connection, append M audit entries
at once (every thread starts at one barrier) while a checkpoint is written in the middle. Prints one
JSON object: how many entries were added, the errors, and what `audit_verify` says afterwards.
"""

import json
import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
django.setup()

from django.db import connection  # noqa: E402

from zongzhi.audit.models import AuditEntry  # noqa: E402
from zongzhi.audit.services import audit_checkpoint, audit_record, audit_verify  # noqa: E402


def main(n: int, m: int) -> None:
    before = AuditEntry.objects.count()
    newest = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    barrier = threading.Barrier(n + 1)
    errors: list[str] = []

    def append(i: int) -> None:
        barrier.wait()
        try:
            for j in range(m):
                audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name=f"racer{i}", detail={"j": j})
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    barrier.wait()
    checkpoint = audit_checkpoint()  # while they append
    for thread in threads:
        thread.join()
    result = audit_verify()
    print(
        json.dumps(
            {
                "added": AuditEntry.objects.count() - before,
                "errors": errors,
                "intact": result.intact,
                "lines": result.lines(),
                "checkpoint_count": checkpoint.count,
                "checkpoint_head": checkpoint.head_id,
                "before": before,
                "lanes": sorted(set(AuditEntry.objects.filter(id__gt=newest).values_list("lane", flat=True))),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
