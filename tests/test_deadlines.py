"""Late cases, as the deadline sweep sees them: reminder, supervision, letter and escalation.

The clock is moved, never the `now` alone: the services stamp what they write with the clock, and
the sweep reads where a case stands from those stamps. A case is registered by the Xilinhot window
(demo-intake) for 希日塔拉街道 (a township center under the Xilinhot county center), pushed by that
township's director to 司法局 (demo-liaison's org), which signs for it or not.
"""

import datetime
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus

from tests.conftest import verified_client
from zongzhi.accounts.models import User
from zongzhi.cases import deadlines, services, workflow
from zongzhi.cases.calendar import add_working_days, working_days_between
from zongzhi.cases.deadlines import sweep
from zongzhi.cases.models import (
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    DeadlinePolicy,
    State,
    Supervision,
    SupervisionName,
)
from zongzhi.cases.services import PartyInput
from zongzhi.cases.tasks import sweep_deadlines_task
from zongzhi.centers.models import Center, Org
from zongzhi.regions.models import Region

TZ = timezone.get_fixed_timezone(8 * 60)
MONDAY = datetime.datetime(2025, 3, 3, 9, 0, tzinfo=TZ)
TOWNSHIP = "ZZ-152502001"
COUNTY = "ZZ-152502"
LEAGUE = "ZZ-1525"
JUSTICE = "152502-D05"
BRAND_ROOM = "152502-BR1"


class Clock:
    def __init__(self, at: datetime.datetime) -> None:
        self.at = at

    def set(self, at: datetime.datetime) -> datetime.datetime:
        self.at = at
        return at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, db: Any) -> Clock:
    clock = Clock(MONDAY)
    monkeypatch.setattr(timezone, "now", lambda: clock.at)
    return clock


def who(name: str) -> User:
    return User.objects.get(username=name if "-" in name else f"demo-{name}")


def register(*, major: bool = False, category: str = "grassland") -> Case:
    """A grassland dispute registered by the Xilinhot window for the township center, not yet accepted."""
    village = Region.objects.filter(level="village", code__startswith="152502001").order_by("code").first()
    assert village is not None
    return services.case_intake(
        actor=who("intake"),
        category=Category.objects.get(code=category),
        title="草场围栏纠纷",
        description="两户牧民因围栏位置发生争执。",
        region=village,
        parties=[PartyInput(kind="person", role="applicant", name="巴特尔")],
        risk_level="yellow",
        risk_override_reason="按一般纠纷办理",
        major=major,
        center=Center.objects.get(code=TOWNSHIP),
    )


def open_case(*, major: bool = False, sign: bool = True, co: bool = False, handle_days: int | None = None) -> Case:
    """A grassland dispute at the township center, assigned to 司法局 and (by default) signed for."""
    case = register(major=major)
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    case = services.case_assign(
        case=case,
        actor=who("director-152502001"),
        version=case.version,
        lead=Org.objects.get(code=JUSTICE),
        co=[Org.objects.get(code=BRAND_ROOM)] if co else [],
        handle_days=handle_days,
    )
    if sign:
        case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    return case


def due(case: Case) -> datetime.datetime:
    assert case.due_at is not None
    return case.due_at


def documents(case: Case, kind: str) -> list[Supervision]:
    return list(Supervision.objects.filter(case=case, kind=kind).order_by("issued_at", "id"))


def latest(case: Case, kind: str) -> Supervision:
    found = documents(case, kind)
    assert found, f"no {kind} on {case.number}"
    return found[-1]


def addressee(document: Supervision) -> str:
    """The code of whom a document is addressed to: an org or a center, never both."""
    assert (document.target_org is None) != (document.target_center is None), document.number
    return document.target_org.code if document.target_org else document.target_center.code  # type: ignore[union-attr]


def nothing_more(clock: Clock) -> None:
    """The same sweep again, at the same moment, does nothing."""
    again = sweep(now=clock.at)
    assert not again.acted and not again.errors and not again.not_escalated, again.as_dict()


# ---- calendar and policy ------------------------------------------------------------------------


@pytest.mark.django_db
def test_working_days_skip_holidays_and_count_weekend_working_days() -> None:
    # 2025-09-26 is a Friday; Sunday the 28th is worked (调休), Monday the 29th is a holiday.
    CalendarDay.objects.create(day=datetime.date(2025, 9, 28), workday=True, name="国庆调休上班")
    CalendarDay.objects.create(day=datetime.date(2025, 9, 29), workday=False, name="国庆节")
    friday = datetime.datetime(2025, 9, 26, 10, 0, tzinfo=TZ)

    def end_of(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=TZ)

    assert add_working_days(friday, 1) == end_of(datetime.date(2025, 9, 28))
    assert add_working_days(friday, 2) == end_of(datetime.date(2025, 9, 30))
    assert add_working_days(friday, 3) == end_of(datetime.date(2025, 10, 1))
    assert working_days_between(datetime.date(2025, 9, 26), datetime.date(2025, 9, 30)) == 2
    assert working_days_between(datetime.date(2025, 9, 30), datetime.date(2025, 9, 26)) == 0


@pytest.mark.django_db
def test_the_policy_by_category_and_risk() -> None:
    grassland, family = Category.objects.get(code="grassland"), Category.objects.get(code="family")

    def days(category: Category, risk: str) -> int:
        policy = services.policy_for(category, risk)
        assert policy is not None
        return policy.handle_days

    assert (days(grassland, "blue"), days(grassland, "yellow"), days(grassland, "red")) == (7, 30, 15)
    DeadlinePolicy.objects.create(category=grassland, handle_days=20, name="草场纠纷")
    DeadlinePolicy.objects.create(category=grassland, risk_level="red", handle_days=10, name="草场重大纠纷")
    assert (days(grassland, "blue"), days(grassland, "red"), days(family, "blue")) == (20, 10, 7)
    case = Case(category=grassland, risk_level="orange")
    assert deadlines.handling_due(case, MONDAY) == add_working_days(MONDAY, 20)


@pytest.mark.django_db
def test_the_policy_and_the_calendar_read_together_give_the_same_deadlines() -> None:
    """Intake and assignment read the policy and the holidays in one statement (`deadline_rules`); the
    deadlines are those of the policy and the calendar read apart, a policy beyond the window included."""
    grassland = Category.objects.get(code="grassland")
    DeadlinePolicy.objects.create(category=grassland, risk_level="red", accept_days=2, handle_days=150, name="长")
    # The day after, and one that only the long policy reaches (read again: past the joint read's window).
    CalendarDay.objects.create(day=datetime.date(2025, 3, 4), workday=False, name="节日")
    CalendarDay.objects.create(day=datetime.date(2025, 9, 16), workday=False, name="远处的节日")
    for risk in ("blue", "red"):
        policy, calendar_for = services.deadline_rules(grassland, risk, MONDAY)
        apart = services.policy_for(grassland, risk)
        assert policy is not None and apart is not None
        assert (policy.pk, policy.accept_days, policy.sign_for_days, policy.handle_days) == (
            apart.pk,
            apart.accept_days,
            apart.sign_for_days,
            apart.handle_days,
        )
        for days in (1, policy.handle_days):
            assert add_working_days(MONDAY, days, calendar_for(days)) == add_working_days(MONDAY, days), (risk, days)
    _policy, calendar_for = services.deadline_rules(grassland, "blue", MONDAY)
    assert add_working_days(MONDAY, 1, calendar_for(1)).date() == datetime.date(2025, 3, 5)  # Tuesday is off
    assert add_working_days(MONDAY, 150).date() > datetime.date(2025, 9, 16)


# ---- the sweep, stage by stage ------------------------------------------------------------------


def test_an_assignment_not_signed_for_gets_one_reminder_per_org(clock: Clock) -> None:
    case = open_case(sign=False, co=True)
    assert sweep(now=clock.at).counts()["sign_for_reminders"] == 0  # not late yet
    lead = case.assignments.get(role="lead")
    clock.set(lead.sign_for_due + datetime.timedelta(hours=1))

    report = sweep(now=clock.at)
    assert report.sign_for_reminders == [case.number, case.number]
    reminders = documents(case, Supervision.Kind.REMINDER)
    assert {r.target_org.code for r in reminders if r.target_org} == {JUSTICE, BRAND_ROOM}
    assert all(r.issuer is None and r.issuer_center.code == TOWNSHIP for r in reminders)
    assert "未在签收期限" in reminders[0].reason
    nothing_more(clock)

    # Signing for it is what the reminder asked; the case is then no one's business until it is due.
    services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    clock.set(clock.at + datetime.timedelta(days=3))
    assert not sweep(now=clock.at).acted


def test_an_overdue_case_gets_a_reminder_then_supervision_then_a_letter_and_goes_up(clock: Clock) -> None:
    case = open_case()
    assert case.due_at == add_working_days(MONDAY, 30)
    clock.set(case.due_at - datetime.timedelta(hours=1))
    assert not sweep(now=clock.at).acted

    # 1. 提示函 from the township center to the lead org.
    clock.set(due(case) + datetime.timedelta(days=3, hours=1))
    report = sweep(now=clock.at)
    assert report.overdue_reminders == [case.number] and report.sign_for_reminders == []
    reminder = latest(case, Supervision.Kind.REMINDER)
    assert (reminder.issuer_center.code, reminder.target_org and reminder.target_org.code) == (TOWNSHIP, JUSTICE)
    assert reminder.reason.startswith("案件已超过办理期限") and "请于 5 个工作日内反馈办理情况" in reminder.reason
    assert reminder.deadline == add_working_days(clock.at, 5)
    nothing_more(clock)

    # 2. The reminder's deadline passes: 督办单 from the county center, one level up.
    clock.set(reminder.deadline + datetime.timedelta(hours=1))
    report = sweep(now=clock.at)
    assert report.supervisions == [case.number] and not report.overdue_reminders
    supervision = latest(case, Supervision.Kind.SUPERVISION)
    assert supervision.issuer_center.code == COUNTY and supervision.target_org.code == JUSTICE  # type: ignore[union-attr]
    assert reminder.number in supervision.reason
    nothing_more(clock)

    # 3. The 督办单 goes unanswered: 督办函, escalation to the county center, a fresh deadline.
    clock.set(supervision.deadline + datetime.timedelta(hours=1))
    before = Case.objects.get(pk=case.pk)
    report = sweep(now=clock.at)
    assert report.letters == [case.number] and report.escalations == [case.number]
    letter = latest(case, Supervision.Kind.LETTER)
    assert letter.issuer_center.code == COUNTY and supervision.number in letter.reason
    case.refresh_from_db()
    assert case.center.code == COUNTY and case.escalations == 1 and case.state == State.IN_PROGRESS
    assert case.due_at == add_working_days(clock.at, 30)
    assert case.version > before.version
    escalate = CaseEvent.objects.get(case=case, kind="escalate")
    assert escalate.actor is None and escalate.actor_name == "系统" and supervision.number in escalate.data["reason"]
    nothing_more(clock)

    # The case now waits on the county director, who has not kept or changed the lead: the new
    # round goes to the county center, from the league center above it.
    assert case.awaiting_director
    clock.set(due(case) + datetime.timedelta(hours=1))
    assert sweep(now=clock.at).overdue_reminders == [case.number]
    reminder = latest(case, Supervision.Kind.REMINDER)
    assert addressee(reminder) == COUNTY and reminder.issuer_center.code == LEAGUE
    clock.set(reminder.deadline + datetime.timedelta(hours=1))
    assert sweep(now=clock.at).supervisions == [case.number]
    supervision = latest(case, Supervision.Kind.SUPERVISION)
    assert supervision.issuer_center.code == LEAGUE and addressee(supervision) == COUNTY

    versions = list(CaseEvent.objects.filter(case=case).values_list("version", flat=True))
    assert versions == sorted(versions)


def test_a_reply_to_the_supervision_stops_the_escalation(clock: Clock) -> None:
    case = open_case()
    clock.set(due(case) + datetime.timedelta(hours=1))
    sweep(now=clock.at)
    SupervisionName.objects.filter(kind="reminder").update(name="到期提示函")  # names are configurable
    clock.set(latest(case, Supervision.Kind.REMINDER).deadline + datetime.timedelta(hours=1))
    sweep(now=clock.at)
    supervision = latest(case, Supervision.Kind.SUPERVISION)
    assert "到期提示函 " in supervision.reason
    services.supervision_reply(
        case=supervision.case, supervision=supervision, actor=who("liaison"), reply="已约双方下周现场调解。"
    )

    clock.set(supervision.deadline + datetime.timedelta(days=1))
    assert not sweep(now=clock.at).acted
    case.refresh_from_db()
    assert case.center.code == TOWNSHIP and case.escalations == 0


def test_a_major_case_goes_to_league_level_coordination(clock: Clock) -> None:
    case = open_case(major=True)
    # A director's own 督办单 on the overdue case counts as the round's supervision.
    clock.set(due(case) + datetime.timedelta(hours=1))
    supervision = services.supervision_issue(
        case=case, actor=who("director-152502001"), kind=Supervision.Kind.SUPERVISION, reason="请加快办理。"
    )
    clock.set(supervision.deadline + datetime.timedelta(hours=1))

    report = sweep(now=clock.at)
    assert report.letters == [case.number] and report.escalations == [case.number]
    case.refresh_from_db()
    assert case.center.code == LEAGUE and case.escalations == 1
    assert "盟级统筹协调" in CaseEvent.objects.get(case=case, kind="escalate").data["reason"]
    nothing_more(clock)

    # At the league center there is nowhere further up: the next round's letter comes, the case stays.
    clock.set(due(case) + datetime.timedelta(hours=1))
    sweep(now=clock.at)
    clock.set(latest(case, Supervision.Kind.REMINDER).deadline + datetime.timedelta(hours=1))
    sweep(now=clock.at)
    clock.set(latest(case, Supervision.Kind.SUPERVISION).deadline + datetime.timedelta(hours=1))
    report = sweep(now=clock.at)
    assert report.letters == [case.number] and not report.escalations
    assert "盟级综治中心" in report.not_escalated[case.number]
    nothing_more(clock)


def test_one_failing_case_does_not_stop_the_sweep(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = open_case(), open_case()
    clock.set(max(due(first), due(second)) + datetime.timedelta(hours=1))
    issue = services.supervision_send

    def failing_on_first(**kwargs: Any) -> Supervision:
        if kwargs["case"].pk == first.pk:
            raise RuntimeError("数据库繁忙")
        return issue(**kwargs)

    monkeypatch.setattr(services, "supervision_send", failing_on_first)
    report = sweep(now=clock.at)
    assert report.errors == {first.number: "数据库繁忙"} and report.overdue_reminders == [second.number]
    assert documents(first, Supervision.Kind.REMINDER) == []

    monkeypatch.setattr(services, "supervision_send", issue)
    assert sweep(now=clock.at).overdue_reminders == [first.number]  # tried again next time


def test_the_sweep_cannot_run_ahead_of_the_clock(clock: Clock) -> None:
    with pytest.raises(ValueError):
        sweep(now=clock.at + datetime.timedelta(days=1))


def test_closed_cases_are_left_alone(clock: Clock) -> None:
    case = open_case()
    services.case_act(case=case, action="withdraw", actor=who("intake"), version=case.version, reason="当事人撤回")
    clock.set(due(case) + datetime.timedelta(days=10))
    assert not sweep(now=clock.at).acted


# ---- the acceptance deadline --------------------------------------------------------------------


def test_a_registered_case_is_due_for_acceptance_in_one_working_day(clock: Clock) -> None:
    friday = clock.set(datetime.datetime(2025, 3, 7, 16, 0, tzinfo=TZ))
    case = register()
    assert case.state == State.REGISTERED and case.due_at == add_working_days(friday, 1)  # Monday evening
    assert CaseEvent.objects.get(case=case, kind="intake").data["due_at"] == case.due_at.isoformat()

    # The acceptance days are configurable with the other deadlines, by category and risk.
    DeadlinePolicy.objects.create(
        category=Category.objects.get(code="family"), accept_days=3, handle_days=30, name="婚姻家庭"
    )
    assert register(category="family").due_at == add_working_days(friday, 3)

    # Accepting meets the deadline: no deadline until the director assigns it.
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    assert case.due_at is None
    clock.set(friday + datetime.timedelta(days=10))
    assert case.number not in sweep(now=clock.at).overdue_reminders


def test_an_unaccepted_case_is_reminded_then_supervised_at_its_center(clock: Clock) -> None:
    case = register()
    clock.set(due(case) + datetime.timedelta(hours=1))

    # 1. No org holds it yet: the 提示函 goes to the township center that must accept it, from the county.
    report = sweep(now=clock.at)
    assert report.overdue_reminders == [case.number]
    reminder = latest(case, Supervision.Kind.REMINDER)
    assert addressee(reminder) == TOWNSHIP and reminder.issuer_center.code == COUNTY
    assert reminder.reason.startswith("案件已超过受理期限")
    nothing_more(clock)

    # 2. 督办单 from the county center to the township center.
    clock.set(reminder.deadline + datetime.timedelta(hours=1))
    assert sweep(now=clock.at).supervisions == [case.number]
    supervision = latest(case, Supervision.Kind.SUPERVISION)
    assert addressee(supervision) == TOWNSHIP and supervision.issuer_center.code == COUNTY

    # 3. Unanswered: 督办函 to the same center; a case not yet accepted is not escalated.
    clock.set(supervision.deadline + datetime.timedelta(hours=1))
    report = sweep(now=clock.at)
    assert report.letters == [case.number] and not report.escalations
    assert "已登记" in report.not_escalated[case.number]
    letter = latest(case, Supervision.Kind.LETTER)
    assert addressee(letter) == TOWNSHIP and letter.issuer_center.code == COUNTY
    case.refresh_from_db()
    assert case.center.code == TOWNSHIP and case.state == State.REGISTERED
    nothing_more(clock)

    # The township's window answers what was addressed to its center; a department cannot.
    with pytest.raises(PermissionDenied):
        services.supervision_reply(case=case, supervision=letter, actor=who("liaison"), reply="已受理")
    services.supervision_reply(case=case, supervision=letter, actor=who("clerk-152502001"), reply="当日已受理并分流。")
    assert Supervision.objects.get(pk=letter.pk).status == Supervision.Status.REPLIED


def test_the_case_page_and_list_show_the_acceptance_deadline(clock: Clock) -> None:
    case = register()
    client = verified_client(who("intake"))
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert f'<dt>受理期限</dt><dd id="due">{timezone.localtime(due(case)):%Y-%m-%d}' in page
    listing = client.get(reverse("cases:list"), {"queue": "to_accept", "q": case.number}).content.decode()
    assert case.number in listing and f"{timezone.localtime(due(case)):%Y-%m-%d}" in listing


# ---- transfer, escalation: who holds the case ----------------------------------------------------


def _through_the_table(case: Case) -> list[tuple[str, str, str]]:
    """The case's state changes, each checked against the transition table."""
    steps = []
    for kind, from_state, to_state in (
        CaseEvent.objects.filter(case=case).exclude(from_state="").values_list("kind", "from_state", "to_state")
    ):
        transition = workflow.TRANSITIONS[kind]
        assert from_state in transition.sources and to_state == (transition.target or from_state), kind
        steps.append((kind, from_state, to_state))
    return steps


def test_a_transfer_keeps_the_deadline_the_director_set(clock: Clock) -> None:
    case = open_case(handle_days=10)
    set_by_director = add_working_days(MONDAY, 10)
    assert case.due_at == set_by_director
    clock.set(MONDAY + datetime.timedelta(days=3))
    labour = Org.objects.get(code="152502-D08")
    with pytest.raises(PermissionDenied):
        services.case_transfer(case=case, actor=who("liaison"), version=case.version, to_org=labour, reason="转办")
    with pytest.raises(ValidationError) as error:
        services.case_transfer(
            case=case, actor=who("director-152502001"), version=case.version, to_org=labour, reason=" "
        )
    assert "reason" in error.value.message_dict

    case = services.case_transfer(
        case=case, actor=who("director-152502001"), version=case.version, to_org=labour, reason="涉及劳动报酬"
    )
    assert case.state == State.ASSIGNED and case.due_at == set_by_director
    new_lead = case.assignments.get(status="pending")
    assert new_lead.org == labour and new_lead.deadline == set_by_director and new_lead.handle_days == 10
    assert case.assignments.get(org__code=JUSTICE).status == "transferred"
    # 转办 is a transition of the table: the timeline replays through it.
    assert _through_the_table(case)[-1] == ("transfer", State.IN_PROGRESS, State.ASSIGNED)

    # A second transfer keeps it too; one with its own days sets a new deadline from now.
    case = services.case_transfer(
        case=case,
        actor=who("director-152502001"),
        version=case.version,
        to_org=Org.objects.get(code=JUSTICE),
        reason="退回原单位",
    )
    assert case.due_at == set_by_director
    case = services.case_transfer(
        case=case,
        actor=who("director-152502001"),
        version=case.version,
        to_org=labour,
        reason="改由人社局",
        handle_days=5,
    )
    assert case.due_at == add_working_days(clock.at, 5)


def test_a_transfer_of_a_policy_deadline_starts_it_again(clock: Clock) -> None:
    case = open_case()
    clock.set(MONDAY + datetime.timedelta(days=7))
    case = services.case_transfer(
        case=case,
        actor=who("director-152502001"),
        version=case.version,
        to_org=Org.objects.get(code="152502-D08"),
        reason="涉及劳动报酬",
    )
    assert case.due_at == add_working_days(clock.at, 30)


def test_escalation_hands_the_case_to_the_receiving_director(clock: Clock) -> None:
    case = open_case()
    township_director, county_director = who("director-152502001"), who("director")
    case = services.case_escalate(case=case, actor=township_director, version=case.version, reason="跨苏木纠纷")
    assert case.center.code == COUNTY and case.awaiting_director and case.state == State.IN_PROGRESS
    assert case.assignments.get(role="lead").status == "signed"  # the assignments stay
    # The township director no longer directs it; the county director does.
    with pytest.raises(PermissionDenied):
        services.case_transfer(
            case=case,
            actor=township_director,
            version=case.version,
            to_org=Org.objects.get(code="152502-D08"),
            reason="x",
        )
    with pytest.raises(PermissionDenied):
        services.case_lead_keep(case=case, actor=township_director, version=case.version)

    # Until the county director decides, the sweep addresses the county center.
    clock.set(due(case) + datetime.timedelta(hours=1))
    sweep(now=clock.at)
    reminder = latest(case, Supervision.Kind.REMINDER)
    assert addressee(reminder) == COUNTY and reminder.issuer_center.code == LEAGUE

    # The county director keeps 司法局, with five working days: reminders go to 司法局 again.
    case = services.case_lead_keep(case=case, actor=county_director, version=case.version, handle_days=5)
    assert not case.awaiting_director and case.due_at == add_working_days(clock.at, 5)
    assert case.assignments.get(role="lead").deadline == case.due_at
    assert CaseEvent.objects.filter(case=case, kind="lead_kept").get().data["org"] == "锡林浩特市司法局"
    with pytest.raises(ValidationError):
        services.case_lead_keep(case=case, actor=county_director, version=case.version)
    clock.set(due(case) + datetime.timedelta(hours=1))
    sweep(now=clock.at)
    reminder = latest(case, Supervision.Kind.REMINDER)
    assert addressee(reminder) == JUSTICE and reminder.issuer_center.code == COUNTY
    assert _through_the_table(case)[-1][0] == "escalate"


def test_after_escalation_the_receiving_director_may_change_the_lead(clock: Clock) -> None:
    case = open_case()
    case = services.case_escalate(case=case, actor=who("director-152502001"), version=case.version, reason="跨苏木纠纷")
    labour = Org.objects.get(code="152502-D08")
    case = services.case_transfer(
        case=case, actor=who("director"), version=case.version, to_org=labour, reason="由人社局主办"
    )
    assert not case.awaiting_director and case.center.code == COUNTY
    supervision = services.supervision_issue(
        case=case, actor=who("director"), kind=Supervision.Kind.HANDOVER, reason="请签收办理"
    )
    assert supervision.target_org == labour and supervision.issuer_center.code == COUNTY


# ---- who issues a 督办, and for how long ---------------------------------------------------------


def test_the_issuer_is_the_acting_users_own_center(clock: Clock) -> None:
    at_township = open_case()
    issued = {
        name: services.supervision_issue(
            case=at_township, actor=who(name), kind=Supervision.Kind.SUPERVISION, reason="请加快办理。"
        ).issuer_center.code
        for name in ("director-152502001", "leader", "league")
    }
    assert issued == {"director-152502001": TOWNSHIP, "leader": COUNTY, "league": LEAGUE}

    # A county director's 督办函 on a case the county center holds is the county center's, not the league's.
    at_county = services.case_escalate(
        case=at_township, actor=who("director-152502001"), version=at_township.version, reason="跨苏木纠纷"
    )
    letter = services.supervision_issue(
        case=at_county, actor=who("director"), kind=Supervision.Kind.LETTER, reason="限期办结"
    )
    assert letter.issuer_center.code == COUNTY and letter.number.startswith(f"{COUNTY}-LE")
    # Those without a director's or leader's role on the case issue nothing.
    with pytest.raises(PermissionDenied):
        services.supervision_issue(case=at_county, actor=who("liaison"), kind=Supervision.Kind.SUPERVISION, reason="x")


@pytest.mark.parametrize("days", [-3, 0, 31, 100000, "五", "", "3.5"])
def test_supervision_days_are_1_to_30_working_days(clock: Clock, days: Any) -> None:
    case = open_case()
    with pytest.raises(ValidationError) as error:
        services.supervision_issue(
            case=case, actor=who("director-152502001"), kind="supervision", reason="请办理", days=days
        )
    assert "1 至 30 个工作日" in error.value.message_dict["days"][0]
    assert not Supervision.objects.filter(case=case).exists()


def test_supervision_days_at_the_limits_and_on_the_page(clock: Clock) -> None:
    case = open_case()
    case = services.case_escalate(case=case, actor=who("director-152502001"), version=case.version, reason="跨苏木")
    director = who("director")  # of the county center, which holds it now
    for days in (1, 30, "7"):
        made = services.supervision_issue(case=case, actor=director, kind="supervision", reason="请办理", days=days)
        assert made.deadline == add_working_days(clock.at, int(days))
    # The page answers what was typed with the field's message (and the API's 422), never a server error.
    client = verified_client(director)
    url = reverse("cases:do", args=[case.number, "supervise"])
    before = Supervision.objects.filter(case=case).count()
    for typed, said in [("五", "应为整数"), ("100000", "不能大于 30"), ("-3", "不能小于 1")]:
        response = client.post(url, {"kind": "supervision", "reason": "请办理", "days": typed})
        assert response.status_code == 422, typed
        assert f'<p class="error" data-for="days">反馈期限（工作日）{said}。</p>' in response.content.decode()
    assert Supervision.objects.filter(case=case).count() == before


# ---- the background task, the commands ----------------------------------------------------------


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_the_task_runs_on_the_database_worker(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, restore_signals: None
) -> None:
    case = open_case()
    clock.set(due(case) + datetime.timedelta(hours=1))
    # The worker recycles connections between tasks; in a test the connection holds the test's
    # transaction (as the test client does for requests, keep it).
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)

    result = sweep_deadlines_task.enqueue()
    assert result.status == TaskResultStatus.READY
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    assert result.return_value is not None
    assert result.return_value["cases"]["overdue_reminders"] == [case.number]
    assert documents(case, Supervision.Kind.REMINDER)


def test_the_commands(clock: Clock, capsys: pytest.CaptureFixture[str]) -> None:
    case = open_case()
    clock.set(due(case) + datetime.timedelta(hours=1))
    call_command("sweep_deadlines")
    assert f"办理超期提示函：1（{case.number}）" in capsys.readouterr().out

    call_command("scheduler", "--once")
    assert "期限巡检已排队" in capsys.readouterr().out
    call_command("scheduler", "--once")
    assert "尚未执行" in capsys.readouterr().out  # one sweep already waits for the worker
    call_command("sweep_deadlines", "--enqueue")
    assert "已加入后台任务队列" in capsys.readouterr().out


@pytest.mark.django_db
def test_supervision_numbers_follow_the_highest_issued() -> None:
    from tests.test_case_lifecycle import register, who
    from zongzhi.cases.services import supervision_issue

    case = register()
    first = supervision_issue(case=case, actor=who("director"), kind="handover", reason="请尽快办理")
    Supervision.objects.filter(pk=first.pk).update(number=first.number[:-4] + "0041")  # a gap, as imports leave
    second = supervision_issue(case=case, actor=who("director"), kind="handover", reason="请反馈")
    assert second.number.endswith("0042")
