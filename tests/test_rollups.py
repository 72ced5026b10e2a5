"""The dashboards' tallies are kept by the services: after any sequence of changes, a recount agrees.

Hypothesis draws sequences of what the Xilinhot personas do (register, accept, assign, sign for,
resolve with an agreement paid in instalments, fail, close, refer to court, call back, supervise,
answer, escalate, withdraw, reopen) on new cases and on cases of the seeded history, some of them
past due; after each sequence `rollups.verify()` finds no difference with a full recount.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zongzhi.accounts.models import User
from zongzhi.cases import services
from zongzhi.cases.models import OPEN_STATES, Case, Category, Instalment, State, Supervision
from zongzhi.cases.services import InstalmentInput, PartyInput
from zongzhi.cases.workflow import Conflict
from zongzhi.centers.models import Org
from zongzhi.dashboards import rollups
from zongzhi.dashboards.models import Tally
from zongzhi.regions.models import Region

XILINHOT = "152502"


def who(name: str) -> User:
    return User.objects.get(username=f"demo-{name}")


def register(amount: int) -> Case:
    region = Region.objects.filter(level="grid", code__startswith=XILINHOT).order_by("code").first()
    assert region is not None
    return services.case_intake(
        actor=who("intake"),
        channel=Case.Channel.WINDOW,
        category=Category.objects.get(code="grassland"),
        title="草场边界纠纷",
        description=f"两户牧民因草场围栏发生争执（{amount}）。",
        region=region,
        parties=[PartyInput(kind="person", role="applicant", name="巴特尔")],
        amount=amount or None,
    )


def resolve(case: Case) -> Case:
    today = timezone.localdate()
    half = Decimal("3000.00")
    return services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="围栏越界。",
        terms="被申请人赔偿六千元，分两期支付。",
        amount=half * 2,
        performance_method="转账",
        performance_due=today + datetime.timedelta(days=60),
        signed_on=today,
        instalments=[InstalmentInput(today, half), InstalmentInput(today + datetime.timedelta(days=30), half)],
    )


def pay(case: Case) -> None:
    instalment = Instalment.objects.filter(agreement__case=case, paid_on__isnull=True).first()
    if instalment is None:
        raise ValidationError("nothing to pay")
    services.instalment_pay(
        case=case,
        instalment=instalment,
        actor=who("director"),
        paid_on=timezone.localdate(),
        paid_amount="1500",
        receipt="R1",
    )


def reply(case: Case) -> None:
    supervision = Supervision.objects.filter(case=case, status=Supervision.Status.OPEN).first()
    if supervision is None:
        raise ValidationError("nothing to answer")
    services.supervision_reply(
        case=supervision.case, supervision=supervision, actor=who("director"), reply="已督促承办单位加快办理。"
    )


def act(name: str) -> Callable[[Case], Any]:
    def run(case: Case) -> Any:
        reason = "依据当事人申请"
        return services.case_act(case=case, action=name, actor=who("director"), version=case.version, reason=reason)

    return run


ACTIONS: dict[str, Callable[[Case], Any]] = {
    "accept": act("accept"),
    "reject": act("reject"),
    "withdraw": act("withdraw"),
    "reopen": act("reopen"),
    "assign": lambda c: services.case_assign(
        case=c,
        actor=who("director"),
        version=c.version,
        lead=Org.objects.get(code="152502-D05"),
        co=[Org.objects.get(code="152502-BR1")],
    ),
    "sign_for": lambda c: services.case_sign_for(case=c, actor=who("liaison"), version=c.version),
    "co_sign_for": lambda c: services.case_sign_for(case=c, actor=who("mediator"), version=c.version),
    "resolve": resolve,
    "pay": pay,
    "fail": lambda c: services.case_fail(
        case=c, actor=who("liaison"), version=c.version, guidance=Case.Outcome.LITIGATION, reason="双方分歧较大"
    ),
    "close": lambda c: services.case_close(case=c, actor=who("director"), version=c.version),
    "refer_court": lambda c: services.case_refer_court(case=c, actor=who("director"), version=c.version),
    "follow_up": lambda c: services.follow_up_record(
        case=c, actor=who("intake"), method="电话", performance="performed", satisfaction="basically"
    ),
    "supervise": lambda c: services.supervision_issue(
        case=c, actor=who("director"), kind=Supervision.Kind.REMINDER, reason="请加快办理"
    ),
    "reply": reply,
    "escalate": lambda c: services.case_escalate(
        case=c, actor=who("director"), version=c.version, reason="案情复杂，提请上级中心协调"
    ),
}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("intake"), st.integers(0, 50_000)),
        st.tuples(st.sampled_from(sorted(ACTIONS)), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=14,
)


def seeded_cases() -> list[Case]:
    """Cases of the seeded history: one late and open, one closed with an agreement."""
    base = Case.objects.filter(region_code__startswith=XILINHOT, center__code__startswith=XILINHOT)
    late = base.filter(state__in=OPEN_STATES, due_at__lt=timezone.now()).order_by("id").first()
    closed = base.filter(state=State.CLOSED, agreement__isnull=False).order_by("id").first()
    return [c for c in (late, closed) if c is not None]


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_tallies_equal_a_recount_after_any_sequence(steps: list[tuple[str, int]]) -> None:
    with transaction.atomic():
        pool = seeded_cases()
        for action, arg in steps:
            if action == "intake":
                pool.append(register(arg))
                continue
            if not pool:
                continue
            case = Case.objects.get(pk=pool[arg % len(pool)].pk)
            try:
                with transaction.atomic():
                    ACTIONS[action](case)
            except (ValidationError, PermissionDenied, Conflict):
                pass  # not possible in the case's state or for that person: nothing changed
        assert list(rollups.verify()) == []
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_registered_case_counts_at_every_level_at_once() -> None:
    league, county = "152500000000", "152502000000"

    def cases_at(node: str) -> int:
        return Tally.objects.filter(node=node).aggregate(n=Sum("cases"))["n"]

    before = {node: cases_at(node) for node in (league, county)}
    case = register(8000)
    grid = case.region_code
    assert {node: cases_at(node) for node in (league, county)} == {n: v + 1 for n, v in before.items()}
    row = Tally.objects.get(node=grid, state=State.REGISTERED)
    assert (row.cases, row.amount_involved, row.ch_window) == (1, Decimal("8000.00"), 1)


@pytest.mark.django_db
def test_verify_command_finds_a_tampered_tally_and_rebuild_mends_it() -> None:
    call_command("rollups", "--verify")
    Tally.objects.filter(node="152502000000").update(cases=0)
    with pytest.raises(CommandError, match="不一致"):
        call_command("rollups", "--verify")
    call_command("rollups", "--rebuild")
    call_command("rollups", "--verify")
