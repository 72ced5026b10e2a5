"""Writing and verifying the audit chain."""

import hashlib
import json
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from zongzhi.audit.models import AuditEntry

GENESIS = "0" * 64
_CHAIN_LOCK = 0x5A5A_0001  # PostgreSQL advisory lock key serialising appends to the chain


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    body = json.dumps(
        [prev_hash, entry.at.isoformat(), entry.actor_name, entry.action, entry.target, entry.ip, entry.detail],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.new("sm3", body.encode()).hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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
    with transaction.atomic(savepoint=False):  # part of the caller's transaction when there is one
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry = AuditEntry(
            at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_name=actor_name or (actor.get_username() if actor is not None else ""),
            action=action,
            target=target[:200],
            ip=client_ip(request),
            detail=detail or {},
            prev_hash=last or GENESIS,
        )
        entry.hash = _digest(entry.prev_hash, entry)
        entry.save()
    return entry


def audit_verify() -> tuple[bool, int, int | None]:
    """Walk the chain; returns (intact, entries checked, id of the first broken entry)."""
    prev = GENESIS
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev or _digest(prev, entry) != entry.hash:
            return False, checked, entry.pk
        prev = entry.hash
        checked += 1
    return True, checked, None
