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

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

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
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change (escalate)
    actors: tuple[str, ...]  # case roles allowed: intake, director, handler, lead
    needs_reason: bool = False


def _t(
    action: str, label: str, sources: tuple[str, ...], target: str | None, actors: tuple[str, ...], **kw: Any
) -> Transition:
    return Transition(action, label, sources, target, actors, **kw)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", _("受理"), (State.REGISTERED,), State.ACCEPTED, ("intake", "director")),
        _t("reject", _("不予受理"), (State.REGISTERED,), State.REJECTED, ("intake", "director"), needs_reason=True),
        _t("assign", _("分流指派"), (State.ACCEPTED,), State.ASSIGNED, ("director",)),
        _t("sign_for", _("签收"), (State.ASSIGNED,), State.IN_PROGRESS, ("handler",)),
        _t("return", _("退回"), (State.ASSIGNED, State.IN_PROGRESS), State.ACCEPTED, ("handler",), needs_reason=True),
        _t("resolve", _("化解成功"), (State.IN_PROGRESS,), State.RESOLVED, ("lead", "director")),
        _t("fail", _("化解不成"), (State.IN_PROGRESS,), State.UNRESOLVED, ("lead", "director"), needs_reason=True),
        _t("close", _("结案"), (State.RESOLVED, State.UNRESOLVED), State.CLOSED, ("director",)),
        _t("refer_court", _("转速裁法庭"), (State.UNRESOLVED,), State.CLOSED, ("director", "lead")),
        _t(
            "escalate",
            _("上提"),
            (State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS),
            None,
            ("director",),
            needs_reason=True,
        ),
        _t("withdraw", _("撤回"), OPEN_STATES, State.WITHDRAWN, ("intake", "director"), needs_reason=True),
        _t("reopen", _("重新办理"), (State.CLOSED,), State.ACCEPTED, ("director",), needs_reason=True),
        # Only the historical-disputes import takes this step (no case role is "import", so no page or API
        # offers it): a ledger case was handled by its center before the platform, never pushed to an org,
        # so it reaches 办理中 without 分流指派 and 签收 that never happened.
        _t("ledger_handle", _("台账记载办理"), (State.ACCEPTED,), State.IN_PROGRESS, ("import",)),
    ]
}


def allowed_actions(case: Case, case_roles: set[str]) -> list[Transition]:
    """The transitions this user may perform on the case now."""
    return [t for t in TRANSITIONS.values() if case.state in t.sources and case_roles & set(t.actors)]


def check(case: Case, action: str, case_roles: set[str], reason: str) -> Transition:
    """The transition, or the Chinese reason it cannot happen (PermissionDenied / ValidationError)."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError({"action": [_("未知操作“%(a)s”。") % {"a": action}]})
    if not case_roles & set(transition.actors):
        raise PermissionDenied(_("您无权对该案件执行“%(a)s”。") % {"a": transition.label})
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
    return transition


def perform(
    *,
    case: Case,
    action: str,
    actor: Any,
    version: int,
    case_roles: set[str],
    reason: str = "",
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> Case:
    """Check and apply one transition inside the caller's transaction; writes its CaseEvent.

    `changes` are extra column updates made in the same conditional UPDATE; `at` backdates the event
    (history recorded from a ledger), now by default.
    """
    if case.version != version:
        raise Conflict(case)
    transition = check(case, action, case_roles, reason)
    now = at or timezone.now()
    updates: dict[str, Any] = {"version": F("version") + 1, **(changes or {})}
    if transition.target is not None:
        updates["state"] = transition.target
    # No savepoint: inside a service's transaction a failure here must undo the whole action anyway.
    with transaction.atomic(savepoint=False):
        changed = Case.objects.filter(pk=case.pk, version=version, state=case.state).update(**updates)
        if not changed:
            case.refresh_from_db()
            if case.version != version:
                raise Conflict(case)
            check(case, action, case_roles, reason)  # the state moved under us: say why it no longer fits
            raise Conflict(case)
        from_state = case.state
        # The row now holds exactly what we wrote: mirror it instead of reading it back.
        case.version = version + 1
        if transition.target is not None:
            case.state = transition.target
        for name, value in (changes or {}).items():
            setattr(case, name, value)
        events.record(
            case=case,
            kind=action,
            actor=actor,
            at=now,
            from_state=from_state,
            to_state=case.state,
            data={**(data or {}), **({"reason": reason} if reason else {})},
        )
    return case
