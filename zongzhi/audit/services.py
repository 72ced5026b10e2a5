"""Writing, anchoring and verifying the audit chain (docs/audit.md).

Each entry's `hash` is HMAC-SM3, under the chain key named by its `key_id`, of its content and the
hash of the entry before; the key lives outside the database (`keys.py`), so nobody who can only
reach the database can edit an entry and recompute the chain. Signed checkpoints outside the
database (`checkpoints.py`) record the head and the count, so emptying the table or deleting its
newest entries shows too. Entries written before the chain was keyed carry `key_id` "" and plain SM3:
they form the chain's beginning, sealed by the first keyed entry, whose HMAC covers their last hash.

On PostgreSQL the log is `AUDIT_LANES` chains side by side: a transaction appends to one lane, the
first free one it finds, and holds only that lane's lock until it commits, so writers do not queue
behind one platform-wide lock. Each lane is a chain of its own from GENESIS; a checkpoint takes every
lane's lock for a moment and records each lane's head, the newest entry and the count.
"""

import contextlib
import contextvars
import hashlib
import hmac
import ipaddress
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.audit import checkpoints, keys
from zongzhi.audit.checkpoints import Checkpoint
from zongzhi.audit.models import AuditEntry
from zongzhi.cases.models import CaseEvent

GENESIS = checkpoints.GENESIS
LEGACY = ""  # the key id of the entries chained before the chain had a key (plain SM3)
_CHAIN_LOCK = 0x5A5A_0001  # PostgreSQL advisory lock key serialising appends to the chain
_SHOWN_BREAKS = 20
CHAIN_BREAKS = ("edited", "key_mismatch", "unlinked", "unknown_key", "legacy_after_keyed")

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("audit_request", default=None)


def _lane_of(entry: AuditEntry) -> list[int]:
    # Lane 0 is left out of the hashed body, so the entries from before lanes verify as they were made.
    return [entry.lane] if entry.lane else []


def _legacy_digest(prev_hash: str, entry: AuditEntry) -> str:
    # Frozen: how the entries before the keyed chain were hashed.
    body = json.dumps(
        [prev_hash, entry.at.isoformat(), entry.actor_name, entry.action, entry.target, entry.ip, entry.detail],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.new("sm3", body.encode()).hexdigest()


def _keyed_digest(key: bytes, prev_hash: str, entry: AuditEntry) -> str:
    body = json.dumps(
        [
            prev_hash,
            entry.key_id,
            entry.at.isoformat(),
            entry.actor_id,
            entry.actor_name,
            entry.action,
            entry.target,
            entry.ip,
            entry.detail,
            *_lane_of(entry),
        ],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hmac.new(key, body.encode(), "sm3").hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    """The visitor's address: behind the production proxy, the header it passes it in (CLIENT_IP_HEADER)."""
    if request is None:
        return None
    header = settings.CLIENT_IP_HEADER
    given = (header and request.META.get(header)) or request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(given.strip()))
    except ValueError:
        return None  # not an address: the entry is still written, without one


@contextlib.contextmanager
def serving(request: HttpRequest) -> Iterator[None]:
    """While inside, entries written on this thread carry `request`'s address (`AuditRequestMiddleware`)."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def current_request() -> HttpRequest | None:
    """The request being served on this thread (set by `AuditRequestMiddleware`), for its address."""
    return _request.get()


def _lanes() -> int:
    # On SQLite the write lock taken at BEGIN (IMMEDIATE) serialises appends already: one lane.
    return settings.AUDIT_LANES if connection.vendor == "postgresql" else 1


def _noop() -> None:
    pass


def _take_lane() -> int:
    """Lock a lane for the rest of this transaction and return it: the one it holds, else a free one."""
    if connection.vendor != "postgresql":
        return 0  # SQLite's write lock, taken at BEGIN (IMMEDIATE), serialises every writer already
    lanes = _lanes()
    # A transaction keeps the lane it took first, so it never holds two and never waits while holding
    # one: no lock cycle, with checkpoints either. It knows its lane by a no-op on-commit callback of its
    # own, which Django drops at commit, at rollback, and with a rolled-back savepoint, just as
    # PostgreSQL releases the lock.
    lane, marker = getattr(connection, "_zongzhi_audit_lane", (0, None))
    if marker is not None and any(callback[1] is marker for callback in connection.run_on_commit):
        return int(lane)
    last = lane
    chosen = None
    with connection.cursor() as cursor:
        # The lane this connection used last, then the others from lane 0: one writer alone stays on
        # one chain (lane 0 on a quiet platform), and writers at once spread over the lanes.
        for candidate in [last, *(n for n in range(lanes) if n != last)]:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK, candidate])
            if cursor.fetchone()[0]:
                chosen = candidate
                break
        if chosen is None:  # every lane busy: queue for one
            chosen = random.randrange(lanes)
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK, chosen])

    def mark() -> None:  # a distinct object per transaction
        _noop()

    transaction.on_commit(mark)
    connection._zongzhi_audit_lane = (chosen, mark)  # type: ignore[attr-defined]
    return chosen


def _lock_all_lanes() -> None:
    """Wait for every lane (a checkpoint's moment of quiet): in lane order, as no writer waits holding one."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for lane in range(max(_lanes(), _highest_lane() + 1)):
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK, lane])


def _highest_lane() -> int:
    return AuditEntry.objects.order_by("-lane").values_list("lane", flat=True).first() or 0


def lane_heads() -> dict[int, tuple[int, str]]:
    """Each lane's newest entry: lane -> (id, hash)."""
    heads: dict[int, tuple[int, str]] = {}
    for lane in range(_highest_lane() + 1):
        head = AuditEntry.objects.filter(lane=lane).order_by("-id").values_list("id", "hash").first()
        if head is not None:
            heads[lane] = head
    return heads


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_name: str = "",
    target: str = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction when there is one."""
    action = AuditEntry.Action(action)  # a ValueError for an action the log does not know
    chain = keys.chain_keys()
    with transaction.atomic(savepoint=False):  # part of the caller's transaction when there is one
        lane = _take_lane()
        last = AuditEntry.objects.filter(lane=lane).order_by("-id").values_list("hash", flat=True).first()
        entry = AuditEntry(
            lane=lane,
            at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_name=actor_name or (actor.get_username() if actor is not None else ""),
            action=action,
            target=target[:200],
            ip=client_ip(request or current_request()),
            detail=detail or {},
            prev_hash=last or GENESIS,
            key_id=chain.current,
        )
        entry.hash = _keyed_digest(chain.keys[chain.current], entry.prev_hash, entry)
        entry.save()
    return entry


def audit_case_event(event: CaseEvent) -> AuditEntry:
    """The audit entry of a case's timeline event (`cases.events.observe`), in the event's transaction."""
    return audit_record(
        action=AuditEntry.Action.CASE_ACTION,
        actor=event.actor,
        actor_name="" if event.actor_id else "system",
        target=event.case.number,
        detail={
            "event": event.kind,
            "event_id": event.pk,
            "from": event.from_state,
            "to": event.to_state,
            "version": event.version,
        },
    )


def audit_checkpoint(archived: checkpoints.Anchor | None = None) -> Checkpoint:
    """Write a signed checkpoint of the chain as committed now (head entry, its hash, the count)."""
    if connection.in_atomic_block:
        # Inside a transaction it would record entries that may yet be rolled back: a false anchor.
        raise RuntimeError("audit_checkpoint records committed entries only: call it outside a transaction")
    offset = _archived_before()
    with transaction.atomic():
        _lock_all_lanes()  # no append between reading the heads and counting up to them
        head = AuditEntry.objects.order_by("-id").values_list("id", "hash").first()
        head_id, head_hash = head if head else (0, GENESIS)
        # The entries archived already count: a checkpoint's count is of every entry up to its head.
        count = AuditEntry.objects.filter(id__lte=head_id).count() + offset
        heads = lane_heads()
    return checkpoints.write(head_id=head_id, head_hash=head_hash, count=count, lanes=heads, archived=archived)


def _applied_anchor(found: list[Checkpoint]) -> Checkpoint | None:
    """The newest anchor whose archived entries are gone from the database (none: nothing archived yet)."""
    for checkpoint in reversed(found):
        anchor = checkpoint.archived
        if anchor is None:
            continue
        if not any(
            AuditEntry.objects.filter(lane=lane, id__lte=last_id).exists()
            for lane, (last_id, _h, _c) in anchor.lanes.items()
        ):
            return checkpoint
    return None


def _archived_before() -> int:
    applied = _applied_anchor(checkpoints.anchors())
    return applied.archived.count if applied is not None and applied.archived is not None else 0


class ArchiveRefused(Exception):
    """Archiving a month of the log is refused (the chain does not verify): the message says why."""


def audit_archive_anchor_prepare(partition: str) -> checkpoints.Anchor:
    """What archiving `partition` (one month of the log) takes out: each lane's last entry in it, the count.

    Refused unless the whole chain verifies now: an archive must not carry a break out of sight.
    """
    from psycopg import sql

    verified = audit_verify()
    if not verified.intact:
        raise ArchiveRefused("审计链校验未通过，拒绝归档：" + "；".join(b.message for b in verified.breaks[:3]))
    lanes: dict[int, tuple[int, str, bool]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT DISTINCT ON (lane) lane, id, hash FROM {} ORDER BY lane, id DESC").format(
                sql.Identifier(partition)
            )
        )
        rows = cursor.fetchall()
        cursor.execute(sql.SQL("SELECT count(*), COALESCE(max(id), 0) FROM {}").format(sql.Identifier(partition)))
        count, through = cursor.fetchone()
    for lane, last_id, last_hash in rows:
        lanes[lane] = (last_id, last_hash, AuditEntry.objects.filter(lane=lane, id__gt=last_id).exists())
    applied = _applied_anchor(checkpoints.anchors())
    before = applied.archived if applied is not None else None
    if before is None:
        return checkpoints.Anchor(through=through, count=count, lanes=lanes)
    for lane, head in before.lanes.items():
        lanes.setdefault(lane, head)  # a lane with nothing in this month keeps its earlier anchor
    return checkpoints.Anchor(through=max(through, before.through), count=count + before.count, lanes=lanes)


def audit_archive_anchor_write(anchor: checkpoints.Anchor) -> Checkpoint:
    """The signed checkpoint that makes the archive the chain's beginning, written before the month is dropped."""
    return audit_checkpoint(archived=anchor)


# ---- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """Where and how the log disagrees with its chain or its checkpoints."""

    kind: str  # edited, unlinked, unknown_key, legacy_after_keyed, missing_after_checkpoint, count_below_checkpoint,
    # head_mismatch, checkpoint_head_missing, count_above_checkpoint, checkpoint_* (the files themselves)
    entry_id: int | None
    message: str


@dataclass
class Verification:
    """The outcome of `audit_verify`."""

    checked: int = 0
    head_id: int | None = None
    legacy: int = 0  # entries from before the chain was keyed
    breaks: list[Break] = field(default_factory=list)
    more_breaks: int = 0  # found but not listed
    checkpoints: int = 0
    archived: int = 0  # entries archived out of the database, before the chain's anchor
    anchor: Checkpoint | None = None
    newest: Checkpoint | None = None
    after_newest: int = 0  # entries newer than the newest checkpoint

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def chain_breaks(self) -> list[Break]:
        """The breaks found in the entries themselves, leaving the checkpoints aside (a restored copy's check)."""
        return [b for b in self.breaks if b.kind in CHAIN_BREAKS]

    def lines(self) -> list[str]:
        """What the command prints and the audit page shows, in Chinese."""
        if not self.intact:
            found = [_("审计日志校验未通过：发现 %(n)d 处问题。") % {"n": len(self.breaks) + self.more_breaks}]
            found += [f"- {b.message}" for b in self.breaks]
            if self.more_breaks:
                found.append("- " + _("另有 %(n)d 处问题未列出。") % {"n": self.more_breaks})
            return found
        found = [_("审计链完整：共 %(n)d 条记录，逐条 HMAC-SM3 校验通过。") % {"n": self.checked}]
        if self.anchor is not None:
            found.append(
                _("另有 %(n)d 条较早的记录已归档（至第 %(id)d 条），链自%(c)s起接续。")
                % {
                    "n": self.archived,
                    "id": self.anchor.archived.through if self.anchor.archived else 0,
                    "c": self.anchor.describe(),
                }
            )
        if self.legacy:
            found.append(
                _("其中最早的 %(n)d 条为启用密钥前的记录（SM3 无密钥），由其后第一条带密钥记录封存。")
                % {"n": self.legacy}
            )
        if self.newest is None:
            found.append(
                _("尚无检查点：清空审计表或删除最新记录无法被发现（由 scheduler 定期写入，或运行 audit_checkpoint）。")
            )
        else:
            found.append(
                _("最新%(c)s与数据库一致，共核对 %(n)d 个检查点；其后新增 %(k)d 条记录。")
                % {"c": self.newest.describe(), "n": self.checkpoints, "k": self.after_newest}
            )
        return found


def _lane_start(anchors: list[checkpoints.Anchor], lane: int, entry_id: int) -> tuple[set[str], int | None]:
    """Where a lane's first entry in the database may link to: GENESIS, or the newest archive anchor before it."""
    best: tuple[int, str, bool] | None = None
    for anchor in anchors:
        head = anchor.lanes.get(lane)
        if head is not None and head[0] < entry_id and (best is None or head[0] > best[0]):
            best = head
    if best is None:
        return {GENESIS}, None
    # A lane archived to its end starts again from GENESIS with its next entry (the database knew no head).
    return ({best[1]} if best[2] else {best[1], GENESIS}), best[0]


def _entry_breaks(
    chain: keys.ChainKeys, result: Verification, heads: set[int], anchors: list[checkpoints.Anchor] | None = None
) -> dict[int, tuple[str, int]]:
    """Walk the chain, noting every break; returns (hash, entries up to it) of each checkpoint head seen."""
    seen: dict[int, tuple[str, int]] = {}
    lane_prev: dict[int, tuple[str, int | None]] = {}  # lane -> (hash, id) of its entry walked last
    previous_id, keyed = None, False
    made: Counter[str] = Counter()  # entries by key id
    failed: dict[str, list[int]] = {}  # key id -> [entries failing their HMAC, the first of them]
    shown_key: dict[int, str] = {}  # entry id of a listed `edited` break -> its key id

    def note(kind: str, entry_id: int, message: str) -> None:
        if len(result.breaks) < _SHOWN_BREAKS:
            result.breaks.append(Break(kind, entry_id, message))
        else:
            result.more_breaks += 1

    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        result.checked += 1
        if entry.lane in lane_prev:
            prev, before_id = lane_prev[entry.lane]
            allowed = {prev}
        else:
            allowed, before_id = _lane_start(anchors or [], entry.lane, entry.pk)
        if entry.prev_hash not in allowed:
            before = _("第 %(id)d 条") % {"id": before_id} if before_id else _("链首")
            note(
                "unlinked",
                entry.pk,
                _("第 %(id)d 条记录与上一条（%(b)s）不衔接：其间的记录被删除、插入或改动。")
                % {"id": entry.pk, "b": before},
            )
        if entry.key_id == LEGACY:
            if keyed:
                note(
                    "legacy_after_keyed",
                    entry.pk,
                    _("第 %(id)d 条记录没有密钥，却位于带密钥的记录之后：为伪造。") % {"id": entry.pk},
                )
            else:
                result.legacy += 1
                if _legacy_digest(entry.prev_hash, entry) != entry.hash:
                    note("edited", entry.pk, _("第 %(id)d 条记录被改动：内容与其哈希不符。") % {"id": entry.pk})
        else:
            keyed = True
            key = chain.keys.get(entry.key_id)
            if key is None:
                note(
                    "unknown_key",
                    entry.pk,
                    _("第 %(id)d 条记录使用未知密钥“%(k)s”：伪造，或缺少已停用的密钥。")
                    % {"id": entry.pk, "k": entry.key_id},
                )
            else:
                made[entry.key_id] += 1
                if not hmac.compare_digest(_keyed_digest(key, entry.prev_hash, entry), entry.hash):
                    failed.setdefault(entry.key_id, [0, entry.pk])[0] += 1
                    shown_key[entry.pk] = entry.key_id
                    note("edited", entry.pk, _("第 %(id)d 条记录被改动：内容与其 HMAC-SM3 不符。") % {"id": entry.pk})
        if entry.pk in heads:
            seen[entry.pk] = (entry.hash, result.checked)
        lane_prev[entry.lane] = (entry.hash, entry.pk)
        previous_id = entry.pk
    for key_id, (count, first) in failed.items():
        if count == made[key_id] and count > 1:
            # Every entry of a key fails: one finding, not thousands (a wrong key looks exactly like this).
            listed = [b for b in result.breaks if b.kind == "edited" and shown_key.get(b.entry_id or 0) == key_id]
            result.breaks = [b for b in result.breaks if b not in listed]
            result.more_breaks -= count - len(listed)
            message = _(
                "带密钥“%(k)s”的全部 %(n)d 条记录都与本服务器的该密钥不符（第一条为第 %(id)d 条）："
                "整条链被改动后重新计算，或本服务器配置的不是写入这些记录的密钥。"
            ) % {"k": key_id, "n": count, "id": first}
            result.breaks.insert(0, Break("key_mismatch", first, message))
    result.head_id = previous_id
    return seen


def _checkpoint_break(
    checkpoint: Checkpoint,
    seen: dict[int, tuple[str, int]],
    result: Verification,
    anchor: checkpoints.Anchor | None = None,
) -> Break | None:
    """How the database disagrees with one checkpoint, if it does (`anchor`: what was archived)."""
    if checkpoint.count == 0:
        return None  # the log was empty then: nothing it could have lost
    if anchor is not None and checkpoint.head_id <= anchor.through:
        return None  # its head is in the archive: the anchor, checked when it was written, stands for it
    archived_lanes = anchor.lanes if anchor is not None else {}
    where = checkpoint.describe()
    got = seen.get(checkpoint.head_id)
    if got is None:
        if result.checked == 0:
            return Break("count_below_checkpoint", None, _("审计表已被清空：%(c)s，数据库中现有 0 条。") % {"c": where})
        if checkpoint.head_id > (result.head_id or 0):
            return Break(
                "missing_after_checkpoint",
                checkpoint.head_id,
                _("%(c)s之后的记录缺失：数据库中最新为第 %(id)d 条、共 %(n)d 条，最新的记录被删除。")
                % {"c": where, "id": result.head_id or 0, "n": result.checked},
            )
        return Break(
            "checkpoint_head_missing",
            checkpoint.head_id,
            _("%(c)s的末条记录第 %(id)d 条已不在数据库中。") % {"c": where, "id": checkpoint.head_id},
        )
    head_hash, count = got
    count += result.archived
    if not hmac.compare_digest(head_hash, checkpoint.head_hash):
        return Break(
            "head_mismatch",
            checkpoint.head_id,
            _("第 %(id)d 条记录的哈希与%(c)s不符：链被改动并重新计算。") % {"c": where, "id": checkpoint.head_id},
        )
    for lane, (lane_head, lane_hash) in sorted(checkpoint.lanes.items()):
        at_head = seen.get(lane_head)
        if at_head is None and lane in archived_lanes and lane_head <= archived_lanes[lane][0]:
            continue  # that lane's head was archived
        if at_head is None:
            return Break(
                "checkpoint_head_missing",
                lane_head,
                _("%(c)s记录的第 %(lane)d 条链末条记录第 %(id)d 条已不在数据库中。")
                % {"c": where, "lane": lane, "id": lane_head},
            )
        if not hmac.compare_digest(at_head[0], lane_hash):
            return Break(
                "head_mismatch",
                lane_head,
                _("第 %(id)d 条记录的哈希与%(c)s记录的第 %(lane)d 条链不符：该链被改动并重新计算。")
                % {"c": where, "lane": lane, "id": lane_head},
            )
    if count < checkpoint.count:
        return Break(
            "count_below_checkpoint",
            checkpoint.head_id,
            _("至第 %(id)d 条只有 %(n)d 条记录，少于%(c)s：其间的记录被删除。")
            % {"c": where, "id": checkpoint.head_id, "n": count},
        )
    if count > checkpoint.count:
        return Break(
            "count_above_checkpoint",
            checkpoint.head_id,
            _("至第 %(id)d 条有 %(n)d 条记录，多于%(c)s：其间被插入了记录。")
            % {"c": where, "id": checkpoint.head_id, "n": count},
        )
    return None


def audit_verify(checkpoint_dir: Path | None = None) -> Verification:
    """Walk the chain and compare it with the checkpoints (the configured directory, or another copy)."""
    chain = keys.chain_keys()
    found, problems = checkpoints.read(checkpoint_dir)
    result = Verification(checkpoints=len(found), newest=found[-1] if found else None)
    result.breaks += [Break(p.kind, None, p.message) for p in problems]
    heads = {c.head_id for c in found} | {head for c in found for head, _hash in c.lanes.values()}
    anchors = [c.archived for c in found if c.archived is not None]
    seen = _entry_breaks(chain, result, heads, anchors)
    applied = _applied_anchor(found)
    if applied is not None and applied.archived is not None:
        result.anchor, result.archived = applied, applied.archived.count
    anchor = applied.archived if applied is not None else None
    disagreeing = [b for b in (_checkpoint_break(c, seen, result, anchor) for c in found) if b is not None]
    if disagreeing:
        # The newest checkpoint that disagrees says the most; the others repeat it.
        newest = disagreeing[-1]
        others = _("（共 %(n)d 个检查点与数据库不符）") % {"n": len(disagreeing)} if len(disagreeing) > 1 else ""
        result.breaks.append(Break(newest.kind, newest.entry_id, newest.message + others))
    if result.newest is not None:
        covered = seen.get(result.newest.head_id, ("", result.checked))[1] if result.newest.count else 0
        result.after_newest = result.checked - covered
    return result
