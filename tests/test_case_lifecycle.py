"""A dispute from the window to the follow-up call, through the services, as the personas do it.

The intake clerk registers and accepts; the director pushes it to 司法局 (lead, demo-liaison) with
the brand mediation room (co-handler, demo-mediator); the liaison signs for it, mediates and
records the agreement; the director closes; the clerk calls back.
"""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zongzhi.accounts.models import User
from zongzhi.cases import services
from zongzhi.cases.models import Assignment, Case, CaseEvent, Category, State
from zongzhi.cases.services import InstalmentInput, PartyInput
from zongzhi.cases.workflow import Conflict
from zongzhi.centers.models import Org
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region

APPLICANT_ID = make_resident_id("152502", datetime.date(1978, 5, 4), 123)
RESPONDENT_ID = make_resident_id("152502", datetime.date(1982, 11, 9), 456)


def who(name: str) -> User:
    return User.objects.get(username=f"demo-{name}")


def village() -> Region:
    region = Region.objects.filter(level="village", code__startswith="152502").order_by("code").first()
    assert region is not None
    return region


def register(**overrides) -> Case:  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {
        "actor": who("intake"),
        "channel": Case.Channel.WINDOW,
        "category": Category.objects.get(code="grassland"),
        "title": "草场边界纠纷",
        "description": "两户牧民因冬季草场围栏位置发生争执，要求重新确认边界。",
        "region": village(),
        "parties": [
            PartyInput(kind="person", role="applicant", name="巴特尔", id_number=APPLICANT_ID, phone="13804790001"),
            PartyInput(kind="person", role="respondent", name="其其格", id_number=RESPONDENT_ID),
        ],
        "amount": "12000",
        "people_involved": 2,
    }
    fields.update(overrides)
    return services.case_intake(**fields)


@pytest.mark.django_db
def test_the_whole_lifecycle() -> None:
    case = register()
    today = timezone.localdate()
    assert case.number.startswith(f"152502{today:%Y%m%d}") and len(case.number) == 18
    assert case.state == State.REGISTERED and case.owner == who("intake")
    assert case.parties.get(role="applicant").id_number == APPLICANT_ID

    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    justice, brand = Org.objects.get(code="152502-D05"), Org.objects.get(code="152502-BR1")
    case = services.case_assign(case=case, actor=who("director"), version=case.version, lead=justice, co=[brand])
    assert case.state == State.ASSIGNED and case.due_at is not None
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    assert case.state == State.IN_PROGRESS
    case = services.case_sign_for(case=case, actor=who("mediator"), version=case.version)
    assert set(case.assignments.values_list("status", flat=True)) == {Assignment.Status.SIGNED}

    services.session_record(
        case=case,
        actor=who("liaison"),
        held_at=timezone.now(),
        place_kind="station",
        place="图古日格嘎查蒙古包调解驿站",
        mediators="演示·司法局联络员、那日苏",
        record="双方同意按原承包图重新立桩。",
    )
    case = services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="冬季草场围栏越界约 30 米。",
        terms="一、被申请人于三十日内将围栏移回原界；二、补偿申请人草料款 6000 元。",
        amount="6000",
        performance_method="分两期转账",
        performance_due=today + datetime.timedelta(days=30),
        signed_on=today,
        instalments=[
            InstalmentInput(today + datetime.timedelta(days=10), Decimal("3000")),
            InstalmentInput(today + datetime.timedelta(days=30), Decimal("3000")),
        ],
    )
    assert case.state == State.RESOLVED and case.agreement.instalments.count() == 2
    case = services.case_close(case=case, actor=who("director"), version=case.version)
    assert case.state == State.CLOSED and case.closed_at is not None
    services.follow_up_record(
        case=case, actor=who("intake"), method="电话", performance="performed", satisfaction="satisfied"
    )

    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == [
        "intake",
        "accept",
        "assign",
        "sign_for",
        "sign_for",
        "session",
        "agreement",
        "resolve",
        "close",
        "follow_up",
    ]
    versions = list(CaseEvent.objects.filter(case=case).values_list("version", flat=True))
    assert versions == sorted(versions)


@pytest.mark.django_db
def test_a_stale_version_is_a_conflict_and_changes_nothing() -> None:
    case = register()
    stale = case.version
    services.case_act(case=case, action="accept", actor=who("intake"), version=stale)
    with pytest.raises(Conflict):
        services.case_act(case=case, action="reject", actor=who("director"), version=stale, reason="重复")
    case.refresh_from_db()
    assert case.state == State.ACCEPTED
    assert CaseEvent.objects.filter(case=case).count() == 2


@pytest.mark.django_db
def test_actions_not_allowed_say_why() -> None:
    case = register()
    with pytest.raises(ValidationError) as error:
        services.case_act(case=case, action="reopen", actor=who("director"), version=case.version, reason="x")
    assert "不能执行“重新办理”" in str(error.value)
    with pytest.raises(PermissionDenied):
        services.case_act(case=case, action="accept", actor=who("liaison"), version=case.version)
    with pytest.raises(ValidationError) as error:
        services.case_act(case=case, action="reject", actor=who("intake"), version=case.version)
    assert "必须填写理由" in str(error.value)


@pytest.mark.django_db
def test_bad_intake_is_refused_with_field_messages_and_nothing_written() -> None:
    before = Case.objects.count()
    with pytest.raises(ValidationError) as error:
        register(
            amount="-5",
            occurred_on=timezone.localdate() + datetime.timedelta(days=3),
            parties=[PartyInput(kind="person", role="applicant", name="张三", id_number="152502197805041230")],
        )
    fields = error.value.message_dict
    assert "不能为负数" in fields["amount"][0]
    assert "晚于今天" in fields["occurred_on"][0]
    assert "校验位" in fields["parties.0.id_number"][0]
    with pytest.raises(ValidationError) as error:
        register(region=Region.objects.get(code="152531000000"))
    assert "不在您的辖区内" in error.value.message_dict["region"][0]
    with pytest.raises(ValidationError) as error:
        register(amount="99999999999")
    assert "超出合理范围" in error.value.message_dict["amount"][0]
    assert Case.objects.count() == before


@pytest.mark.django_db
def test_risk_is_suggested_with_reasons_and_overriding_needs_a_reason() -> None:
    case = register(description="对方扬言要带人堵路，三十多户牧民准备集体上访。", people_involved=35)
    assert case.risk_suggested == "red" and case.risk_level == "red" and case.major
    assert any("群体性" in r for r in case.risk_reasons)
    with pytest.raises(ValidationError) as error:
        register(risk_level="blue")
    assert "risk_override_reason" in error.value.message_dict
    lowered = register(risk_level="blue", risk_override_reason="双方已初步和解")
    assert lowered.risk_level == "blue" and lowered.risk_suggested == "yellow"


@pytest.mark.django_db
def test_repeats_are_found_by_party_id_and_similar_description() -> None:
    first = register()
    check = services.intake_check(
        region=village(),
        parties=[PartyInput("person", "applicant", "巴特尔", APPLICANT_ID)],
        description="完全不同的事",
        amount=None,
        people_involved=1,
    )
    assert [r.case for r in check.repeats] == [first]
    similar = services.find_repeats(region=village(), parties=[], description=first.description + "。")
    assert first in [r.case for r in similar]
    second = register(related=[first])
    assert first in second.related.all()
    assert second.risk_reasons and any("近期已有" in r for r in second.risk_reasons)


@pytest.mark.django_db
def test_return_goes_back_to_the_center_with_a_reason() -> None:
    case = register()
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    case = services.case_assign(
        case=case, actor=who("director"), version=case.version, lead=Org.objects.get(code="152502-D05")
    )
    with pytest.raises(ValidationError):
        services.case_return(case=case, actor=who("liaison"), version=case.version, reason=" ")
    case = services.case_return(
        case=case, actor=who("liaison"), version=case.version, reason="不属于司法局职责，建议自然资源局办理"
    )
    assert case.state == State.ACCEPTED
    assert case.assignments.get().status == Assignment.Status.RETURNED
