"""Signed checkpoints of the audit chain, kept in append-only files outside the database.

A checkpoint says "at this time the chain had `count` entries and ended at entry `head_id`, whose hash
was `head_hash`". It is one JSON line in `<AUDIT_CHECKPOINT_DIR>/checkpoints-YYYY-MM.jsonl`, signed
(Ed25519, the signing key of `keys.signing_keys`) and linked to the line before by `prev` (SM3 of
that line), so a line taken out of the middle shows. Verification (`services.audit_verify`) compares
the database with them: emptied, newest entries deleted or chain recomputed all disagree with the
checkpoints the log already had. Since the log runs in lanes (`services`), a checkpoint (v2) also
records every lane's head, so a lane recomputed or cut short shows as well. See docs/audit.md.
"""

import base64
import binascii
import datetime
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.audit import keys

GENESIS = "0" * 64
_FIELDS = ("v", "seq", "at", "head_id", "head_hash", "count", "prev", "signer")
_FIELDS_V2 = (*_FIELDS, "lanes")
_FIELDS_V3 = (*_FIELDS_V2, "archived")


@dataclass(frozen=True)
class Anchor:
    """What a month's archive took out of the log (a v3 checkpoint's `archived`): the chain starts after it.

    `lanes`: lane -> (id, hash, continues) of the lane's last archived entry; `continues` False when the
    lane had no newer entry then, so its next entry may start again from GENESIS. `count`: every entry
    archived so far (this archive's and the earlier ones'); `through`: the highest id archived.
    """

    through: int
    count: int
    lanes: dict[int, tuple[int, str, bool]]


@dataclass(frozen=True)
class Checkpoint:
    """One signed line of a checkpoint file."""

    seq: int
    at: datetime.datetime
    head_id: int
    head_hash: str
    count: int
    prev: str
    signer: str
    signature: str
    source: str  # file:line, to say where a bad one is
    digest: str  # SM3 of the line as written, the next line's `prev`
    lanes: dict[int, tuple[int, str]] = field(default_factory=dict)  # lane -> its head (id, hash); v1: none
    archived: Anchor | None = None  # v3: written when a month of the log was archived

    def describe(self) -> str:
        local = timezone.localtime(self.at)
        return _("检查点 #%(seq)d（%(at)s，至第 %(id)d 条、共 %(n)d 条）") % {
            "seq": self.seq,
            "at": f"{local:%Y-%m-%d %H:%M:%S}",
            "id": self.head_id,
            "n": self.count,
        }


@dataclass(frozen=True)
class Problem:
    """A checkpoint line that cannot be trusted: unreadable, badly signed, or out of the sequence."""

    kind: str  # checkpoint_unreadable, checkpoint_signature, checkpoint_unknown_signer, checkpoint_sequence
    source: str
    message: str


def directory() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _message(fields: dict[str, Any]) -> bytes:
    names = _FIELDS_V3 if fields["v"] >= 3 else _FIELDS_V2 if fields["v"] >= 2 else _FIELDS
    return json.dumps({k: fields[k] for k in names}, sort_keys=True, separators=(",", ":")).encode()


def _digest(line: str) -> str:
    return hashlib.new("sm3", line.encode()).hexdigest()


def _files(where: Path) -> list[Path]:
    return sorted(where.glob("checkpoints-*.jsonl")) if where.is_dir() else []


def _lines(where: Path) -> Iterator[tuple[str, str]]:
    for path in _files(where):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield f"{path.name}:{number}", line.rstrip("\n")


def read(
    where: Path | None = None, public: dict[str, Ed25519PublicKey] | None = None
) -> tuple[list[Checkpoint], list[Problem]]:
    """Every checkpoint in the directory in order, and what is wrong with the lines that fail.

    `public`: the signers' public keys by key id (a receiver's); by default this server's.
    """
    public = keys.signing_keys().public if public is None else public
    found: list[Checkpoint] = []
    problems: list[Problem] = []
    prev = GENESIS
    for source, line in _lines(where or directory()):
        try:
            fields = json.loads(line)
            checkpoint = read_line(line, source)
            signature = base64.b64decode(checkpoint.signature, validate=True)
            message = _message(fields)
        except (ValueError, KeyError, TypeError, binascii.Error):
            problems.append(
                Problem("checkpoint_unreadable", source, _("检查点文件 %(f)s 无法读取：已被改动。") % {"f": source})
            )
            continue
        signer = public.get(checkpoint.signer)
        if signer is None:
            problems.append(
                Problem(
                    "checkpoint_unknown_signer",
                    source,
                    _("检查点文件 %(f)s 由未知的签名密钥 %(k)s 签署。") % {"f": source, "k": checkpoint.signer},
                )
            )
            continue
        if not keys.signature_valid(signer, signature, message):
            problems.append(
                Problem(
                    "checkpoint_signature", source, _("检查点文件 %(f)s 签名无效：已被改动或伪造。") % {"f": source}
                )
            )
            continue
        if checkpoint.prev != prev or (found and checkpoint.seq != found[-1].seq + 1):
            problems.append(
                Problem(
                    "checkpoint_sequence",
                    source,
                    _("检查点文件 %(f)s（#%(seq)d）与上一个检查点不衔接：之前的检查点被删除或改动。")
                    % {"f": source, "seq": checkpoint.seq},
                )
            )
        found.append(checkpoint)
        prev = checkpoint.digest
    return found, problems


def anchors(where: Path | None = None) -> list[Checkpoint]:
    """The validly signed checkpoints that anchor the chain after an archive (v3 with `archived`), in order.

    Only those lines are parsed and checked: a checkpoint tick needs the archived count, not every line.
    """
    public = keys.signing_keys().public
    found = []
    for source, line in _lines(where or directory()):
        if '"archived"' not in line:
            continue
        try:
            checkpoint = read_line(line, source)
            signature = base64.b64decode(checkpoint.signature, validate=True)
            message = _message(json.loads(line))
        except (ValueError, KeyError, TypeError, binascii.Error):
            continue
        signer = public.get(checkpoint.signer)
        if checkpoint.archived is not None and signer is not None and keys.signature_valid(signer, signature, message):
            found.append(checkpoint)
    return found


def write(
    *,
    head_id: int,
    head_hash: str,
    count: int,
    lanes: dict[int, tuple[int, str]] | None = None,
    at: datetime.datetime | None = None,
    archived: Anchor | None = None,
) -> Checkpoint:
    """Append one signed checkpoint (the caller read head and count from the database)."""
    where = directory()
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    signing = keys.signing_keys()
    at = at or timezone.now()
    # One writer at a time (the scheduler's task and an on-demand run): the sequence and `prev` come
    # from the last line, so reading it and appending must not interleave.
    with (where / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        last_seq, prev = 0, GENESIS
        lines = list(_lines(where))
        if lines:
            last = json.loads(lines[-1][1])
            last_seq, prev = int(last["seq"]), _digest(lines[-1][1])
        fields: dict[str, Any] = {
            "v": 2,
            "seq": last_seq + 1,
            "at": at.astimezone(datetime.UTC).isoformat(),
            "head_id": head_id,
            "head_hash": head_hash,
            "count": count,
            "prev": prev,
            "signer": signing.key_id,
            "lanes": {str(lane): [lane_id, lane_hash] for lane, (lane_id, lane_hash) in sorted((lanes or {}).items())},
        }
        if archived is not None:
            fields["v"] = 3
            fields["archived"] = {
                "through": archived.through,
                "count": archived.count,
                "lanes": {str(lane): list(head) for lane, head in sorted(archived.lanes.items())},
            }
        fields["sig"] = base64.b64encode(signing.private.sign(_message(fields))).decode()
        line = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        path = where / f"checkpoints-{at.astimezone(datetime.UTC):%Y-%m}.jsonl"
        number = sum(1 for _line in path.open(encoding="utf-8")) + 1 if path.exists() else 1
        # O_APPEND: every write lands at the end; 0600: only the service account reads the files.
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return read_line(line, f"{path.name}:{number}")


def read_line(line: str, source: str) -> Checkpoint:
    """One line of a checkpoint file, read (not checked)."""
    fields = json.loads(line)
    return Checkpoint(
        seq=int(fields["seq"]),
        at=datetime.datetime.fromisoformat(fields["at"]),
        head_id=int(fields["head_id"]),
        head_hash=str(fields["head_hash"]),
        count=int(fields["count"]),
        prev=str(fields["prev"]),
        signer=str(fields["signer"]),
        signature=str(fields["sig"]),
        source=source,
        digest=_digest(line),
        lanes={int(lane): (int(head[0]), str(head[1])) for lane, head in fields.get("lanes", {}).items()},
        archived=_anchor(fields.get("archived")),
    )


def _anchor(given: Any) -> Anchor | None:
    if given is None:
        return None
    return Anchor(
        through=int(given["through"]),
        count=int(given["count"]),
        lanes={int(lane): (int(h[0]), str(h[1]), bool(h[2])) for lane, h in given["lanes"].items()},
    )
