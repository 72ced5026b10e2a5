"""Writing to the outbox (inside the change's transaction) and publishing it (after commit).

Writers call `event_record` (visits, claims, imports, the clock's events); every case event arrives
through `case_event_recorded`, which the app registers on the case core (`events.subscribe_appended`).
Once the writer's transaction commits, the task worker is woken (`_after_commit`) to publish, fan out
and send; the feed publishes on its own as well, so it never waits for the worker.
"""

import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases import events as case_events
from zongzhi.cases.models import Case, CaseEvent, Supervision
from zongzhi.crypto import blind_index
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
    return Supervision.objects.filter(case_id=case.pk).exists()


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


def sms_preference_set(*, phone: str, language: str | None = None, opt_out: bool | None = None) -> None:
    """A phone's language for notices, or its opt-out (TD); keyed by the phone's keyed hash."""
    changes: dict[str, Any] = {}
    if language is not None:
        changes["language"] = language
    if opt_out is not None:
        changes["opted_out_at"] = timezone.now() if opt_out else None
    SmsPreference.objects.update_or_create(phone_index=blind_index(f"phone:{phone}"), defaults=changes)
