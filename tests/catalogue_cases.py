"""Cases prepared for each catalogue action, and one body per action, for the agreement tests.

`prepare(name)` writes (through the services, committed) a case in which the action is available
to at least one persona; `BODIES[name](case)` is a valid body for it.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tests.test_case_lifecycle import register, who
from zongzhi.accounts.models import User
from zongzhi.cases import services
from zongzhi.cases.models import Case, CourtReferral, Instalment, Party, Supervision
from zongzhi.centers.models import Center, Org, Room

LEAD = "152502-D05"  # 锡林浩特市司法局: demo-liaison's
CO = "152502-BR1"  # the brand mediation room: demo-mediator's
COURT = "152502-FTC"  # the fast-track court: demo-judge's


def _org(code: str) -> Org:
    return Org.objects.get(code=code)


def registered() -> Case:
    return register()


def accepted() -> Case:
    case = register()
    return services.case_accept(case=case, actor=who("intake"), version=case.version)


def assigned() -> Case:
    case = accepted()
    return services.case_assign(case=case, actor=who("director"), version=case.version, lead=_org(LEAD), co=[_org(CO)])


def in_progress() -> Case:
    case = assigned()
    return services.case_sign_for(case=case, actor=who("liaison"), version=case.version)


def escalated_to_xilinhot() -> Case:
    """Handled at a township, then 上提 to the Xilinhot center: it waits on demo-director to keep the lead."""
    township = User.objects.get(username="director-152502001")
    case = register(center=Center.objects.get(code="ZZ-152502001"))
    case = services.case_accept(case=case, actor=who("intake"), version=case.version)
    case = services.case_assign(case=case, actor=township, version=case.version, lead=_org(LEAD))
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    return services.case_escalate(case=case, actor=township, version=case.version, reason="跨苏木纠纷")


def co_signed() -> Case:
    case = in_progress()
    return services.case_sign_for(case=case, actor=who("mediator"), version=case.version)


def asked() -> Case:
    case = in_progress()
    services.coordination_request(case=case, actor=who("liaison"), to_org=_org(COURT), message="请法官提前介入")
    return Case.objects.get(pk=case.pk)


def supervised() -> Case:
    case = in_progress()
    services.supervision_issue(case=case, actor=who("leader"), kind="handover", reason="请加快办理")
    return Case.objects.get(pk=case.pk)


def replied() -> Case:
    case = supervised()
    supervision = case.supervisions.get()
    services.supervision_reply(case=case, actor=who("liaison"), supervision=supervision, reply="已约谈双方")
    return Case.objects.get(pk=case.pk)


def resolved() -> Case:
    case = in_progress()
    today = timezone.localdate()
    return services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="拖欠草场租金。",
        terms="分两期付清。",
        amount="2000",
        performance_method="银行转账",
        performance_due=today + datetime.timedelta(days=60),
        signed_on=today,
        instalments=[
            services.InstalmentInput(today + datetime.timedelta(days=30), Decimal(1000)),
            services.InstalmentInput(today + datetime.timedelta(days=60), Decimal(1000)),
        ],
    )


def confirming() -> Case:
    case = resolved()
    services.confirmation_request(case=case, actor=who("director"))
    return Case.objects.get(pk=case.pk)


def unresolved() -> Case:
    case = in_progress()
    return services.case_fail(
        case=case, actor=who("liaison"), version=case.version, guidance="litigation", reason="分歧大"
    )


def closed() -> Case:
    case = resolved()
    return services.case_close(case=case, actor=who("director"), version=case.version)


PREPARED: dict[str, Callable[[], Case]] = {
    "accept": registered,
    "reject": registered,
    "assign": accepted,
    "sign_for": assigned,
    "return": assigned,
    "transfer": in_progress,
    "co_handler": in_progress,
    "part_done": co_signed,
    "coordination": in_progress,
    "coordination_reply": asked,
    "booking": in_progress,
    "session": in_progress,
    "resolve": in_progress,
    "fail": in_progress,
    "close": resolved,
    "refer_court": unresolved,
    "escalate": accepted,
    "keep_lead": escalated_to_xilinhot,
    "withdraw": accepted,
    "reopen": closed,
    "payment": resolved,
    "confirmation": resolved,
    "court_decision": confirming,
    "follow_up": closed,
    "supervise": in_progress,
    "supervision_reply": supervised,
    "supervision_assess": replied,
    "attachment": registered,
    "link": registered,
    "unmask": registered,
}


def _later(hours: int) -> str:
    return (timezone.localtime() + datetime.timedelta(days=3, hours=hours)).strftime("%Y-%m-%dT%H:%M")


_slot = iter(range(0, 10_000, 3))


def _booking(case: Case) -> dict[str, Any]:
    room = (
        Room.objects.filter(center=case.center, kind="mediation").first()
        or Room.objects.filter(center=case.center).exclude(kind__in=["window", "dispatch_hall"]).first()
    )
    assert room is not None
    hours = next(_slot)  # every booking its own slot: the pair of cases must not clash with each other
    return {"room": room.pk, "starts_at": _later(hours), "ends_at": _later(hours + 1)}


def _first(model: Any, **filters: Any) -> int:
    found = model.objects.filter(**filters).order_by("id").first()
    assert found is not None, (model, filters)
    return int(found.pk)


BODIES: dict[str, Callable[[Case], dict[str, Any]]] = {
    "accept": lambda c: {},
    "reject": lambda c: {"reason": "不属于受理范围"},
    "assign": lambda c: {"lead": LEAD, "co": [CO], "handle_days": 20},
    "sign_for": lambda c: {},
    "return": lambda c: {"reason": "不属于本单位职责"},
    "transfer": lambda c: {"to_org": "152502-D08", "reason": "涉及土地确权"},
    "co_handler": lambda c: {"org": "152502-D08"},
    "part_done": lambda c: {"part": "已协助核实草场面积。"},
    "coordination": lambda c: {"to_org": COURT, "message": "请协助释法"},
    "coordination_reply": lambda c: {"coordination": _first(c.coordination_requests.model, case=c), "reply": "可以"},
    "booking": _booking,
    "session": lambda c: {
        "held_at": (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place_kind": "on_site",
        "place": "牧户家中",
        "mediators": "调解员甲",
        "record": "双方同意再协商。",
    },
    "resolve": lambda c: {"note": "双方和解，口头协议。"},
    "fail": lambda c: {"guidance": "arbitration", "reason": "双方不同意调解"},
    "close": lambda c: {"note": "协议已签"},
    "refer_court": lambda c: {"reason": "转诉讼"},
    "escalate": lambda c: {"reason": "涉及多个苏木"},
    "keep_lead": lambda c: {"handle_days": 10},
    "withdraw": lambda c: {"reason": "申请人撤回"},
    "reopen": lambda c: {"reason": "当事人反映协议未履行"},
    "payment": lambda c: {
        "instalment": _first(Instalment, agreement__case=c),
        "paid_on": timezone.localdate().isoformat(),
        "paid_amount": "1000",
        "receipt": "R-1",
    },
    "confirmation": lambda c: {},
    "court_decision": lambda c: {"referral": _first(CourtReferral, case=c), "result": "confirmed"},
    "follow_up": lambda c: {"method": "电话", "performance": "performed", "satisfaction": "satisfied"},
    "supervise": lambda c: {"kind": "handover", "reason": "请加快办理", "days": 5},
    "supervision_reply": lambda c: {"supervision": _first(Supervision, case=c), "reply": "已约谈双方"},
    "supervision_assess": lambda c: {"supervision": _first(Supervision, case=c), "effect": "effective"},
    "attachment": lambda c: {},
    # The oldest Xilinhot case: never one of the twins (links are symmetrical).
    "link": lambda c: {"other": Case.objects.filter(region_code__startswith="152502").order_by("id").first().number},  # type: ignore[union-attr]
    "unmask": lambda c: {"party": _first(Party, case=c, role="applicant"), "reason": "电话通知"},
}
