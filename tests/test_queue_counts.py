"""The queue figures of the case list and the home page (`selectors.queue_counts`) are each queue's own
size, for every role, in one statement.

The figures are checked against two readings of the demo data: each queue's own `.count()`, and the
queues as they were written before their subqueries named the scope's region codes (`reference`), so
the region predicates are seen to change no figure. They change none because each case-side row
carries its case's region code, which the last test checks on the rows the queues read.
"""

import pytest
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zongzhi import access
from zongzhi.accounts.models import Role, User
from zongzhi.cases import selectors
from zongzhi.cases.models import (
    OPEN_STATES,
    Assignment,
    Case,
    CoordinationRequest,
    CourtReferral,
    FollowUp,
    Instalment,
    State,
    Supervision,
)

pytestmark = pytest.mark.django_db

# A township's director (one jurisdiction), the county's director and window, the department's liaison,
# the brand mediator, the judge, the county's and the league's leaders, a grid worker, and the login
# that directs every township of the county (several jurisdictions).
WITHIN = ["director-152502001", "demo-director", "demo-intake", "demo-leader", "demo-league", "demo-gridworker"]
BY_ORG = ["demo-liaison", "demo-mediator", "demo-judge"]
PERSONAS = [*WITHIN, *BY_ORG, "demo-township"]


def reference(user: User, name: str) -> QuerySet[Case]:
    """A queue as `selectors.queue` read it before its subqueries named their region code."""
    cases = selectors.my_cases(user)
    orgs = access.org_ids_of(user)
    centered = access.center_ids_of(user, Role.CENTER_DIRECTOR) | access.center_ids_of(user, Role.INTAKE_CLERK)
    by_org = bool(orgs) and not centered and Role.LEADER not in access.roles_of(user)
    now = timezone.now()
    of_orgs = Assignment.objects.filter(org_id__in=orgs)
    conditions = {
        "to_accept": Q(state=State.REGISTERED),
        "to_assign": Q(state=State.ACCEPTED),
        "to_close": Q(state__in=[State.RESOLVED, State.UNRESOLVED]),
        "escalated": Q(escalations__gt=0, state__in=OPEN_STATES),
        "to_coordinate": Q(
            pk__in=CoordinationRequest.objects.filter(to_org_id__in=orgs, replied_at__isnull=True).values("case_id")
        ),
        "instalments_overdue": Q(
            pk__in=Instalment.objects.filter(paid_on__isnull=True, due_on__lt=timezone.localdate()).values(
                "agreement__case_id"
            )
        ),
    }
    if name == "to_sign":
        return cases.filter(assignments__org_id__in=orgs, assignments__status=Assignment.Status.PENDING).distinct()
    if name == "in_progress" and by_org:
        signed = of_orgs.filter(status=Assignment.Status.SIGNED).values("case_id")
        return cases.filter(state__in=(State.ASSIGNED, State.IN_PROGRESS), pk__in=signed)
    if name == "in_progress":
        return cases.filter(state=State.IN_PROGRESS)
    if name == "overdue" and by_org:
        late = Q(status=Assignment.Status.PENDING, sign_for_due__lt=now) | Q(
            status=Assignment.Status.SIGNED, deadline__lt=now
        )
        return cases.filter(pk__in=of_orgs.filter(late).values("case_id"), state__in=OPEN_STATES)
    if name == "overdue":
        return cases.filter(state__in=OPEN_STATES, due_at__lt=now)
    if name == "supervised":
        open_ = Supervision.objects.filter(status=Supervision.Status.OPEN)
        return cases.filter(pk__in=(open_.filter(target_org_id__in=orgs) if by_org else open_).values("case_id"))
    if name == "to_follow_up":
        return cases.filter(state=State.CLOSED, follow_ups__isnull=True)
    if name in ("to_confirm", "referred"):
        kind = CourtReferral.Kind.CONFIRMATION if name == "to_confirm" else CourtReferral.Kind.LITIGATION
        referred = CourtReferral.objects.filter(court_id__in=orgs, kind=kind, result=CourtReferral.Result.PENDING)
        return cases.filter(pk__in=referred.values("case_id"))
    return cases.filter(conditions[name])


def fresh(username: str) -> User:
    return User.objects.get(username=username)  # memberships are read once per user object


@pytest.mark.parametrize("username", PERSONAS)
def test_each_queue_figure_is_the_queue_size(username: str) -> None:
    names = list(selectors.QUEUES)
    counts = selectors.queue_counts(fresh(username), names)
    own = {name: selectors.queue(fresh(username), name).count() for name in names}
    before = {name: reference(fresh(username), name).count() for name in names}
    assert counts == own == before
    if username in ("demo-league", "demo-director", "demo-liaison", "demo-judge"):
        assert any(counts.values()), f"{username} has no case in any queue: the comparison shows nothing"


@pytest.mark.parametrize("username", [*WITHIN, *BY_ORG])
def test_the_figures_are_one_statement_naming_the_users_reach(username: str) -> None:
    """An org's user too: their cases lie anywhere in their orgs' reach, which the statement names."""
    user = fresh(username)
    names = selectors.queues_of(user)
    selectors.queue_counts(user, names)  # the memberships, read once a request
    with CaptureQueriesContext(connection) as queries:
        selectors.queue_counts(user, names)
    assert len(queries) == 1
    reach = access.reach_of(user)
    assert reach is not None and reach[0] in queries[0]["sql"] and reach[1] in queries[0]["sql"]


def test_the_rows_the_queues_read_carry_their_cases_region_code() -> None:
    for model in (Assignment, CoordinationRequest, CourtReferral, FollowUp, Supervision):
        rows = model.objects.all()  # type: ignore[attr-defined]
        assert rows.exists(), model
        assert not rows.exclude(region_code=F("case__region_code")).exists(), model
    instalments = Instalment.objects.all()
    assert instalments.exists()
    assert not instalments.exclude(region_code=F("agreement__case__region_code")).exists()
    assert not instalments.exclude(agreement__region_code=F("agreement__case__region_code")).exists()


@pytest.mark.parametrize("username", ["demo-director", "director-152502001", "demo-township"])
def test_the_desks_figures_on_the_home_page(username: str) -> None:
    """What waits on a director's own desk (`waiting_on`): to accept, to assign, overdue among them."""
    user = fresh(username)
    desk = selectors.waiting_on(user)[0]
    centers = access.center_ids_of(user, Role.CENTER_DIRECTOR)
    cases = selectors.cases_visible(user).filter(center_id__in=centers, state__in=OPEN_STATES)
    on_desk = cases.filter(Q(state__in=(State.REGISTERED, State.ACCEPTED)) | Q(awaiting_director=True))
    assert (desk.to_accept, desk.to_assign, desk.overdue) == (
        on_desk.filter(state=State.REGISTERED).count(),
        on_desk.exclude(state=State.REGISTERED).count(),
        on_desk.filter(due_at__lt=timezone.now()).count(),
    )
    assert desk.org_code == "" and desk.total == desk.to_accept + desk.to_assign + desk.to_sign + desk.in_progress
