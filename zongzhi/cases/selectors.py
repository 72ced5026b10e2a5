"""Reading cases, always through `access.cases_q(user)`: jurisdiction plus what was pushed to the user's orgs."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case as DbCase
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.cases.models import (
    OPEN_STATES,
    Assignment,
    Case,
    CaseEvent,
    Category,
    CoordinationRequest,
    Party,
    State,
    Supervision,
)
from zongzhi.centers.models import Org
from zongzhi.grid.models import Resident
from zongzhi.grid.selectors import resident_id_index


def cases_visible(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(access.cases_q(user))


# The lead before its co-handlers ("co" sorts before "lead" as text).
LEAD_FIRST = DbCase(When(role=Assignment.Role.LEAD, then=Value(0)), default=Value(1))

PAGE_RELATED = (
    "parties",
    Prefetch("assignments", queryset=Assignment.objects.select_related("org").order_by(LEAD_FIRST, "id")),
    Prefetch("events", queryset=CaseEvent.objects.order_by("id")),
    "supervisions__target_org",
    "supervisions__target_center",
    "sessions",
    "court_referrals__court",
    "follow_ups",
    "attachments",
    "related",
    "bookings__room__center",
    "agreement__instalments",
    "coordination_requests__from_org",
    "coordination_requests__to_org",
)
API_RELATED = PAGE_RELATED[:5]  # what the API's case body shows


def case_get(user: Any, number: str, *, related: tuple = PAGE_RELATED) -> Case:
    """One case with what its page (or the API body) shows; 404 whether missing or not the user's."""
    cases = cases_visible(user).select_related("category", "region", "center", "owner", "agreement")
    cases = cases.prefetch_related(*related)
    return get_object_or_404(cases, number=number)


def case_for_action(user: Any, number: str) -> Case:
    """The case to act on (the services reload what they need); 404 as above."""
    case = get_object_or_404(cases_visible(user).select_related("center", "category", "region"), number=number)
    case._loaded_for_action = True  # type: ignore[attr-defined]
    return case


QUEUES = {
    "to_accept": "待受理",
    "to_assign": "待分流",
    "to_sign": "待签收",
    "in_progress": "办理中",
    "to_close": "待结案",
    "overdue": "已超期",
    "supervised": "督办中",
    "escalated": "已上提",
    "to_follow_up": "待回访",
    "to_coordinate": "待协调",
}


def queue(user: Any, name: str) -> QuerySet[Case]:
    """A work queue of the user (the pages and the API share these definitions)."""
    cases = cases_visible(user)
    orgs = access.org_ids_of(user)
    now = timezone.now()
    if name == "to_accept":
        return cases.filter(state=State.REGISTERED)
    if name == "to_assign":
        return cases.filter(state=State.ACCEPTED)
    if name == "to_sign":
        return cases.filter(assignments__org_id__in=orgs, assignments__status=Assignment.Status.PENDING).distinct()
    if name == "in_progress":
        mine = cases.filter(state=State.IN_PROGRESS)
        return mine.filter(assignments__org_id__in=orgs).distinct() if orgs else mine
    if name == "to_close":
        return cases.filter(state__in=[State.RESOLVED, State.UNRESOLVED])
    if name == "overdue":
        return cases.filter(state__in=OPEN_STATES, due_at__lt=now)
    if name == "supervised":
        return cases.filter(pk__in=Supervision.objects.filter(status=Supervision.Status.OPEN).values("case_id"))
    if name == "escalated":
        return cases.filter(escalations__gt=0, state__in=OPEN_STATES)
    if name == "to_follow_up":
        return cases.filter(state=State.CLOSED, follow_ups__isnull=True)
    if name == "to_coordinate":  # coordination requests to the user's orgs that await their answer
        asked = CoordinationRequest.objects.filter(to_org_id__in=orgs, replied_at__isnull=True)
        return cases.filter(pk__in=asked.values("case_id"))
    return cases.none()


@dataclass
class Filters:
    q: str = ""
    state: str = ""
    category: str = ""
    risk: str = ""
    channel: str = ""
    region: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None


def _search(cases: QuerySet[Case], q: str) -> QuerySet[Case]:
    """Chinese substring search: trigram index for 3+ characters, scoped LIKE for 1–2 (names)."""
    q = q.strip()
    if not q:
        return cases
    if len(q) >= 3:
        if connection.vendor == "sqlite":
            phrase = '"' + q.replace('"', '""') + '"'
            matched = Case.objects.extra(  # parameterised; FTS5 needs MATCH
                where=["cases_case.id IN (SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s)"],
                params=[phrase],
            ).values("id")
        else:
            matched = Case.objects.extra(  # parameterised; same expression as the GIN index
                where=["(cases_case.number || ' ' || cases_case.title || ' ' || cases_case.description) ILIKE %s"],
                params=[f"%{_escape_like(q)}%"],
            ).values("id")
        by_party = Party.objects.filter(name__contains=q).values("case_id")
        return cases.filter(Q(pk__in=matched) | Q(pk__in=by_party) | Q(number=q))
    # One or two characters (most names): the scoped set is small enough to scan.
    return cases.filter(
        Q(title__contains=q)
        | Q(description__contains=q)
        | Q(pk__in=Party.objects.filter(name__contains=q).values("case_id"))
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def cases_filtered(cases: QuerySet[Case], filters: Filters) -> QuerySet[Case]:
    if filters.state:
        cases = cases.filter(state=filters.state)
    if filters.category:
        cases = cases.filter(category__code=filters.category)
    if filters.risk:
        cases = cases.filter(risk_level=filters.risk)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.region:
        cases = cases.filter(access.Scope(prefixes=(filters.region,)).q())
    if filters.since:
        cases = cases.filter(registered_at__date__gte=filters.since)
    if filters.until:
        cases = cases.filter(registered_at__date__lte=filters.until)
    return _search(cases, filters.q)


def for_list(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What a list row shows, fetched in a fixed number of queries whatever the page size."""
    return cases.select_related("category", "region", "center").order_by("-registered_at", "-id")


@dataclass(frozen=True)
class ImportedCase:
    """An imported case as a re-import of its ledger sees it."""

    pk: int
    number: str
    version: int
    state: str
    region_code: str
    registered_at: datetime.datetime
    closed_at: datetime.datetime | None
    outcome: str
    handled: bool  # changed on the platform since it was imported


def imported_cases(originals: list[str]) -> dict[str, ImportedCase]:
    """The imported cases by original number (the import checks the jurisdiction itself).

    Handled on the platform: an event the import did not write (the import marks each `imported`; an
    intake only ever registers the case, so it counts as the import's, marked or not, as in cases
    imported before the mark), or a version beyond the import's last event.
    """
    by_import = Q(events__data__imported=True) | Q(events__kind="intake")
    rows = (
        Case.objects.filter(channel=Case.Channel.IMPORT, original_number__in=originals)
        .annotate(
            n_events=Count("events"),
            n_imported=Count("events", filter=by_import),
            import_version=Max("events__version", filter=by_import),
        )
        .values_list(
            "original_number",
            "pk",
            "number",
            "version",
            "state",
            "region_code",
            "registered_at",
            "closed_at",
            "outcome",
            "n_events",
            "n_imported",
            "import_version",
        )
    )
    found = {}
    for original, pk, number, version, state, region, registered, closed, outcome, n, n_imported, last in rows:
        handled = n != n_imported or version != last
        found[original] = ImportedCase(pk, number, version, state, region, registered, closed, outcome, handled)
    return found


def category_by_code_or_name(text: str, *, field: str = "category") -> Category:
    """The active dispute category a person typed: its code (`labour`) or its name (劳动争议).

    A name two categories share is refused, naming their codes; ValidationError keyed by `field`.
    """
    typed = text.strip()
    active = Category.objects.filter(active=True)
    found = active.filter(code=typed).first() or None
    if found is not None:
        return found
    named = list(active.filter(name=typed).order_by("code")[:5]) if typed else []
    if len(named) == 1:
        return named[0]
    if named:
        codes = "、".join(c.code for c in named)
        raise ValidationError(
            {field: [_("有多个纠纷类别名为“%(n)s”（%(c)s），请填写类别代码。") % {"n": typed, "c": codes}]}
        )
    raise ValidationError({field: [_("纠纷类别“%(n)s”不存在或已停用。") % {"n": typed[:40]}]})


def parties_in_registry(case: Case) -> dict[int, tuple[str, str]]:
    """Party id -> (民族, 常用语言) of the parties the population registry knows, by the registry's keyed hash."""
    people = [p for p in case.parties.all() if p.kind == Party.Kind.PERSON and p.id_number]
    by_index = {resident_id_index(p.id_number): p.pk for p in people}
    if not by_index:
        return {}
    found = Resident.objects.filter(id_index__in=list(by_index)).values_list("id_index", "ethnicity", "language")
    return {by_index[index]: (ethnicity, language) for index, ethnicity, language in found}


def county_court(case: Case) -> Org | None:
    """The court of the case's county (its 速裁法庭 in the seeded league), where a 司法确认 is filed."""
    county = case.region_code[:6]
    courts = Org.objects.filter(kind=Org.Kind.COURT, region_code__startswith=county)
    return courts.filter(code=f"{county}-FTC").first() or courts.order_by("code").first()
