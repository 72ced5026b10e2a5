"""Seasonal pastures (转场): herder households move between their summer and winter grids by themselves.

Each county has a calendar (`SeasonCalendar`: the day herders go up to the summer pasture and the
day they come back, MM-DD; 05-01 and 11-01 without one), and a household may have its own days.
`seasonal_switch` (queued every day by the scheduler, or `manage.py seasonal_switch`) moves every
herder household whose season grid differs from its grid today: the household and its residents
change grid, its claim passes to the new grid's worker (never unclaimed in between), and each
move is a `HouseholdMove` in the household's history. One transaction per county: a county's
herders move all together or not at all, and a county that fails leaves the others moved.
On SQLite the transaction takes the write lock when it begins (IMMEDIATE), so the task worker or a
page writing meanwhile waits its turn instead of meeting "database is locked" halfway.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.grid.models import GridWorker, Household, HouseholdMove, Resident, SeasonCalendar
from zongzhi.regions import codes
from zongzhi.regions.models import Region

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
HERDERS = {"herder": True, "summer_grid__isnull": False, "winter_grid__isnull": False}


def month_day_errors(value: str, label: str) -> list[str]:
    match = _MONTH_DAY.match(value)
    if match:
        try:
            datetime.date(2024, int(match[1]), int(match[2]))  # a leap year: 02-29 is a day
            return []
        except ValueError:
            pass
    return [_("%(f)s应为“月-日”，如 05-01。") % {"f": label}]


def _md(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


@dataclass(frozen=True)
class Calendar:
    summer_from: str
    winter_from: str

    def season_on(self, day: datetime.date) -> str:
        """`summer` from summer_from up to the day before winter_from, `winter` the rest of the year."""
        today, up, down = (day.month, day.day), _md(self.summer_from), _md(self.winter_from)
        summer = up <= today < down if up < down else not (down <= today < up)
        return HouseholdMove.Season.SUMMER if summer else HouseholdMove.Season.WINTER


DEFAULT_CALENDAR = Calendar(SeasonCalendar.DEFAULT_SUMMER, SeasonCalendar.DEFAULT_WINTER)


def county_calendar(county_code: str) -> Calendar:
    found = SeasonCalendar.objects.filter(county__code=county_code).first()
    if found is None:
        return DEFAULT_CALENDAR
    return Calendar(found.summer_from, found.winter_from)


def household_calendar(household: Household, county: Calendar) -> Calendar:
    return Calendar(household.summer_from or county.summer_from, household.winter_from or county.winter_from)


def season_grid_id(household: Household, calendar: Calendar, day: datetime.date) -> int:
    """The id of the grid responsible for the herder household on `day`."""
    summer = household_calendar(household, calendar).season_on(day) == HouseholdMove.Season.SUMMER
    return household.summer_grid_id if summer else household.winter_grid_id  # type: ignore[return-value]


def _county_of(code: str) -> str:
    return code[:6] + "0" * (len(code) - 6)


def calendar_set(*, actor: Any, county: Region, summer_from: str, winter_from: str) -> SeasonCalendar:
    """A county's moving days, set by its center director (or a league director)."""
    if county.level != codes.COUNTY:
        raise ValidationError({"county": [_("转场日历按旗县市区设置。")]})
    if not ("center_director" in access.roles_of(actor) and access.scope_of(actor).covers(county.code)):
        raise ValidationError({"county": [_("只有本旗县市区（或盟级）的中心主任可以设置转场日历。")]})
    errors = {
        field: messages
        for field, value, label in (
            ("summer_from", summer_from, _("转场夏营地日期")),
            ("winter_from", winter_from, _("返回冬营地日期")),
        )
        if (messages := month_day_errors(value, label))
    }
    if not errors and summer_from == winter_from:
        errors["winter_from"] = [_("返回冬营地日期不能与转场夏营地日期相同。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        calendar, _created = SeasonCalendar.objects.update_or_create(
            county=county, defaults={"summer_from": summer_from, "winter_from": winter_from, "updated_by": actor}
        )
        audit_record(
            action=AuditEntry.Action.CONFIG_CHANGED,
            actor=actor,
            target=county.code,
            detail={"season_calendar": {"summer_from": summer_from, "winter_from": winter_from}},
        )
    return calendar


def household_days_set(*, actor: Any, household: Household, summer_from: str, winter_from: str) -> Household:
    """A herder household's own moving days (both empty: its county's calendar again); by the grid
    worker of its grids or a center director in jurisdiction."""
    if not (household.herder and household.summer_grid_id and household.winter_grid_id):
        raise ValidationError({"summer_from": [_("只有登记了夏、冬营地的牧户才有转场日期。")]})
    held = access.roles_of(actor)
    if not (held & {"grid_worker", "center_director"} and access.scope_of(actor).covers(household.region_code)):
        raise PermissionDenied(_("只有本网格的网格员或辖区中心主任可以修改本户的转场日期。"))
    errors = {
        field: messages
        for field, value, label in (
            ("summer_from", summer_from, _("本户转场夏营地日期")),
            ("winter_from", winter_from, _("本户返回冬营地日期")),
        )
        if value and (messages := month_day_errors(value, label))
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        household.summer_from, household.winter_from = summer_from, winter_from
        days = {"summer_from": summer_from, "winter_from": winter_from}
        if not Household.objects.filter(pk=household.pk, region_code=household.region_code).update(**days):
            raise ValidationError({"summer_from": [_("该户刚刚转场，请刷新后重新填写。")]})
        audit_record(
            action=AuditEntry.Action.CONFIG_CHANGED,
            actor=actor,
            target=household.code,
            detail={"household_season": {"summer_from": summer_from, "winter_from": winter_from}},
        )
    return household


def _workers_by_grid(county: Region, grid_ids: set[int]) -> dict[int, GridWorker]:
    """The worker who takes over a household arriving in each grid (of the county): full-time first, then by code."""
    chosen: dict[int, GridWorker] = {}
    workers = GridWorker.objects.filter(region_code__startswith=county.prefix, grid_id__in=grid_ids)
    for worker in workers.order_by("grid_id", "-full_time", "code"):
        chosen.setdefault(worker.grid_id, worker)
    return chosen


def switch_county(county: Region, day: datetime.date) -> int:
    """Move the county's herder households to their season's grid on `day`, all or none; returns how many."""
    calendar = county_calendar(county.code)
    now = timezone.now()
    with transaction.atomic():
        herders = list(
            Household.objects.select_for_update()
            .filter(region_code__startswith=county.prefix, **HERDERS)
            .order_by("pk")
        )
        moving = [(h, season_grid_id(h, calendar, day)) for h in herders]
        moving = [(h, target) for h, target in moving if target != h.grid_id]
        if not moving:
            return 0
        grids = Region.objects.in_bulk({target for _h, target in moving})
        workers = _workers_by_grid(county, set(grids))
        moves, by_grid = [], defaultdict(list)
        for household, target in moving:
            grid = grids[target]
            after = workers.get(target) if household.claimed_by_id else None
            moves.append(
                HouseholdMove(
                    household=household,
                    season=HouseholdMove.Season.SUMMER
                    if target == household.summer_grid_id
                    else HouseholdMove.Season.WINTER,
                    from_grid_id=household.grid_id,
                    to_grid=grid,
                    claimed_by_before_id=household.claimed_by_id,
                    claimed_by_after=after,
                    day=day,
                    at=now,
                )
            )
            household.grid, household.region_code = grid, grid.code
            household.claimed_by, household.claimed_grid = after, grid if after else None
            by_grid[grid.code].append(household.pk)
        # Rows of the county only (their codes before the switch), as the switch read them.
        Household.objects.filter(region_code__startswith=county.prefix).bulk_update(
            [h for h, _t in moving], ["grid", "region_code", "claimed_by", "claimed_grid"], batch_size=500
        )
        for code, ids in by_grid.items():
            Resident.objects.filter(region_code__startswith=county.prefix, household_id__in=ids).update(
                region_code=code
            )
        HouseholdMove.objects.bulk_create(moves, batch_size=500)
        audit_record(
            action=AuditEntry.Action.SEASONAL_SWITCH,
            actor_name="scheduler",
            target=county.code,
            detail={"day": day.isoformat(), "moved": len(moves)},
        )
    return len(moves)


def seasonal_switch(*, day: datetime.date | None = None, counties: list[str] | None = None) -> dict[str, int]:
    """Every county's (or the listed counties') switch for `day` (today): county code → households moved.

    A county that fails (its transaction undone) is reported with -1 and the next one goes on."""
    day = day or timezone.localdate()
    wanted = Region.objects.filter(level=codes.COUNTY).order_by("code")
    if counties:
        wanted = wanted.filter(code__in=counties)
    moved: dict[str, int] = {}
    for county in wanted:
        try:
            moved[county.code] = switch_county(county, day)
        except Exception:
            moved[county.code] = -1
    if -1 in moved.values():
        failed = [c for c, n in moved.items() if n == -1]
        raise SwitchFailed(failed, moved)
    return moved


class SwitchFailed(Exception):
    def __init__(self, failed: list[str], moved: dict[str, int]) -> None:
        super().__init__(f"转场失败的旗县市区：{'、'.join(failed)}")
        self.failed, self.moved = failed, moved


@dataclass(frozen=True)
class Coming:
    household: Household
    day: datetime.date
    from_grid_id: int
    to_grid_id: int


def this_week(grid_ids: list[int], today: datetime.date | None = None) -> tuple[list[Coming], list[Coming]]:
    """Herder households arriving in and leaving the grids in the next seven days: (arriving, leaving)."""
    today = today or timezone.localdate()
    candidates = Household.objects.filter(**HERDERS).filter(
        Q(grid_id__in=grid_ids) | Q(summer_grid_id__in=grid_ids) | Q(winter_grid_id__in=grid_ids)
    )
    calendars: dict[str, Calendar] = {}
    arriving, leaving = [], []
    wanted = set(grid_ids)
    for household in sorted(candidates, key=lambda h: h.code):
        county = _county_of(household.region_code)
        calendar = calendars.setdefault(county, county_calendar(county))
        where = household.grid_id
        for offset in range(7):
            day = today + datetime.timedelta(days=offset)
            target = season_grid_id(household, calendar, day)
            if target != where:
                coming = Coming(household, day, where, target)
                if target in wanted:
                    arriving.append(coming)
                if where in wanted:
                    leaving.append(coming)
                break
    return arriving, leaving
