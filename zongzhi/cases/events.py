"""Timeline events: written by the services, rendered by the UI and counted by statistics."""

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from zongzhi.cases.models import Case, CaseEvent, State

LABELS: dict[str, Any] = {
    "intake": _("登记"),
    "accept": _("受理"),
    "reject": _("不予受理"),
    "assign": _("分流指派"),
    "sign_for": _("签收"),
    "return": _("退回"),
    "transfer": _("转办"),
    "resolve": _("化解成功"),
    "fail": _("化解不成"),
    "close": _("结案"),
    "refer_court": _("转速裁法庭"),
    "escalate": _("上提"),
    "withdraw": _("撤回"),
    "reopen": _("重新办理"),
    "co_handler": _("增加协办单位"),
    "coordination": _("请求协调"),
    "coordination_reply": _("协调答复"),
    "booking": _("预约功能室"),
    "session": _("调解"),
    "agreement": _("达成调解协议"),
    "instalment_paid": _("履行登记"),
    "court_referral": _("诉调对接"),
    "court_result": _("司法确认结果"),
    "follow_up": _("回访"),
    "supervision": _("督办"),
    "supervision_reply": _("督办反馈"),
    "supervision_assessed": _("督办问效"),
    "reminder": _("到期提醒"),
    "deadline": _("重新计算办理期限"),
    "attachment": _("上传附件"),
    "risk_override": _("调整风险等级"),
    "link": _("关联案件"),
    "ledger_handle": _("台账记载办理"),
    "ledger_correction": _("台账更正"),
}


_deferred: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("deferred_rollups", default=None)


@contextlib.contextmanager
def rollups_once() -> Iterator[None]:
    """Inside (a service's transaction), the rollups follow each case once at the end rather than after
    each of its events: for a service writing many events of one case at once (a ledger's history).
    The tallies end the same, since each follow-up recounts the case from the source tables."""
    if _deferred.get() is not None:  # nested: the outer one follows
        yield
        return
    from zongzhi.dashboards.rollups import case_changed

    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    for case_id in sorted(pending):  # not reached when the body raised: its transaction is undone anyway
        case_changed(case_id)


def record(
    *,
    case: Case,
    kind: str,
    actor: Any,
    at: datetime.datetime,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event to the case's timeline (call inside the service's transaction).

    Every change to a case is followed by its event, so this is where the rollups follow it.
    """
    from zongzhi.dashboards.rollups import case_changed

    if (pending := _deferred.get()) is not None:
        pending.add(case.pk)
    else:
        case_changed(case.pk)
    return CaseEvent.objects.create(
        case=case,
        region_code=case.region_code,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=(getattr(actor, "full_name", "") or actor.get_username()) if getattr(actor, "pk", None) else "系统",
        at=at,
        from_state=from_state,
        to_state=to_state or from_state or case.state,
        version=case.version,
        data=data or {},
    )


def ledger_corrected(*, case: Case, actor: Any, at: datetime.datetime, fields: list[str], parties: int) -> CaseEvent:
    """台账更正: a re-import corrected what the ledger says of a case the platform has not handled."""
    return record(
        case=case,
        kind="ledger_correction",
        actor=actor,
        at=at,
        data={"imported": True, "fields": fields, "parties": parties},
    )


def label(event: CaseEvent) -> str:
    return str(LABELS.get(event.kind, event.kind))


def state_label(state: str) -> str:
    return str(State(state).label) if state in State.values else state
