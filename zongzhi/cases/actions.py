"""One entry point for the workflow actions, shared by the HTML pages and the API.

`run_action(case=…, actor=…, action="assign", version=3, params={"lead": "152502-D05"})` parses the
parameters an action needs (org codes, dates, amounts) and calls the service that performs it.
"""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases import services, workflow
from zongzhi.cases.models import Case
from zongzhi.centers.models import Org

ACTIONS = (
    "accept",
    "reject",
    "assign",
    "sign_for",
    "return",
    "transfer",
    "resolve",
    "fail",
    "close",
    "refer_court",
    "escalate",
    "keep_lead",
    "withdraw",
    "reopen",
)


def _org(code: Any, field: str) -> Org:
    org = Org.objects.filter(code=str(code or "").strip()).first()
    if org is None:
        raise ValidationError({field: [_("单位代码“%(c)s”不存在。") % {"c": code or ""}]})
    return org


def _orgs(codes: Any, field: str) -> list[Org]:
    if isinstance(codes, str):
        codes = [c for c in codes.replace("，", ",").split(",") if c.strip()]
    return [_org(code, field) for code in codes or []]


def _date(value: Any, field: str, required: bool = True) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: [_("请填写日期。")]})
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: [_("日期“%(v)s”格式不对，应为 YYYY-MM-DD。") % {"v": value}]}) from None


def _int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: [_("“%(v)s”不是整数。") % {"v": value}]}) from None


def _instalments(value: Any) -> list[services.InstalmentInput]:
    result = []
    for i, item in enumerate(value or []):
        try:
            amount = Decimal(str(item["amount"]))
        except (KeyError, InvalidOperation, TypeError):
            raise ValidationError({f"instalments.{i}.amount": [_("第 %(n)d 期金额无效。") % {"n": i + 1}]}) from None
        due = _date(item.get("due_on"), f"instalments.{i}.due_on")
        assert due is not None
        result.append(services.InstalmentInput(due, amount))
    return result


def run_action(*, case: Case, actor: User, action: str, version: int, params: dict[str, Any]) -> Case:
    """Perform a named workflow action with its parameters; raises what the service raises."""
    reason = str(params.get("reason") or "")
    transition = workflow.TRANSITIONS.get(action)
    if transition is not None and not access.case_roles(actor, case) & set(transition.actors):
        raise PermissionDenied(_("您无权对该案件执行“%(a)s”。") % {"a": transition.label})
    if action in ("accept", "reject", "withdraw", "reopen"):
        return services.case_act(case=case, action=action, actor=actor, version=version, reason=reason)
    if action == "assign":
        return services.case_assign(
            case=case,
            actor=actor,
            version=version,
            lead=_org(params.get("lead"), "lead"),
            co=_orgs(params.get("co"), "co"),
            handle_days=_int(params.get("handle_days"), "handle_days"),
        )
    if action == "sign_for":
        org = _org(params["org"], "org") if params.get("org") else None
        return services.case_sign_for(case=case, actor=actor, version=version, org=org)
    if action == "return":
        org = _org(params["org"], "org") if params.get("org") else None
        return services.case_return(case=case, actor=actor, version=version, reason=reason, org=org)
    if action == "transfer":
        return services.case_transfer(
            case=case,
            actor=actor,
            version=version,
            to_org=_org(params.get("to_org"), "to_org"),
            reason=reason,
            handle_days=_int(params.get("handle_days"), "handle_days"),
        )
    if action == "keep_lead":
        return services.case_lead_keep(
            case=case, actor=actor, version=version, handle_days=_int(params.get("handle_days"), "handle_days")
        )
    if action == "resolve":
        return services.case_resolve(
            case=case,
            actor=actor,
            version=version,
            facts=str(params.get("facts") or ""),
            terms=str(params.get("terms") or ""),
            amount=params.get("amount"),
            performance_method=str(params.get("performance_method") or ""),
            performance_place=str(params.get("performance_place") or ""),
            performance_due=_date(params.get("performance_due"), "performance_due", required=False),
            signed_on=_date(params.get("signed_on"), "signed_on", required=False),
            instalments=_instalments(params.get("instalments")),
            note=str(params.get("note") or ""),
        )
    if action == "fail":
        return services.case_fail(
            case=case, actor=actor, version=version, guidance=str(params.get("guidance") or ""), reason=reason
        )
    if action == "close":
        return services.case_close(case=case, actor=actor, version=version, note=str(params.get("note") or ""))
    if action == "refer_court":
        return services.case_refer_court(case=case, actor=actor, version=version, reason=reason)
    if action == "escalate":
        return services.case_escalate(case=case, actor=actor, version=version, reason=reason)
    raise ValidationError(
        {"action": [_("未知操作“%(a)s”。可用操作：%(all)s") % {"a": action, "all": "、".join(ACTIONS)}]}
    )
