"""Timeline events: one small dataclass per kind, appended by the services, rendered by the UI.

A service builds the event it means (`events.Assigned(lead=…, co=…, deadline=…)`) and hands it to
`workflow.perform` (state changes) or `events.append` (everything else). The dataclass is the only
place an event's data is shaped, so the timeline, the portal and the statistics read one format.

Other apps follow every change to a case by subscribing (`subscribe`): the dashboards keep their
rollups current this way, without the case core importing them.
"""

import contextlib
import contextvars
import dataclasses
import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zongzhi.cases.models import Case, CaseEvent, State

LABELS: dict[str, Any] = {}
_subscribers: list[Callable[[int, str], None]] = []
_observers: list[Callable[[CaseEvent], Any]] = []
_appended: list[Callable[[Case, CaseEvent], None]] = []


def subscribe(listener: Callable[[int, str], None]) -> None:
    """Call `listener(case_id, region_code)` inside the transaction of every event appended (app `ready()`
    registers)."""
    if listener not in _subscribers:
        _subscribers.append(listener)


def observe(listener: Callable[[CaseEvent], Any]) -> None:
    """Call `listener(event_row)` inside the transaction of every event appended, once its row is written,
    except a historical ledger's (`imported`); the audit app's `ready()` registers the audit chain's."""
    if listener not in _observers:
        _observers.append(listener)


def subscribe_appended(listener: Callable[[Case, CaseEvent], None]) -> None:
    """Call `listener(case, row)` inside the transaction after each event row is written (the outbox)."""
    if listener not in _appended:
        _appended.append(listener)


_deferred: contextvars.ContextVar[set[tuple[int, str]] | None] = contextvars.ContextVar("deferred_cases", default=None)


@contextlib.contextmanager
def follow_once() -> Iterator[None]:
    """Inside (a service's transaction), subscribers follow each case once at the end instead of after
    each of its events: for a service that writes many events of one case at once (a ledger's history).
    The rollups end the same, since each follow-up recounts the case from the source tables."""
    if _deferred.get() is not None:  # nested: the outer one follows
        yield
        return
    pending: set[tuple[int, str]] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    for case_id, region_code in sorted(pending):  # not reached when the body raised: its transaction is undone
        for listener in _subscribers:
            listener(case_id, region_code)


@dataclasses.dataclass(frozen=True)
class Event:
    """What happened to a case; subclasses name their kind and carry their data."""

    kind: ClassVar[str] = ""
    label: ClassVar[Any] = ""
    # Written by the import of a historical ledger: a re-import tells its own history from the platform's.
    imported: bool | None = dataclasses.field(default=None, kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            LABELS[cls.kind] = cls.label

    def data(self) -> dict[str, Any]:
        """The JSON stored on the event row: the fields, dates as ISO strings, amounts as text."""
        return {f.name: _json(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _json(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


# ---- state changes (through workflow.perform; kind == the transition's action) -----------------


@dataclasses.dataclass(frozen=True)
class Transition(Event):
    """A change of state; `reason` is what the actor gave (required by some transitions)."""

    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Accepted(Transition):
    kind = "accept"
    label = _("受理")


@dataclasses.dataclass(frozen=True)
class Rejected(Transition):
    kind = "reject"
    label = _("不予受理")


@dataclasses.dataclass(frozen=True)
class Withdrawn(Transition):
    kind = "withdraw"
    label = _("撤回")


@dataclasses.dataclass(frozen=True)
class Reopened(Transition):
    kind = "reopen"
    label = _("重新办理")


@dataclasses.dataclass(frozen=True)
class Assigned(Transition):
    kind = "assign"
    label = _("分流指派")
    lead: str = ""
    co: tuple[str, ...] = ()
    deadline: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True)
class SignedFor(Transition):
    """签收 by the lead (a transition) or by a co-handler (`append`, no state change)."""

    kind = "sign_for"
    label = _("签收")
    org: str = ""
    role: str = ""


@dataclasses.dataclass(frozen=True)
class Returned(Transition):
    """退回 by the lead (back to the center) or by a co-handler (its part only)."""

    kind = "return"
    label = _("退回")
    org: str = ""
    role: str = ""


@dataclasses.dataclass(frozen=True)
class Transferred(Transition):
    kind = "transfer"
    label = _("转办")
    from_org: str = ""
    to: str = ""
    deadline: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True)
class Resolved(Transition):
    kind = "resolve"
    label = _("化解成功")
    agreement: bool = False


@dataclasses.dataclass(frozen=True)
class Failed(Transition):
    kind = "fail"
    label = _("化解不成")
    guidance: str = ""


@dataclasses.dataclass(frozen=True)
class Closed(Transition):
    kind = "close"
    label = _("结案")
    outcome: str = ""
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ReferredToCourt(Transition):
    kind = "refer_court"
    label = _("转速裁法庭")
    court: str = ""


@dataclasses.dataclass(frozen=True)
class LedgerHandled(Transition):
    """The import's own step (`workflow.LEDGER_TRANSITIONS`): handled by the ledger's center."""

    kind = "ledger_handle"
    label = _("台账记载办理")


@dataclasses.dataclass(frozen=True)
class Escalated(Transition):
    kind = "escalate"
    label = _("上提")
    from_center: str = ""
    to: str = ""
    major: bool = False
    due_at: datetime.datetime | None = None
    lead: str = ""  # kept until the receiving center's director keeps or changes it


# ---- records that change no state (through `append`) --------------------------------------------


@dataclasses.dataclass(frozen=True)
class Registered(Event):
    kind = "intake"
    label = _("登记")
    channel: str
    risk: str
    due_at: datetime.datetime | None = None  # the acceptance deadline
    risk_reasons: tuple[str, ...] = ()
    repeats: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    original_number: str = ""  # the ledger's own number, for imported cases


@dataclasses.dataclass(frozen=True)
class LeadKept(Event):
    """After 上提 the receiving center's director keeps the lead org (optionally with a new deadline)."""

    kind = "lead_kept"
    label = _("维持承办单位")
    org: str
    center: str
    deadline: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True)
class CoHandlerAdded(Event):
    kind = "co_handler"
    label = _("增加协办单位")
    org: str
    deadline: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True)
class PartDone(Event):
    """A co-handler (联合调处) records what it did and finishes its part."""

    kind = "part_done"
    label = _("协办完成")
    org: str
    part: str


@dataclasses.dataclass(frozen=True)
class CoordinationRequested(Event):
    kind = "coordination"
    label = _("请求协调")
    from_org: str
    to: str
    message: str


@dataclasses.dataclass(frozen=True)
class CoordinationReplied(Event):
    kind = "coordination_reply"
    label = _("协调答复")
    org: str
    reply: str


@dataclasses.dataclass(frozen=True)
class RoomBooked(Event):
    kind = "booking"
    label = _("预约功能室")
    room: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class SessionHeld(Event):
    kind = "session"
    label = _("调解")
    held_at: datetime.datetime
    place: str
    mediators: str


@dataclasses.dataclass(frozen=True)
class AgreementSigned(Event):
    kind = "agreement"
    label = _("达成调解协议")
    amount: Decimal | None
    instalments: int = 0


@dataclasses.dataclass(frozen=True)
class InstalmentPaid(Event):
    kind = "instalment_paid"
    label = _("履行登记")
    due_on: datetime.date
    paid: Decimal
    receipt: str
    remaining: Decimal | None = None  # what the instalment still owes after this payment


@dataclasses.dataclass(frozen=True)
class CourtReferred(Event):
    """诉调对接: a 司法确认 request (a referral to litigation is the `refer_court` transition)."""

    kind = "court_referral"
    label = _("诉调对接")
    court: str
    referral: str


@dataclasses.dataclass(frozen=True)
class CourtDecided(Event):
    kind = "court_result"
    label = _("司法确认结果")
    result: str
    result_label: str
    note: str = ""


@dataclasses.dataclass(frozen=True)
class FollowedUp(Event):
    kind = "follow_up"
    label = _("回访")
    satisfaction: str
    performance: str


@dataclasses.dataclass(frozen=True)
class SupervisionIssued(Event):
    kind = "supervision"
    label = _("督办")
    document: str
    name: str
    number: str
    target: str
    reason: str
    issuer: str = ""


@dataclasses.dataclass(frozen=True)
class SupervisionReplied(Event):
    kind = "supervision_reply"
    label = _("督办反馈")
    number: str
    reply: str


@dataclasses.dataclass(frozen=True)
class SupervisionAssessed(Event):
    kind = "supervision_assessed"
    label = _("督办问效")
    number: str
    effect: str


@dataclasses.dataclass(frozen=True)
class DeadlineRenewed(Event):
    kind = "deadline"
    label = _("重新计算办理期限")
    due_at: datetime.datetime
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class AttachmentAdded(Event):
    kind = "attachment"
    label = _("上传附件")
    name: str
    type: str


@dataclasses.dataclass(frozen=True)
class CaseLinked(Event):
    kind = "link"
    label = _("关联案件")
    number: str


@dataclasses.dataclass(frozen=True)
class LedgerCorrected(Event):
    """台账更正: a re-import corrected what the ledger says of a case the platform has not handled."""

    kind = "ledger_correction"
    label = _("台账更正")
    fields: tuple[str, ...] = ()
    parties: int = 0


# Kinds written only by the demo's history (bulk-loaded, see zongzhi/demo/case_history).
LABELS.setdefault("reminder", _("到期提醒"))
LABELS.setdefault("risk_override", _("调整风险等级"))


def append(
    case: Case,
    event: Event,
    *,
    actor: Any,
    at: datetime.datetime,
    from_state: str = "",
    to_state: str = "",
) -> CaseEvent:
    """Append one event to the case's timeline (inside the service's transaction); subscribers follow.

    Observers (the audit chain) see the row in the same transaction: this is the one place every change
    to a case passes, whoever makes it (pages, API, the field app, the portal, the sweep). A historical
    ledger's events (`imported`) are not observed: the import's own audit entry records the run.
    """
    if (pending := _deferred.get()) is not None:
        pending.add((case.pk, case.region_code))
    else:
        for listener in _subscribers:
            listener(case.pk, case.region_code)
    with transaction.atomic(savepoint=False):  # the caller's transaction when there is one
        row = CaseEvent.objects.create(
            case=case,
            region_code=case.region_code,
            kind=event.kind,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=(getattr(actor, "full_name", "") or actor.get_username())
            if getattr(actor, "pk", None)
            else "系统",
            at=at,
            from_state=from_state,
            to_state=to_state or from_state or case.state,
            version=case.version,
            data={k: v for k, v in event.data().items() if v not in ("", None, [], ())},
        )
        if not event.imported:
            for observer in _observers:
                observer(row)
        for appended in _appended:
            appended(case, row)
    return row


def label(event: CaseEvent) -> str:
    return str(LABELS.get(event.kind, event.kind))


def state_label(state: str) -> str:
    return str(State(state).label) if state in State.values else state
