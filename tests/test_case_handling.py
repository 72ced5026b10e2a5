"""The rest of handling a case: rooms, transfer, coordination, court, supervision, escalation, reopening."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.test_case_lifecycle import register, who
from zongzhi.cases import services
from zongzhi.cases.models import Case, CourtReferral, State
from zongzhi.centers.models import Center, Org, Room


def in_progress() -> Case:
    case = register()
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    case = services.case_assign(
        case=case, actor=who("director"), version=case.version, lead=Org.objects.get(code="152502-D05")
    )
    return services.case_sign_for(case=case, actor=who("liaison"), version=case.version)


@pytest.mark.django_db
def test_a_room_cannot_be_booked_twice_or_in_the_past() -> None:
    case = in_progress()
    room = Room.objects.get(center__code="ZZ-152502", kind="fast_track_court")
    start = timezone.now() + datetime.timedelta(days=1)
    services.room_book(
        case=case, actor=who("liaison"), room=room, starts_at=start, ends_at=start + datetime.timedelta(hours=2)
    )
    with pytest.raises(ValidationError) as error:
        services.room_book(
            case=case,
            actor=who("director"),
            room=room,
            starts_at=start + datetime.timedelta(hours=1),
            ends_at=start + datetime.timedelta(hours=3),
        )
    assert "已被预约" in error.value.message_dict["starts_at"][0]
    with pytest.raises(ValidationError):
        services.room_book(
            case=case,
            actor=who("liaison"),
            room=room,
            starts_at=start - datetime.timedelta(days=2),
            ends_at=start - datetime.timedelta(days=2) + datetime.timedelta(hours=1),
        )
    with pytest.raises(ValidationError):
        services.room_book(case=case, actor=who("liaison"), room=room, starts_at=start, ends_at=start)


@pytest.mark.django_db
def test_transfer_and_coordination() -> None:
    case = in_progress()
    with pytest.raises(PermissionDenied):
        services.case_transfer(
            case=case, actor=who("liaison"), version=case.version, to_org=Org.objects.get(code="152502-D08"), reason="x"
        )
    case = services.case_transfer(
        case=case,
        actor=who("director"),
        version=case.version,
        to_org=Org.objects.get(code="152502-D08"),
        reason="涉及劳动报酬，转人社局",
    )
    assert case.state == State.ASSIGNED
    assert case.assignments.get(status="pending").org.code == "152502-D08"
    request = services.coordination_request(
        case=case, actor=who("director"), to_org=Org.objects.get(code="152502-D04"), message="请派出所协助了解情况"
    )
    with pytest.raises(PermissionDenied):
        services.coordination_reply(case=request.case, coordination=request, actor=who("liaison"), reply="好")
    kinds = list(case.events.values_list("kind", flat=True))
    assert "transfer" in kinds and "coordination" in kinds


@pytest.mark.django_db
def test_court_referral_and_judicial_confirmation() -> None:
    case = in_progress()
    today = timezone.localdate()
    case = services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="事实",
        terms="一、赔偿。",
        amount="500",
        performance_method="现金",
        performance_due=today,
        signed_on=today,
    )
    referral = services.confirmation_request(case=case, actor=who("director"))
    with pytest.raises(ValidationError):
        services.confirmation_request(case=case, actor=who("director"))
    with pytest.raises(PermissionDenied):
        services.court_decide(case=referral.case, referral=referral, actor=who("liaison"), result="confirmed")
    services.court_decide(
        case=referral.case, referral=referral, actor=who("judge"), result="confirmed", note="协议合法有效"
    )
    referral.refresh_from_db()
    assert referral.result == CourtReferral.Result.CONFIRMED

    failed = in_progress()
    failed = services.case_fail(
        case=failed, actor=who("liaison"), version=failed.version, guidance="litigation", reason="双方分歧过大"
    )
    closed = services.case_refer_court(case=failed, actor=who("director"), version=failed.version, reason="诉调对接")
    assert closed.state == State.CLOSED and closed.outcome == Case.Outcome.COURT
    assert closed.court_referrals.get().kind == CourtReferral.Kind.LITIGATION


@pytest.mark.django_db
def test_supervision_reply_and_assessment_and_manual_escalation() -> None:
    case = in_progress()
    supervision = services.supervision_issue(case=case, actor=who("leader"), kind="supervision", reason="请加快办理")
    assert supervision.target_org is not None and supervision.target_org.code == "152502-D05"
    with pytest.raises(ValidationError):
        services.supervision_assess(
            case=supervision.case, supervision=supervision, actor=who("leader"), effect="effective"
        )
    services.supervision_reply(case=supervision.case, supervision=supervision, actor=who("liaison"), reply="已约谈双方")
    supervision.refresh_from_db()
    services.supervision_assess(case=supervision.case, supervision=supervision, actor=who("leader"), effect="effective")
    case = Case.objects.get(pk=case.pk)
    escalated = services.case_escalate(case=case, actor=who("director"), version=case.version, reason="跨旗县纠纷")
    assert escalated.center == Center.objects.get(code="ZZ-1525") and escalated.escalations == 1
    assert escalated.due_at is not None and escalated.due_at > timezone.now()


@pytest.mark.django_db
def test_reopening_needs_a_reason_and_goes_back_to_accepted() -> None:
    case = in_progress()
    case = services.case_resolve(case=case, actor=who("liaison"), version=case.version, note="口头和解")
    case = services.case_close(case=case, actor=who("director"), version=case.version)
    with pytest.raises(ValidationError):
        services.case_act(case=case, action="reopen", actor=who("director"), version=case.version)
    case = services.case_act(
        case=case, action="reopen", actor=who("director"), version=case.version, reason="当事人反映协议未履行"
    )
    assert case.state == State.ACCEPTED and case.closed_at is None
