"""Each persona's work lists on the home page: what waits on this person, not what the county holds.

- judge: the referrals awaiting their court (司法确认, 诉调对接);
- mediator: their week (room bookings and sessions on their org's cases) and their cases;
- liaison: their org's cases to sign for, in hand and overdue;
- director: the week's room calendar of their center and what waits on whom;
- clerk, director, leader: the instalments overdue (分期逾期) of their cases.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from zongzhi import access
from zongzhi.accounts.models import Role
from zongzhi.cases import selectors
from zongzhi.cases.models import Case, CourtReferral, MediationSession, RoomBooking
from zongzhi.centers.models import Room

LIST_SIZE = 20


@dataclass
class Slot:
    """One entry of a week calendar: a booking or a session, at a time, in a place, on a case."""

    starts: datetime.datetime
    ends: datetime.datetime | None
    kind: str  # booking, session
    place: str
    case: Case


@dataclass
class Day:
    day: datetime.date
    today: bool
    slots: list[Slot] = field(default_factory=list)


@dataclass
class RoomRow:
    room: Room
    days: list[Day]


def week_start(raw: str) -> datetime.date:
    """The Monday of the week asked for (`?week=2026-12-07`), this week when absent or not a date."""
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        day = timezone.localdate()
    return selectors.week_of(day)[0]


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _booking_slot(b: RoomBooking) -> Slot:
    return Slot(b.starts_at, b.ends_at, "booking", f"{b.room.center.name} {b.room.name}", b.case)


def _session_slot(s: MediationSession) -> Slot:
    return Slot(s.held_at, None, "session", s.room.name if s.room else s.place, s.case)


def mediator_week(user: Any, monday: datetime.date) -> list[Day]:
    """The mediator's week, day by day: bookings (room and time) and the sessions held."""
    _monday, days = selectors.week_of(monday)
    today = timezone.localdate()
    bookings, sessions = selectors.sessions_of_week(user, monday)
    grid = [Day(d, d == today) for d in days]
    for slot in [*map(_booking_slot, bookings), *map(_session_slot, sessions)]:
        index = (_local_day(slot.starts) - monday).days
        if 0 <= index < 7:
            grid[index].slots.append(slot)
    for day in grid:
        day.slots.sort(key=lambda s: s.starts)
    return grid


def room_calendar(user: Any, monday: datetime.date) -> list[RoomRow]:
    """The director's centers' rooms × the week's days, each cell the bookings of that room that day."""
    _monday, days = selectors.week_of(monday)
    today = timezone.localdate()
    rooms, bookings = selectors.room_bookings_of_week(user, monday)
    rows = {r.pk: RoomRow(r, [Day(d, d == today) for d in days]) for r in rooms}
    for b in bookings:
        index = (_local_day(b.starts_at) - monday).days
        if b.room_id in rows and 0 <= index < 7:
            rows[b.room_id].days[index].slots.append(Slot(b.starts_at, b.ends_at, "booking", b.room.name, b.case))
    return list(rows.values())


def _listed(user: Any, name: str) -> list[Case]:
    return list(selectors.for_list(selectors.queue(user, name))[:LIST_SIZE])


def work_lists(user: Any, week: str = "") -> dict[str, Any]:
    """The home page's lists for the user's roles (only those they hold)."""
    roles = access.roles_of(user)
    today = timezone.localdate()
    monday = week_start(week)
    queues = selectors.queues_of(user)
    context: dict[str, Any] = {
        "queues": [(key, selectors.QUEUES[key], n) for key, n in selectors.queue_counts(user, queues).items()],
        "monday": monday,
        "previous_week": (monday - datetime.timedelta(days=7)).isoformat(),
        "next_week": (monday + datetime.timedelta(days=7)).isoformat(),
        "days": selectors.week_of(monday)[1],
    }
    if Role.JUDGE in roles:
        referrals = list(selectors.referrals_pending(user)[:200])
        context["confirmations"] = [r for r in referrals if r.kind == CourtReferral.Kind.CONFIRMATION]
        context["litigations"] = [r for r in referrals if r.kind == CourtReferral.Kind.LITIGATION]
    if Role.MEDIATOR in roles:
        context["mediator_week"] = mediator_week(user, monday)
        context["my_cases"] = _listed(user, "in_progress")
        context["my_to_sign"] = _listed(user, "to_sign")
    if Role.DEPT_LIAISON in roles:
        context["liaison_lists"] = [
            ("to_sign", selectors.QUEUES["to_sign"], _listed(user, "to_sign")),
            ("in_progress", selectors.QUEUES["in_progress"], _listed(user, "in_progress")),
            ("overdue", selectors.QUEUES["overdue"], _listed(user, "overdue")),
        ]
    if Role.CENTER_DIRECTOR in roles:
        context["room_calendar"] = room_calendar(user, monday)
        context["waiting"] = selectors.waiting_on(user)
    if roles & {Role.CENTER_DIRECTOR, Role.INTAKE_CLERK, Role.LEADER}:
        context["instalments_overdue"] = selectors.instalments_overdue(user, today).count()
    return context
