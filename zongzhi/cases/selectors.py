"""Reading cases, always through `access.cases_q(user)`: jurisdiction plus what was pushed to the user's orgs."""

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case as DbCase
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Value, When, prefetch_related_objects
from django.db.models.functions import Length
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.accounts.models import Role
from zongzhi.cases.models import (
    OPEN_STATES,
    Agreement,
    Assignment,
    Case,
    CaseEvent,
    Category,
    CoordinationRequest,
    CourtReferral,
    FollowUp,
    Instalment,
    InstalmentPayment,
    MediationSession,
    Party,
    RoomBooking,
    State,
    Supervision,
)
from zongzhi.centers.models import Org, Room
from zongzhi.grid.models import Resident
from zongzhi.grid.selectors import resident_id_index
from zongzhi.outbox.clock import reminder_key
from zongzhi.outbox.models import Event
from zongzhi.regions import codes


def cases_visible(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(access.cases_q(user))


def by_number(number: str) -> Q:
    """The case of this number, named also by its county: a number begins with its case's county code
    (`numbering.py`) and a case never leaves its region, so the lookup names the region code the case's
    rows are distributed on at national scale (docs/national.md)."""
    return Q(number=number, region_code__startswith=number[:6])


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
    Prefetch("agreement__instalments__payments", queryset=InstalmentPayment.objects.order_by("paid_on", "id")),
    "coordination_requests__from_org",
    "coordination_requests__to_org",
)
API_RELATED = PAGE_RELATED[:5]  # what the API's case body shows


def in_county(related: tuple, county: str) -> list[str | Prefetch]:
    """The prefetches of `related`, each list of a case's own rows (parties, events, instalments …)
    read with its county prefix, so every query of a case page names the region code it is
    distributed on (docs/national.md). Single rows (select_related) and many-to-many links (a related
    case may be in another county) are left as they are."""
    done: dict[str, str | Prefetch] = {}
    for lookup in related:
        path = lookup.prefetch_through if isinstance(lookup, Prefetch) else lookup
        model: Any = Case
        parts = path.split("__")
        for depth, part in enumerate(parts):
            field = model._meta.get_field(part)
            model = field.related_model
            through = "__".join(parts[: depth + 1])
            last = depth == len(parts) - 1
            if through in done or field.many_to_many or not field.one_to_many:
                if last and through not in done:
                    done[through] = lookup
                continue
            if last and isinstance(lookup, Prefetch):
                queryset = lookup.queryset if lookup.queryset is not None else model.objects.all()
                done[through] = Prefetch(through, queryset=_in_county(queryset, county))
            else:
                done[through] = Prefetch(through, queryset=_in_county(model.objects.all(), county))
    return list(done.values())


def _in_county(rows: Any, county: str) -> Any:
    """A case's own rows with its county prefix; those ordered by their case (a join to it) name the
    case's prefix too, so the joined case is read on the same shard."""
    rows = rows.filter(region_code__startswith=county)
    if "case" in rows.model._meta.ordering:
        rows = rows.filter(case__region_code__startswith=county)
    return rows


def case_get(user: Any, number: str, *, related: tuple = PAGE_RELATED) -> Case:
    """One case with what its page (or the API body) shows; 404 whether missing or not the user's."""
    county = number[:6]  # the agreement is prefetched, not joined, so that its read names the county too
    cases = cases_visible(user).select_related("category", "region", "center", "owner")
    agreement = Prefetch("agreement", queryset=Agreement.objects.filter(region_code__startswith=county))
    cases = cases.prefetch_related(agreement, *in_county(related, county))
    return get_object_or_404(cases, by_number(number))


# What the printed documents (cases/documents.py) read of a case.
DOCUMENT_RELATED = (
    "parties",
    Prefetch("assignments", queryset=Assignment.objects.select_related("org").order_by(LEAD_FIRST, "id")),
    "sessions__room__org",
    "court_referrals__court",
    "follow_ups",
    "supervisions__issuer_center",
    "supervisions__target_org",
    "supervisions__target_center",
    "agreement__instalments",
)


def with_documents_read(case: Case) -> Case:
    """The case with what its documents read (DOCUMENT_RELATED), each read naming its county prefix; what
    is already read (a case page's case from `case_get`) is not read again."""
    county = case.number[:6]
    agreement = Prefetch("agreement", queryset=Agreement.objects.filter(region_code__startswith=county))
    prefetch_related_objects([case], agreement, *in_county(DOCUMENT_RELATED, county))
    return case


def case_for_action(user: Any, number: str) -> Case:
    """The case to act on (the services reload what they need); 404 as above.

    Read with it, in the same statement (`_action_facts`): whether a party has an identity number or a
    phone (the `unmask` action's condition), whether the case has any 督办 document and any unanswered
    request for coordination, so that an action on a case without them, and the answer's allowed
    actions, read none of them separately (`access.read_supervisions`, `access.case_roles`,
    `catalogue._maskable`)."""
    cases = cases_visible(user).select_related("center", "category", "region").annotate(**_action_facts())
    case = get_object_or_404(cases, by_number(number))
    case._loaded_for_action = True  # type: ignore[attr-defined]
    return case


@functools.cache
def _action_facts() -> dict[str, Exists]:
    """Built once per process: each query resolves its own copy."""
    own = {"case": OuterRef("pk"), "region_code": OuterRef("region_code")}
    # Stored ciphertext is empty exactly when the value is (the columns themselves take no lookups).
    contact = Party.objects.filter(**own).annotate(id_length=Length("id_number"), phone_length=Length("phone"))
    return {
        "has_contact_parties": Exists(contact.filter(Q(id_length__gt=0) | Q(phone_length__gt=0))),
        "has_supervisions": Exists(Supervision.objects.filter(**own)),
        "has_open_coordination": Exists(CoordinationRequest.objects.filter(**own, replied_at__isnull=True)),
    }


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
    "to_confirm": "待司法确认",
    "referred": "诉调对接",
    "instalments_overdue": "分期逾期",
}

# The queues each role works from, in QUEUES' order on the pages (a user with several roles sees the union).
ROLE_QUEUES: dict[str, tuple[str, ...]] = {
    Role.CENTER_DIRECTOR: (
        "to_accept",
        "to_assign",
        "in_progress",
        "to_close",
        "overdue",
        "supervised",
        "escalated",
        "to_follow_up",
        "instalments_overdue",
    ),
    Role.INTAKE_CLERK: ("to_accept", "overdue", "to_follow_up", "instalments_overdue"),
    Role.DEPT_LIAISON: ("to_sign", "in_progress", "overdue", "supervised", "to_coordinate"),
    Role.MEDIATOR: ("to_sign", "in_progress", "overdue", "supervised", "to_coordinate"),
    Role.JUDGE: ("to_confirm", "referred", "to_coordinate"),
    Role.LEADER: ("overdue", "supervised", "escalated", "to_follow_up", "instalments_overdue"),
    Role.GRID_WORKER: ("to_accept", "in_progress", "overdue"),
}
LIVE = (Assignment.Status.PENDING, Assignment.Status.SIGNED)


def queues_of(user: Any) -> list[str]:
    """The queues of the user's roles (all of them for a role that has none of its own)."""
    roles = access.roles_of(user)
    names = {q for role in roles for q in ROLE_QUEUES.get(role, QUEUES)}
    return [name for name in QUEUES if name in names]


def work_q(user: Any) -> Q:
    """The cases that are the user's own work, not all they may read: their centers' (director, clerk),
    those they registered (首问), their orgs' (pushed, asked, referred to their court), and for a leader
    or a grid worker their jurisdiction. A judge's county-wide reading is not a judge's work."""
    roles = access.roles_of(user)
    q = Q(owner_id=getattr(user, "pk", None))
    centers = access.center_ids_of(user, Role.CENTER_DIRECTOR) | access.center_ids_of(user, Role.INTAKE_CLERK)
    if centers:
        q |= Q(center_id__in=centers)
    orgs = access.org_ids_of(user)
    if orgs:
        within = access.reach_q(user)
        q |= Q(pk__in=Assignment.objects.filter(within, org_id__in=orgs).values("case_id"))
        q |= Q(pk__in=CoordinationRequest.objects.filter(within, to_org_id__in=orgs).values("case_id"))
        q |= Q(pk__in=CourtReferral.objects.filter(within, court_id__in=orgs).values("case_id"))
    if roles & {Role.LEADER, Role.GRID_WORKER}:
        q |= access.scope_of(user).q()
    return q


def my_cases(user: Any) -> QuerySet[Case]:
    """The user's own work (see `work_q`), within what they may read."""
    return cases_visible(user).filter(work_q(user))


def _org_overdue(orgs: frozenset[int], now: datetime.datetime, within: Q) -> Q:
    late = Q(status=Assignment.Status.PENDING, sign_for_due__lt=now) | Q(
        status=Assignment.Status.SIGNED, deadline__lt=now
    )
    return Q(pk__in=Assignment.objects.filter(late, within, org_id__in=orgs).values("case_id"))


def _pending_referrals(orgs: frozenset[int], kind: str, within: Q) -> Q:
    referred = CourtReferral.objects.filter(court_id__in=orgs, kind=kind, result=CourtReferral.Result.PENDING)
    return Q(pk__in=referred.filter(within).values("case_id"))


@dataclass(frozen=True)
class _Work:
    """What a user's queues are built from, read once for all of them."""

    orgs: frozenset[int]
    by_org: bool  # a department's, committee's or court's user: their org's part of a case is their work
    scope: access.Scope | None  # the jurisdiction that bounds everything they read; None when it does not
    reach: tuple[str, str] | None  # the range of region codes of everything they read (`access.reach_of`)

    def within(self, field: str = "region_code") -> Q:
        """A queue subquery's rows (supervisions, follow-ups, instalments …) within what the user reads.

        Each case-side row carries its case's region code (docs/national.md), so this changes no count:
        it names the region code the subquery's rows are distributed on, as the case predicate does.
        For a user whose orgs take pushed cases, anywhere in the orgs' reach, it is that reach."""
        return codes.range_q(self.reach, field) if self.scope is None else self.scope.q(field)


def _work(user: Any) -> _Work:
    orgs = access.org_ids_of(user)
    centered = access.center_ids_of(user, Role.CENTER_DIRECTOR) | access.center_ids_of(user, Role.INTAKE_CLERK)
    scope = access.scope_of(user)
    return _Work(
        orgs=orgs,
        by_org=bool(orgs) and not centered and not access.roles_of(user) & {Role.LEADER},
        scope=None if orgs or scope.is_empty else scope,
        reach=access.reach_of(user),
    )


def _queue_q(work: _Work, name: str) -> Q | None:
    """The condition a queue puts on the user's own work (`my_cases`); None for a queue that is empty
    for them (another role's, or one of an org they do not hold)."""
    now = timezone.now()
    if name == "to_accept":
        return Q(state=State.REGISTERED)
    if name == "to_assign":
        return Q(state=State.ACCEPTED)
    if name == "to_sign":
        if not work.orgs:
            return None
        pending = Assignment.objects.filter(org_id__in=work.orgs, status=Assignment.Status.PENDING)
        return Q(pk__in=pending.filter(work.within()).values("case_id"))
    if name == "in_progress":
        if work.by_org:  # signed for by the user's org and not finished (a co-handler's done part is not in progress)
            signed = Assignment.objects.filter(work.within(), org_id__in=work.orgs, status=Assignment.Status.SIGNED)
            return Q(state__in=(State.ASSIGNED, State.IN_PROGRESS)) & Q(pk__in=signed.values("case_id"))
        return Q(state__in=(State.IN_PROGRESS,))
    if name == "to_close":
        return Q(state__in=[State.RESOLVED, State.UNRESOLVED])
    if name == "overdue":
        if work.by_org:  # the org's own lateness: a sign-for or a handling deadline it let pass
            return _org_overdue(work.orgs, now, work.within()) & Q(state__in=OPEN_STATES)
        return Q(state__in=OPEN_STATES, due_at__lt=now)
    if name == "supervised":
        open_ = Supervision.objects.filter(status=Supervision.Status.OPEN).filter(work.within())
        if work.by_org:
            open_ = open_.filter(target_org_id__in=work.orgs)
        return Q(pk__in=open_.values("case_id"))
    if name == "escalated":
        return Q(escalations__gt=0, state__in=OPEN_STATES)
    if name == "to_follow_up":  # closed, and no follow-up recorded yet
        return Q(state=State.CLOSED) & ~Q(pk__in=FollowUp.objects.filter(work.within()).values("case_id"))
    if name == "to_coordinate":  # coordination requests to the user's orgs that await their answer
        if not work.orgs:
            return None
        asked = CoordinationRequest.objects.filter(to_org_id__in=work.orgs, replied_at__isnull=True)
        return Q(pk__in=asked.filter(work.within()).values("case_id"))
    if name in ("to_confirm", "referred"):
        if not work.orgs:
            return None
        kind = CourtReferral.Kind.CONFIRMATION if name == "to_confirm" else CourtReferral.Kind.LITIGATION
        return _pending_referrals(work.orgs, kind, work.within())
    if name == "instalments_overdue":
        late = Instalment.objects.filter(paid_on__isnull=True, due_on__lt=timezone.localdate())
        late = late.filter(work.within(), work.within("agreement__region_code"))
        return Q(pk__in=late.values("agreement__case_id"))
    return None


def queue(user: Any, name: str, mine: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """A work queue of the user: their own work (`work_q`), not the county's (pages and API alike).

    `mine` is `my_cases(user)` when the caller already built it (several queues counted at once)."""
    cases = my_cases(user) if mine is None else mine
    work = _work(user)
    if name == "to_sign" and work.orgs:  # the list joins the pending assignments, as the case rows show them
        pending = {"assignments__org_id__in": work.orgs, "assignments__status": Assignment.Status.PENDING}
        return cases.filter(work.within("assignments__region_code"), **pending).distinct()
    condition = _queue_q(work, name)
    return cases.none() if condition is None else cases.filter(condition)


def queue_counts(user: Any, names: list[str]) -> dict[str, int]:
    """The size of each of the user's queues `names`, as `queue(user, name).count()` answers it.

    One statement: one COUNT … FILTER (WHERE <queue>) per queue over their own work, each queue
    subquery naming the region codes the user reads (`_Work.within`: the scope's prefixes, or the reach
    of a department's, committee's or court's user), so the statement names the region code of every
    case-side table it reads (tests/sql_regions.py)."""
    work = _work(user)
    mine = my_cases(user)
    conditions = {name: _queue_q(work, name) for name in names}
    counted = {name: Count("pk", filter=q) for name, q in conditions.items() if q is not None}
    found = mine.aggregate(**counted) if counted else {}
    return {name: int(found.get(name, 0)) for name in names}


def instalments_overdue(user: Any, today: datetime.date) -> QuerySet[Instalment]:
    """分期逾期: the user's cases' instalments past due and not paid in full, the longest overdue first."""
    reach = access.reach_of(user)  # each case-side table read and joined names the codes the user reads
    within = [
        codes.range_q(reach, f) for f in ("region_code", "agreement__region_code", "agreement__case__region_code")
    ]
    return (
        Instalment.objects.filter(paid_on__isnull=True, due_on__lt=today, agreement__case__in=my_cases(user))
        .filter(*within)
        .exclude(agreement__case__state=State.WITHDRAWN)
        .select_related("agreement__case__center")
        .prefetch_related(
            Prefetch(
                "agreement__case__parties", queryset=Party.objects.filter(codes.range_q(reach)).order_by("role", "id")
            ),
            Prefetch("payments", queryset=InstalmentPayment.objects.filter(codes.range_q(reach))),
        )
        .order_by("due_on", "id")
    )


def reminded(instalments: list[Instalment]) -> set[int]:
    """Of these instalments, the ids of those whose parties were told by SMS they are overdue (the outbox
    key; the event carries the instalment's case's region code)."""
    keys = {reminder_key(i.pk): i.pk for i in instalments}
    told = Event.objects.filter(key__in=keys, region_code__in={i.region_code for i in instalments})
    return {keys[k] for k in told.values_list("key", flat=True) if k is not None}


def referrals_pending(user: Any) -> QuerySet[CourtReferral]:
    """The referrals awaiting the decision of the user's court(s): 司法确认 and 诉调对接, oldest first."""
    orgs = access.org_ids_of(user)
    if Role.JUDGE not in access.roles_of(user) or not orgs:
        return CourtReferral.objects.none()
    return (
        CourtReferral.objects.filter(court_id__in=orgs, result=CourtReferral.Result.PENDING)
        .filter(access.reach_q(user), access.reach_q(user, "case__region_code"), case__in=cases_visible(user))
        .select_related("case", "court", "case__category")
        .order_by("referred_at", "id")
    )


def week_of(day: datetime.date) -> tuple[datetime.date, list[datetime.date]]:
    """The Monday of `day`'s week and its seven days."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, [monday + datetime.timedelta(days=n) for n in range(7)]


def _week_bounds(monday: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time()), tz)
    return start, start + datetime.timedelta(days=7)


def sessions_of_week(user: Any, monday: datetime.date) -> tuple[list[RoomBooking], list[MediationSession]]:
    """A mediator's week: the room bookings and the sessions held on cases pushed to their org (or booked
    or recorded by them), within what they may read."""
    start, end = _week_bounds(monday)
    orgs = access.org_ids_of(user)
    within = access.reach_q(user)
    live = [*LIVE, Assignment.Status.DONE]
    mine = Assignment.objects.filter(within, org_id__in=orgs, status__in=live).values("case_id")
    readable = cases_visible(user)
    bookings = (
        RoomBooking.objects.filter(within, starts_at__lt=end, ends_at__gt=start, case__in=readable)
        .filter(Q(case_id__in=mine) | Q(booked_by_id=user.pk), access.reach_q(user, "case__region_code"))
        .select_related("room__center", "case")
        .order_by("starts_at", "id")
    )
    sessions = (
        MediationSession.objects.filter(within, held_at__gte=start, held_at__lt=end, case__in=readable)
        .filter(Q(case_id__in=mine) | Q(recorded_by_id=user.pk), access.reach_q(user, "case__region_code"))
        .select_related("room", "case")
        .order_by("held_at", "id")
    )
    return list(bookings[:500]), list(sessions[:500])


def room_bookings_of_week(user: Any, monday: datetime.date) -> tuple[list[Room], list[RoomBooking]]:
    """A director's room calendar: the rooms of the centers they direct and their bookings that week."""
    centers = access.center_ids_of(user, Role.CENTER_DIRECTOR)
    start, end = _week_bounds(monday)
    rooms = list(
        Room.objects.filter(center_id__in=centers)
        .exclude(kind__in=["window", "dispatch_hall"])
        .select_related("center")
        .order_by("center__code", "id")
    )
    bookings = (
        RoomBooking.objects.filter(room__in=rooms, starts_at__lt=end, ends_at__gt=start)
        .select_related("room", "case")
        .order_by("starts_at", "id")
    )
    return rooms, list(bookings[:1000])


@dataclass
class Waiting:
    """Open cases of a center that wait on one holder: the center itself (to accept, assign, decide) or an org."""

    holder: str
    org_code: str  # "" for the center itself
    to_sign: int = 0
    in_progress: int = 0
    to_accept: int = 0
    to_assign: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.to_sign + self.in_progress + self.to_accept + self.to_assign


def waiting_on(user: Any) -> list[Waiting]:
    """What waits on whom at the centers the user directs: their own desk first, then each lead org."""
    centers = access.center_ids_of(user, Role.CENTER_DIRECTOR)
    if not centers:
        return []
    now = timezone.now()
    cases = cases_visible(user).filter(center_id__in=centers, state__in=OPEN_STATES)
    desk = Waiting(holder=str(_("本中心")), org_code="")
    on_desk = cases.filter(Q(state__in=(State.REGISTERED, State.ACCEPTED)) | Q(awaiting_director=True))
    on_desk_counts = on_desk.aggregate(  # one statement for the desk's three figures
        to_accept=Count("pk", filter=Q(state=State.REGISTERED)),
        to_assign=Count("pk", filter=~Q(state=State.REGISTERED)),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
    )
    desk.to_accept, desk.to_assign, desk.overdue = (
        on_desk_counts["to_accept"],
        on_desk_counts["to_assign"],
        on_desk_counts["overdue"],
    )
    rows = (
        Assignment.objects.filter(
            access.reach_q(user),
            case__in=cases.filter(awaiting_director=False, state__in=(State.ASSIGNED, State.IN_PROGRESS)),
            role=Assignment.Role.LEAD,
            status__in=LIVE,
        )
        .values("org__code", "org__name")
        .annotate(
            to_sign=Count("id", filter=Q(status=Assignment.Status.PENDING)),
            in_progress=Count("id", filter=Q(status=Assignment.Status.SIGNED)),
            overdue=Count(
                "id",
                filter=Q(status=Assignment.Status.PENDING, sign_for_due__lt=now)
                | Q(status=Assignment.Status.SIGNED, deadline__lt=now),
            ),
        )
        .order_by("-overdue", "org__code")
    )
    orgs = [
        Waiting(
            holder=r["org__name"],
            org_code=r["org__code"],
            to_sign=r["to_sign"],
            in_progress=r["in_progress"],
            overdue=r["overdue"],
        )
        for r in rows
    ]
    return [desk, *orgs]


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


def _search(cases: QuerySet[Case], q: str, within: Q) -> QuerySet[Case]:
    """Chinese substring search: trigram index for 3+ characters, scoped LIKE for 1–2 (names).

    `within` is the reader's reach (`access.reach_q`): the subqueries over cases and parties name the
    region codes the outer list reads, so they stay on its shards."""
    q = q.strip()
    if not q:
        return cases
    if len(q) >= 3:
        if connection.vendor == "sqlite":
            phrase = '"' + q.replace('"', '""') + '"'
            matched = Case.objects.extra(  # parameterised; FTS5 needs MATCH
                where=["cases_case.id IN (SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s)"],
                params=[phrase],
            )
        else:
            matched = Case.objects.extra(  # parameterised; same expression as the GIN index
                where=["(cases_case.number || ' ' || cases_case.title || ' ' || cases_case.description) ILIKE %s"],
                params=[f"%{_escape_like(q)}%"],
            )
        by_party = Party.objects.filter(within, name__contains=q).values("case_id")
        return cases.filter(Q(pk__in=matched.filter(within).values("id")) | Q(pk__in=by_party) | Q(number=q))
    # One or two characters (most names): the scoped set is small enough to scan.
    return cases.filter(
        Q(title__contains=q)
        | Q(description__contains=q)
        | Q(pk__in=Party.objects.filter(within, name__contains=q).values("case_id"))
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def cases_filtered(cases: QuerySet[Case], filters: Filters, user: Any) -> QuerySet[Case]:
    """`cases` (what `user` reads) narrowed by the list's filters and its text search."""
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
    return _search(cases, filters.q, access.reach_q(user))


def for_list(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What a list row shows, fetched in a fixed number of queries whatever the page size."""
    return cases.select_related("category", "region", "center").order_by("-registered_at", "-id")


# The columns a list row shows (presenters.case_row, cases/list.html), and the page keys.
ROW_FIELDS = (
    *("id", "number", "title", "state", "region_code", "risk_level", "channel", "registered_at", "due_at"),
    *("awaiting_director", "version", "category__name", "region__name", "center__name"),
)


def list_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`for_list` with only the columns a row shows: a page of cases without their descriptions,
    locations, boundaries and the rest, each of which Python would turn into a value for nothing."""
    return for_list(cases).only(*ROW_FIELDS)


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
