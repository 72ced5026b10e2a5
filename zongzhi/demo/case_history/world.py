"""The world the demo cases happen in (places, centers, staff, calendar) and the planned rows."""

import datetime
import functools
import random
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings

from zongzhi.cases.calendar import is_workday
from zongzhi.cases.models import (
    Assignment,
    CourtReferral,
    Supervision,
)
from zongzhi.demo.plan import Plan, PRegion

from .texts import S

# ---- the world the cases happen in (from the plan) ------------------------------------------------


class _World:
    """Look-ups over the league plan: places, centers and who works where."""

    def __init__(self, plan: Plan, calendar: dict[datetime.date, bool], policies: list[tuple[Any, str, int, int, int]]):
        self.plan = plan
        self.regions: dict[str, PRegion] = {r.code: r for r in plan.regions}
        self.villages: dict[str, list[PRegion]] = defaultdict(list)
        self.grids: dict[str, list[str]] = defaultdict(list)
        for r in plan.regions:
            if r.level == "village":
                self.villages[r.code[:6]].append(r)
            elif r.level == "grid" and r.parent:
                self.grids[r.parent].append(r.code)
        self.workers: dict[str, list[str]] = defaultdict(list)
        for w in plan.grid_workers:
            self.workers[w.grid].append(w.name)
        self.centers = {c.code: c for c in plan.centers}
        self.orgs = {o.code: o for o in plan.orgs}
        self.names: dict[str, str] = {}
        self.org_users: dict[str, list[str]] = defaultdict(list)
        self.directors: dict[str, list[str]] = defaultdict(list)
        self.clerks: dict[str, list[str]] = defaultdict(list)
        self.leaders: dict[str, list[str]] = defaultdict(list)  # by jurisdiction prefix (4 or 6 digits)
        for a in plan.accounts:
            self.names[a.username] = a.full_name
            if a.role in ("dept_liaison", "mediator", "judge") and a.org:
                self.org_users[a.org].append(a.username)
            elif a.role == "center_director" and a.center:
                self.directors[a.center].append(a.username)
            elif a.role == "intake_clerk" and a.center:
                self.clerks[a.center].append(a.username)
            elif a.role == "leader" and a.jurisdiction:
                prefix = a.jurisdiction[:4] if a.jurisdiction.endswith("00000000") else a.jurisdiction[:6]
                self.leaders[prefix].append(a.username)
        self.league_center = next(c.code for c in plan.centers if c.level == "league")
        self.calendar = calendar
        self.policies = policies  # (category code or None, risk or "", sign days, handle days, accept days)

    def pick_user(self, rng: random.Random, users: list[str], demo_share: float = 0.3) -> str:
        """One of several accounts; the demo login gets its share so the personas have work."""
        demo = [u for u in users if u.startswith("demo-")]
        if demo and rng.random() < demo_share:
            return rng.choice(demo)
        return rng.choice([u for u in users if not u.startswith("demo-")] or users)

    def director(self, rng: random.Random, center: str) -> str:
        return self.pick_user(rng, self.directors[center], 0.35)

    def leader(self, rng: random.Random, center: str) -> str:
        return self.pick_user(rng, self.leaders[self.leader_prefix(center)], 0.3)

    def leader_prefix(self, center: str) -> str:
        """The jurisdiction of the leaders over a center: its county's, else the league's."""
        region = self.centers[center].region
        return region[:6] if self.leaders.get(region[:6]) else region[:4]

    def leader_center(self, center: str) -> str:
        """The center a leader over `center` acts for (as `services._own_center`): the county's or the league's."""
        prefix = self.leader_prefix(center)
        return f"ZZ-{prefix}" if len(prefix) == 6 else self.league_center

    def handler(self, rng: random.Random, org: str) -> str:
        return self.pick_user(rng, self.org_users[org], 0.5)

    def actor_name(self, username: str | None) -> str:
        if username is None:
            return "系统"
        return self.names.get(username) or username

    def add_working_days(self, start: datetime.datetime, days: int) -> datetime.datetime:
        """As `calendar.add_working_days`, with the calendar read once."""
        day, counted = _local(start).date(), 0
        while counted < days:
            day += datetime.timedelta(days=1)
            counted += is_workday(day, self.calendar)
        return _at(day, datetime.time(23, 59, 59))

    def policy(self, category: str, risk: str) -> tuple[Any, str, int, int, int] | None:
        """The most specific policy, as `services.policy_for`."""
        candidates = [p for p in self.policies if p[0] in (category, None) and p[1] in (risk, "")]
        return min(candidates, key=lambda p: (p[0] is None, p[1] == ""), default=None)

    def deadlines(self, category: str, risk: str, start: datetime.datetime) -> tuple[datetime.datetime, ...]:
        """Sign-for and handling deadlines by the policy."""
        best = self.policy(category, risk)
        sign, handle = (best[2], best[3]) if best else (1, 30)
        return self.add_working_days(start, sign), self.add_working_days(start, handle)

    def acceptance_due(self, category: str, risk: str, start: datetime.datetime) -> datetime.datetime:
        """As `services.acceptance_due`: the policy's acceptance days (one by default)."""
        best = self.policy(category, risk)
        return self.add_working_days(start, best[4] if best else 1)


@functools.cache
def _tz() -> datetime.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _at(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=_tz())


def _local(moment: datetime.datetime) -> datetime.datetime:
    # Called a hundred thousand times: timezone.localtime() would look up the active zone on each call.
    return moment.astimezone(_tz())


# ---- the planned rows ---------------------------------------------------------------------------


@dataclass
class _Event:
    kind: str
    actor: str | None
    at: datetime.datetime
    from_state: str
    to_state: str
    versioned: bool
    data: dict[str, Any]
    version: int = 0


@dataclass
class _Party:
    kind: str
    role: str
    name: str
    id_number: str
    nationality: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class _Assignment:
    org: str
    role: str
    deadline: datetime.datetime
    sign_for_due: datetime.datetime
    assigned_by: str
    assigned_at: datetime.datetime
    status: str = Assignment.Status.PENDING
    signed_by: str | None = None
    signed_at: datetime.datetime | None = None
    return_reason: str = ""


@dataclass
class _Session:
    held_at: datetime.datetime
    place_kind: str
    room: tuple[str, str] | None  # center code, room name
    place: str
    mediators: str
    attendees: str
    record: str
    recorded_by: str


@dataclass
class _Instalment:
    due_on: datetime.date
    amount: Decimal
    paid_on: datetime.date | None = None
    paid_amount: Decimal | None = None
    receipt_number: str = ""


@dataclass
class _Agreement:
    number: str
    facts: str
    terms: str
    amount: Decimal | None
    performance_method: str
    performance_place: str
    performance_due: datetime.date
    signed_on: datetime.date
    recorded_by: str
    instalments: list[_Instalment] = field(default_factory=list)


@dataclass
class _Referral:
    court: str
    kind: str
    referred_at: datetime.datetime
    result: str = CourtReferral.Result.PENDING
    decided_at: datetime.datetime | None = None
    note: str = ""


@dataclass
class _FollowUp:
    at: datetime.datetime
    method: str
    performance: str
    satisfaction: str
    note: str
    by: str


@dataclass
class _Supervision:
    kind: str
    issuer: str | None
    issuer_center: str
    target_org: str | None
    reason: Callable[[], str]  # may quote another document's number, known only once all are numbered
    deadline: datetime.datetime
    issued_at: datetime.datetime
    number: str = ""
    status: str = Supervision.Status.OPEN
    reply: str = ""
    replied_at: datetime.datetime | None = None
    effect: str = ""
    target_center: str | None = None  # addressed to a center when no org holds the case


@dataclass
class _Coordination:
    from_org: str
    to_org: str
    message: str
    requested_by: str
    requested_at: datetime.datetime
    reply: str = ""
    replied_at: datetime.datetime | None = None


@dataclass
class _Case:
    county: str
    channel: str
    category: str
    title: str
    description: str
    region: str
    location: str
    lng: float | None
    lat: float | None
    amount: Decimal | None
    people: int
    foreign: bool
    risk: str
    risk_suggested: str
    risk_reasons: list[str]
    risk_override: str
    major: bool
    center: str
    owner: str
    registered_at: datetime.datetime
    occurred_on: datetime.date
    target: str
    intake_data: dict[str, Any]
    parties: list[_Party]
    number: str = ""
    original_number: str = ""
    state: str = S.REGISTERED
    version: int = 0
    escalations: int = 0
    awaiting_director: bool = False
    due_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None
    outcome: str = ""
    outcome_note: str = ""
    league_major: bool = False
    events: list[_Event] = field(default_factory=list)
    assignments: list[_Assignment] = field(default_factory=list)
    sessions: list[_Session] = field(default_factory=list)
    agreement: _Agreement | None = None
    referrals: list[_Referral] = field(default_factory=list)
    follow_ups: list[_FollowUp] = field(default_factory=list)
    supervisions: list[_Supervision] = field(default_factory=list)
    coordinations: list[_Coordination] = field(default_factory=list)
