"""The case workflow: one table of allowed transitions and one function that performs them.

```
registered ─accept→ accepted ─assign→ assigned ─sign_for→ in_progress ─resolve→ resolved ─close→ closed
     │                 ↑   │                │                   │   └─fail→ unresolved ─refer_court/close→ closed
     └reject→ rejected └───┴──── return ────┘                   └ escalate (level +1, stays in_progress)
 any open state ─withdraw→ withdrawn            closed ─reopen→ accepted (reason required)
 accepted ─ledger_handle→ in_progress   (the historical-disputes import only: handled before the platform)
```
The update is conditional on the version the actor saw (optimistic concurrency, the same on
SQLite and PostgreSQL): a stale version is a `Conflict` (HTTP 409), never a silent overwrite.
"""

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from zongzhi import clock, inputs
from zongzhi.cases import events
from zongzhi.cases.models import OPEN_STATES, Case, State


class Conflict(Exception):
    """The case changed since the actor loaded it (stale version)."""

    def __init__(self, case: Case) -> None:
        super().__init__(
            _("案件 %(n)s 已被他人修改（当前版本 %(v)d），请刷新后重试。") % {"n": case.number, "v": case.version}
        )
        self.case = case


@dataclass(frozen=True)
class Transition:
    """An allowed change of state. Who may perform it is the catalogue's (`access.case_may`)."""

    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change (escalate)
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("accept", _("受理"), (State.REGISTERED,), State.ACCEPTED),
        Transition("reject", _("不予受理"), (State.REGISTERED,), State.REJECTED, needs_reason=True),
        Transition("assign", _("分流指派"), (State.ACCEPTED,), State.ASSIGNED),
        Transition("sign_for", _("签收"), (State.ASSIGNED,), State.IN_PROGRESS),
        Transition("return", _("退回"), (State.ASSIGNED, State.IN_PROGRESS), State.ACCEPTED, needs_reason=True),
        Transition("transfer", _("转办"), (State.ASSIGNED, State.IN_PROGRESS), State.ASSIGNED, needs_reason=True),
        Transition("resolve", _("化解成功"), (State.IN_PROGRESS,), State.RESOLVED),
        Transition("fail", _("化解不成"), (State.IN_PROGRESS,), State.UNRESOLVED, needs_reason=True),
        Transition("close", _("结案"), (State.RESOLVED, State.UNRESOLVED), State.CLOSED),
        Transition("refer_court", _("转速裁法庭"), (State.UNRESOLVED,), State.CLOSED),
        Transition("escalate", _("上提"), (State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS), None, needs_reason=True),
        Transition("withdraw", _("撤回"), OPEN_STATES, State.WITHDRAWN, needs_reason=True),
        Transition("reopen", _("重新办理"), (State.CLOSED,), State.ACCEPTED, needs_reason=True),
    ]
}

# The one transition only the historical-disputes import takes, never offered to anyone (so it is not a
# catalogue action): a ledger case was handled by its center before the platform and never pushed to an
# org, so it reaches 办理中 without the 分流指派 and 签收 that never happened.
LEDGER_TRANSITIONS: dict[str, Transition] = {
    "ledger_handle": Transition("ledger_handle", _("台账记载办理"), (State.ACCEPTED,), State.IN_PROGRESS),
}


def transition_of(action: str) -> Transition | None:
    """The transition an action (or an event's kind) is, if any: the platform's or the import's."""
    return TRANSITIONS.get(action) or LEDGER_TRANSITIONS.get(action)


def check(case: Case, action: str, reason: str) -> Transition:
    """The transition, or the Chinese reason it cannot happen now (ValidationError)."""
    transition = transition_of(action)
    if transition is None:
        raise ValidationError({"action": [_("未知操作“%(a)s”。") % {"a": action}]})
    if case.state not in transition.sources:
        raise ValidationError(
            {
                "action": [
                    _("案件当前状态为“%(s)s”，不能执行“%(a)s”。")
                    % {"s": State(case.state).label, "a": transition.label}
                ]
            }
        )
    if transition.needs_reason and not reason.strip():
        raise ValidationError({"reason": [_("执行“%(a)s”必须填写理由。") % {"a": transition.label}]})
    inputs.check_text(None, {"reason": reason}, labels={"reason": _("理由")})  # kept in the timeline
    return transition


_in_action: contextvars.ContextVar[bool] = contextvars.ContextVar("in_action_transaction", default=False)


@contextlib.contextmanager
def action_transaction() -> Iterator[None]:
    """The one transaction of a whole catalogue action (`actions.run`); the dashboards follow the case once
    at its end (`events.follow_once`), however many events the action appends."""
    with transaction.atomic(), events.follow_once():
        token = _in_action.set(True)
        try:
            yield
        finally:
            _in_action.reset(token)


def atomic() -> transaction.Atomic:
    """A transition service's transaction: its own, or inside an action's (`action_transaction`) a part of
    it without a savepoint of its own: nothing between the two catches a failure, which undoes the whole
    action (and a caller that catches one outside gets the action's own savepoint back)."""
    return transaction.atomic(savepoint=not _in_action.get())


def perform(
    *,
    case: Case,
    event: events.Transition,
    actor: Any,
    version: int,
    changes: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> Case:
    """Apply one transition (the event's kind) inside the caller's transaction; writes its CaseEvent.

    The caller (a service) has checked that the actor may (`access.require_case`). `changes` are
    extra column updates made in the same conditional UPDATE; `at` backdates the event (imports), else it is
    stamped `clock.now()` (the wall clock, or the moment a backfill set with `clock.as_of`).
    """
    action = event.kind
    if case.version != version:
        raise Conflict(case)
    transition = check(case, action, event.reason)
    now = at or clock.now()
    updates: dict[str, Any] = {"version": F("version") + 1, **(changes or {})}
    if transition.target is not None:
        updates["state"] = transition.target
    # No savepoint: inside a service's transaction a failure here must undo the whole action anyway.
    with transaction.atomic(savepoint=False):
        # The region code names the shard the row lives on at national scale (docs/national.md).
        conditional = Case.objects.filter(pk=case.pk, region_code=case.region_code, version=version, state=case.state)
        changed = conditional.update(**updates)
        if not changed:
            case.refresh_from_db(from_queryset=Case.objects.filter(region_code=case.region_code))
            if case.version != version:
                raise Conflict(case)
            check(case, action, event.reason)  # the state moved under us: say why it no longer fits
            raise Conflict(case)
        from_state = case.state
        # The row now holds exactly what we wrote: mirror it instead of reading it back.
        case.version = version + 1
        if transition.target is not None:
            case.state = transition.target
        for name, value in (changes or {}).items():
            setattr(case, name, value)
        events.append(case, event, actor=actor, at=now, from_state=from_state, to_state=case.state)
    return case
