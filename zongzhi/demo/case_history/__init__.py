"""The demo league's case history: 18 months of disputes, from the 4,600 imported ones to this week's.

Planned in memory like `plan.py` (always the whole league, one random stream per county, so
Xilinhot's cases are the same at both scales) and written like `seed.py` (bulk inserts of the cases
whose number is missing, with everything hanging off them). Each case has one consistent story:
its timeline follows the transition table with increasing versions, and its assignments, sessions,
agreement, court referrals, follow-up and supervision rows say what its events say. Late cases
carry what the deadline sweep (`cases/deadlines.py`) would have issued on the way: 提示函, 督办单,
督办函 and 上提 with a fresh deadline.

The history ends the day before it is first written. A rerun reads that day back from the stored
cases, so case numbers (`{county}{yyyymmdd}{nnnn}`) come out the same and nothing is written twice.
"""

import datetime
import random
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from zongzhi.cases.models import CalendarDay, Case, DeadlinePolicy
from zongzhi.demo.plan import XILINHOT, Plan, allocate, build_plan

from .planner import _CountyPlanner
from .story import _Story
from .texts import HISTORY_DAYS, IMPORTED, LEAGUE_MAJORS, LIVE, LIVE_DAYS, PHONE_PREFIXES, _original_number
from .world import _at, _Case, _local, _World
from .writer import _write

# Used by the resident seeder.
__all__ = [
    "LIVE_DAYS",
    "PHONE_PREFIXES",
    "plan_case_history",
    "seed_case_history",
    "stored_anchor",
]


# ---- the whole league ---------------------------------------------------------------------------


def plan_case_history(plan: Plan, anchor: datetime.date, seed_value: int, world: _World | None = None) -> list[_Case]:
    """Every county's cases with their stories, up to the day before `anchor`."""
    world = world or _world(plan, anchor)
    counties = plan.reference["counties"]
    weights = [c["population_10k"] * (1.15 if c["pastoral"] else 1.0) for c in counties]
    imported = allocate(IMPORTED, weights, minimum=10)
    live = allocate(LIVE, weights, minimum=10)
    end = _at(anchor, datetime.time(0, 0))
    cases: list[_Case] = []
    for county, n_imported, n_live in zip(counties, imported, live, strict=True):
        planner = _CountyPlanner(world, county, anchor, seed_value)
        county_cases = planner.plan(n_imported, n_live, LEAGUE_MAJORS.get(county["code"][:6], []))
        rng = random.Random(f"zongzhi-case-stories:{seed_value}:{county['code'][:6]}")
        for case in county_cases:
            _Story(world, case, rng, end).run()
        cases += county_cases
    _number_supervisions(cases)
    return cases


def _number_supervisions(cases: list[_Case]) -> None:
    """Document numbers per issuing center, kind and year in the order issued, as the service counts."""
    documents = sorted(
        ((s.issued_at, case.number, i, s) for case in cases for i, s in enumerate(case.supervisions)),
        key=lambda d: d[:3],
    )
    counters: dict[tuple[str, str, int], int] = defaultdict(int)
    for issued, _number, _i, sup in documents:
        year = _local(issued).year
        counters[sup.issuer_center, sup.kind, year] += 1
        sup.number = (
            f"{sup.issuer_center}-{sup.kind[:2].upper()}〔{year}〕{counters[sup.issuer_center, sup.kind, year]:04d}"
        )


def _world(plan: Plan, anchor: datetime.date) -> _World:
    start = anchor - datetime.timedelta(days=HISTORY_DAYS + 30)
    calendar = dict(
        CalendarDay.objects.filter(day__gte=start, day__lte=anchor + datetime.timedelta(days=400)).values_list(
            "day", "workday"
        )
    )
    policies = list(
        DeadlinePolicy.objects.values_list(
            "category__code", "risk_level", "sign_for_days", "handle_days", "accept_days"
        )
    )
    return _World(plan, calendar, policies)


def stored_anchor() -> datetime.date | None:
    """The day the stored history ends before, read back from its oldest imported case."""
    registered = (
        Case.objects.filter(original_number=_original_number(XILINHOT, 1), channel=Case.Channel.IMPORT)
        .values_list("registered_at", flat=True)
        .first()
    )
    if registered is None:
        return None
    return _local(registered).date() + datetime.timedelta(days=HISTORY_DAYS)


# ---- writing it ---------------------------------------------------------------------------------


def seed_case_history(
    *, scale: str, seed_value: int, plan: Plan | None = None, as_of: datetime.date | None = None
) -> int:
    """Write the league's case history (scale league) or Xilinhot's (scale small); returns cases inserted."""
    plan = plan or build_plan(seed_value)
    anchor = as_of or stored_anchor() or timezone.localdate()
    counties = None if scale == "league" else {XILINHOT}
    world = _world(plan, anchor)
    cases = [c for c in plan_case_history(plan, anchor, seed_value, world) if counties is None or c.county in counties]
    existing: set[str] = set()
    numbers = [c.number for c in cases]
    for i in range(0, len(numbers), 500):
        existing.update(Case.objects.filter(number__in=numbers[i : i + 500]).values_list("number", flat=True))
    missing = [c for c in cases if c.number not in existing]
    if not missing:
        return 0
    with transaction.atomic():
        _write(missing, world)
    return len(missing)
