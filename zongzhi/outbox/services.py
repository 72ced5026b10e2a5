"""Writing to the outbox (inside the change's transaction) and publishing it (after commit).

Writers call `event_record` (visits, claims, imports, the clock's events); every case event arrives
through `case_event_recorded`, which the app registers on the case core (`events.subscribe_appended`).
Once the writer's transaction commits, the task worker is woken (`_after_commit`) to publish, fan out
and send; the feed publishes on its own as well, so it never waits for the worker.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases import events as case_events
from zongzhi.cases.models import Case, CaseEvent, Supervision
from zongzhi.crypto import blind_index
from zongzhi.identity import mask_phone
from zongzhi.outbox.models import Delivery, Event, SmsPreference, SmsReceipt
from zongzhi.outbox.tasks import dispatch_soon


def event_record(
    *,
    kind: str,
    region_code: str,
    data: dict[str, Any],
    at: datetime.datetime | None = None,
    case: Case | None = None,
    major: bool = False,
    key: str | None = None,
) -> Event | None:
    """Write one event in the caller's transaction. With a `key` already told, nothing is written (None)."""
    fields = {
        "kind": kind,
        "case": case,
        "case_number": case.number if case is not None else "",
        "region_code": region_code,
        "major": major,
        "at": at or timezone.now(),
        "data": data,
        "key": key,
    }
    if key is not None:
        try:
            with transaction.atomic():
                event = Event.objects.create(**fields)
        except IntegrityError:
            return None
    else:
        event = Event.objects.create(**fields)
    _wake_after_commit()
    return event


def is_major(case: Case, kind: str = "") -> bool:
    """重大: marked 重大疑难, lifted (上提) at least once, or under supervision (督办)."""
    if case.major or case.escalations or kind in ("escalate", "supervision"):
        return True
    read = getattr(case, "_prefetched_objects_cache", {}).get("supervisions")  # the action's (access.read_supervisions)
    if read is not None:
        return bool(read)
    return Supervision.objects.filter(case_id=case.pk, region_code=case.region_code).exists()


def case_summary(case: Case) -> dict[str, Any]:
    """What an outside system is told of the case with each of its events (no party's personal data)."""
    return {
        "number": case.number,
        "title": case.title,
        "category": case.category.name,
        "channel": case.channel,
        "risk_level": case.risk_level,
        "state": case.state,
        "major": case.major,
        "escalations": case.escalations,
        "center": case.center.code,
        "center_name": case.center.name,
        "region_code": case.region_code,
        "registered_at": case.registered_at.isoformat(),
        "people_involved": case.people_involved,
        "amount": str(case.amount) if case.amount is not None else None,
    }


def case_event_recorded(case: Case, row: CaseEvent) -> None:
    """The outbox's copy of a case event (called inside the service's transaction)."""
    event_record(
        kind=f"case.{row.kind}",
        case=case,
        region_code=case.region_code,
        major=is_major(case, row.kind),
        at=row.at,
        data={
            "label": case_events.label(row),
            "from_state": row.from_state,
            "to_state": row.to_state,
            "version": row.version,
            "actor": row.actor_name,
            "detail": row.data,
            "case": case_summary(case),
        },
    )


def _wake_after_commit() -> None:
    """Once per transaction: after it commits, ask the worker to publish and send."""
    if not connection.in_atomic_block:
        _wake()
        return
    if not any(entry[1] is _wake for entry in connection.run_on_commit):
        transaction.on_commit(_wake, robust=True)


def _wake() -> None:
    dispatch_soon()


def delivery_redeliver(*, delivery: Delivery, actor: Any) -> None:
    """Send a delivery again (a dead letter, or one whose receiver lost it), with the same delivery id."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), delivered_at=None
        )
        audit_record(
            action=AuditEntry.Action.WEBHOOK_REDELIVERED,
            actor=actor,
            target=delivery.subscription.user.username,
            detail={"subscription": delivery.subscription_id, "delivery": str(delivery.pk)},
        )
        transaction.on_commit(_wake, robust=True)


def visit_recorded(visit: Any) -> None:
    """A grid worker's visit (走访): where, when, what kind; no household member's personal data."""
    event_record(
        kind="visit.recorded",
        region_code=visit.region_code,
        at=visit.visited_at,
        data={"visit": visit.pk, "kind": visit.kind, "household": visit.household.code, "grid": visit.region_code},
    )


def household_claimed(household: Any, worker: Any) -> None:
    """认领: a grid worker took a household on."""
    event_record(
        kind="claim.made",
        region_code=household.region_code,
        data={"household": household.code, "grid": worker.grid.code, "worker": worker.pk},
    )


def import_finished(job: Any, status: str, report: dict[str, Any]) -> None:
    """A bulk import ended: its kind, outcome and counts (the rows themselves are the cases' own events)."""
    counts = {k: v for k, v in report.items() if isinstance(v, int | str | bool | None)}
    scope = [p for p in job.created_by.jurisdictions.values_list("prefix", flat=True)]
    event_record(
        kind="import.finished",
        region_code=min(scope, key=len) if scope else "",
        data={"job": job.pk, "kind": job.kind, "status": status, "dry_run": job.dry_run, "report": counts},
    )


def sms_receipt_keep(*, case: Case, code: str) -> None:
    """Keep a portal case's receipt code (encrypted) for its 'accepted' notice; removed once sent."""
    SmsReceipt.objects.update_or_create(case=case, defaults={"code": code})


# A reply that stops the notices, or starts them again; compared without spaces, punctuation or case.
SMS_STOP_WORDS = frozenset({"TD", "T", "N", "STOP", "退订", "退", "取消"})
SMS_START_WORDS = frozenset({"KT", "开通", "恢复", "订阅", "START"})


def normalized_phone(phone: str) -> str:
    """The 11 digits of a mainland mobile number (+86 and separators dropped); a 422 on `phone` otherwise."""
    digits = "".join(c for c in phone.strip() if c.isdigit())
    if digits.startswith("86") and len(digits) == 13:  # +86 as gateways send it
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1") or len(phone.strip()) > 20:
        raise ValidationError({"phone": [_("手机号应为 11 位数字。")]})
    return digits


def sms_opt_set(*, phone: str, opt_out: bool, actor: Any, via: str, request: HttpRequest | None = None) -> str:
    """Stop or restart a phone's SMS notices (`via`: reply, staff); audited with the phone masked.

    Returns the masked phone. An opted-out phone's queued notices are marked 已退订 when their turn
    comes (notices.py); nothing else about the phone is kept.
    """
    number = normalized_phone(phone)
    with transaction.atomic():
        sms_preference_set(phone=number, opt_out=opt_out)
        audit_record(
            action=AuditEntry.Action.CONFIG_CHANGED,
            actor=actor,
            target="sms_preference",
            request=request,
            detail={"phone": mask_phone(number), "opted_out": opt_out, "via": via},
        )
    return mask_phone(number)


def sms_reply_handle(*, phone: str, text: str, actor: Any, request: HttpRequest | None = None) -> str:
    """A party's reply to a notice, as the gateway passes it on: TD/退订 stops, KT/恢复 restarts.

    Returns what was done: `opted_out`, `opted_in`, or `ignored` for any other reply (nothing kept).
    """
    number = normalized_phone(phone)
    word = "".join(c for c in text.upper() if c.isalnum())[:20]
    if word in SMS_STOP_WORDS:
        sms_opt_set(phone=number, opt_out=True, actor=actor, via="reply", request=request)
        return "opted_out"
    if word in SMS_START_WORDS:
        sms_opt_set(phone=number, opt_out=False, actor=actor, via="reply", request=request)
        return "opted_in"
    return "ignored"


def sms_opted_out(phone: str) -> bool:
    """Whether the phone has stopped the notices."""
    index = blind_index(f"phone:{normalized_phone(phone)}")
    return SmsPreference.objects.filter(phone_index=index, opted_out_at__isnull=False).exists()


def sms_preference_set(*, phone: str, language: str | None = None, opt_out: bool | None = None) -> None:
    """A phone's language for notices, or its opt-out (TD); keyed by the phone's keyed hash."""
    changes: dict[str, Any] = {}
    if language is not None:
        changes["language"] = language
    if opt_out is not None:
        changes["opted_out_at"] = timezone.now() if opt_out else None
    SmsPreference.objects.update_or_create(phone_index=blind_index(f"phone:{phone}"), defaults=changes)
