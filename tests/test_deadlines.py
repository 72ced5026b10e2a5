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
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus

from zongzhi.accounts.models import User
from zongzhi.cases import deadlines, services
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


def open_case(*, major: bool = False, sign: bool = True, co: bool = False) -> Case:
    """A grassland dispute at the township center, assigned to 司法局 and (by default) signed for."""
    village = Region.objects.filter(level="village", code__startswith="152502001").order_by("code").first()
    assert village is not None
    case = services.case_intake(
        actor=who("intake"),
        channel=Case.Channel.WINDOW,
        category=Category.objects.get(code="grassland"),
        title="草场围栏纠纷",
        description="两户牧民因围栏位置发生争执。",
        region=village,
        parties=[PartyInput(kind="person", role="applicant", name="巴特尔")],
        risk_level="yellow",
        risk_override_reason="按一般纠纷办理",
        major=major,
        center=Center.objects.get(code=TOWNSHIP),
    )
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    case = services.case_assign(
        case=case,
        actor=who("director-152502001"),
        version=case.version,
        lead=Org.objects.get(code=JUSTICE),
        co=[Org.objects.get(code=BRAND_ROOM)] if co else [],
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

    # The new deadline starts a new round, supervised from the league center this time.
    clock.set(due(case) + datetime.timedelta(hours=1))
    assert sweep(now=clock.at).overdue_reminders == [case.number]
    clock.set(latest(case, Supervision.Kind.REMINDER).deadline + datetime.timedelta(hours=1))
    assert sweep(now=clock.at).supervisions == [case.number]
    assert latest(case, Supervision.Kind.SUPERVISION).issuer_center.code == LEAGUE

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
    issue = services.supervision_issue

    def failing_on_first(**kwargs: Any) -> Supervision:
        if kwargs["case"].pk == first.pk:
            raise RuntimeError("数据库繁忙")
        return issue(**kwargs)

    monkeypatch.setattr(services, "supervision_issue", failing_on_first)
    report = sweep(now=clock.at)
    assert report.errors == {first.number: "数据库繁忙"} and report.overdue_reminders == [second.number]
    assert documents(first, Supervision.Kind.REMINDER) == []

    monkeypatch.setattr(services, "supervision_issue", issue)
    assert sweep(now=clock.at).overdue_reminders == [first.number]  # tried again next time


def test_the_sweep_cannot_run_ahead_of_the_clock(clock: Clock) -> None:
    with pytest.raises(ValueError):
        sweep(now=clock.at + datetime.timedelta(days=1))


def test_closed_cases_are_left_alone(clock: Clock) -> None:
    case = open_case()
    services.case_act(case=case, action="withdraw", actor=who("intake"), version=case.version, reason="当事人撤回")
    clock.set(due(case) + datetime.timedelta(days=10))
    assert not sweep(now=clock.at).acted


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
