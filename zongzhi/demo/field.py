"""The demo's field work in Xilinhot, written through the services as the staff would write it.

Yurt stations (蒙古包调解驿站) where the case history held its station sessions, so each station's
page lists the sessions held there; two 乌日特 (mobile units) of herder households with a weekly
circuit, the past stops logged with the services delivered and a few matters raised; open days
(开放日) in the coming weeks for the portal. Needs the county's residents (`seed_residents`).

Idempotent: a station, unit or open day already there (by its natural key) is left as it is, so a
second run on the same day adds nothing. Open days are dated from today: a run weeks later lists
the weeks then to come.
"""

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from zongzhi.accounts.models import User
from zongzhi.cases.models import MediationSession
from zongzhi.centers.models import Center, Org
from zongzhi.demo.plan import DEMO_SUMU, XILINHOT
from zongzhi.field import services
from zongzhi.field.models import FieldItem, MobileUnit, ServiceType, Station
from zongzhi.grid.models import Household
from zongzhi.portal.models import OpenDay
from zongzhi.portal.openday import open_day_schedule
from zongzhi.regions.models import Region

UNIT_TOWNSHIPS = (DEMO_SUMU, "152502201")  # 宝力根苏木, 朝克乌拉苏木
UNIT_HOUSEHOLDS = 24  # a 乌日特 serves 20–30 herder households
PAST_STOPS, FUTURE_STOPS, STOP_EVERY = 8, 4, 7  # weekly stops: eight logged, four to come
STATION_HOUSEHOLDS = 12
OPEN_DAY_CENTERS = (f"ZZ-{XILINHOT}", "ZZ-1525", f"ZZ-{XILINHOT}001")  # the county, the league, 希日塔拉街道
OPEN_DAYS = 4  # weekly, on Wednesdays
VISIT_NOTES = (
    "入户走访牧户，宣讲草原保护和禁牧休牧政策，收集群众诉求。",
    "在驿站集中调解草场边界纠纷一起，当场达成口头协议。",
    "开展法治宣传，发放蒙汉双语宣传册，解答继承和婚姻家事咨询。",
    "为牧民办理社保认证和证照代办事项，登记困难户帮扶需求。",
    "走访冬营地牧户，排查网围栏、饮水井安全隐患。",
    "召开牧户座谈会，听取对草场承包经营权流转的意见。",
)
ITEMS = (
    (FieldItem.Kind.SAFETY, "冬营地储草棚电线老化", "牧户储草棚内私拉电线老化，有火灾隐患，已告知户主暂停使用。"),
    (FieldItem.Kind.OPINION, "牧户希望增设饮水井", "夏营地饮水井距离远，牧户希望嘎查协调增设一眼机井。"),
)


@dataclass
class FieldReport:
    stations: int = 0
    mobile_units: int = 0
    mobile_visits: int = 0
    open_days: int = 0


def seed_field(*, seed_value: int, today: datetime.date | None = None) -> FieldReport:
    """Write Xilinhot's stations, mobile units with their circuits and logged stops, and open days."""
    report = FieldReport()
    director = User.objects.filter(username="demo-director").first()
    if director is None or not Household.objects.filter(region_code__startswith=XILINHOT, herder=True).exists():
        return report  # the county and its residents come first
    today = today or timezone.localdate()
    rng = random.Random(f"zongzhi-demo-field:{seed_value}")
    with transaction.atomic():
        report.stations = _stations(director)
        for township in UNIT_TOWNSHIPS:
            visits = _mobile_unit(director, Region.objects.get(code=f"{township}000"), today, rng)
            if visits is not None:
                report.mobile_units += 1
                report.mobile_visits += visits
        report.open_days = _open_days(today)
    return report


def _herders(prefix: str) -> list[Household]:
    return list(Household.objects.filter(code__startswith=f"H{prefix}", herder=True).order_by("code"))


def _station_add(director: User, village: Region, name: str) -> bool:
    if Station.objects.filter(region_code=village.code, name=name).exists():
        return False
    households = _herders(village.code)[:STATION_HOUSEHOLDS]
    services.station_create(actor=director, name=name, village=village, households=households)
    return True


def _stations(director: User) -> int:
    """A station wherever a session was held at one, under the name the session gives, and one in
    each 乌日特 township's first gacha (a stop of its circuit)."""
    held = (
        MediationSession.objects.filter(place_kind=MediationSession.Place.STATION, region_code__startswith=XILINHOT)
        .values_list("region_code", "place")
        .distinct()
    )
    wanted = {(code[:12], place) for code, place in held}
    for township in UNIT_TOWNSHIPS:
        first = Region.objects.filter(code__startswith=township, level=Region.Level.VILLAGE, kind="gacha").first()
        if first is not None:
            wanted.add((first.code, f"{first.name}蒙古包调解驿站"))
    villages = {r.code: r for r in Region.objects.filter(code__in={code for code, _place in wanted})}
    return sum(_station_add(director, villages[code], place) for code, place in sorted(wanted))


def _mobile_unit(director: User, township: Region, today: datetime.date, rng: random.Random) -> int | None:
    """One township's 乌日特: its herders, member orgs and members, circuit and logged stops; None if there."""
    county = Region.objects.get(code=f"{XILINHOT}000000")
    name = f"{township.name}乌日特"
    if MobileUnit.objects.filter(region_code=county.code, name=name).exists():
        return None
    herders = _herders(township.code[:9])
    if not herders:
        return None
    households = sorted(rng.sample(herders, min(UNIT_HOUSEHOLDS, len(herders))), key=lambda h: h.code)
    t9 = township.code[:9]
    org_codes = [f"{XILINHOT}-D05", f"{XILINHOT}-MC", f"{t9}-PS", f"{t9}-JS", f"{t9}-MC"]  # 司法局, 调委会, 所
    orgs = list(Org.objects.filter(code__in=org_codes).order_by("code"))
    member_names = ["demo-liaison", "demo-mediator"] + (["demo-village"] if t9 == DEMO_SUMU else [])
    members = list(User.objects.filter(username__in=member_names).order_by("username"))
    unit = services.mobile_unit_create(
        actor=director, name=name, county=county, households=households, orgs=orgs, members=members
    )
    station = Station.objects.filter(region_code__startswith=t9).order_by("region_code", "name").first()
    stops = []
    first = today - datetime.timedelta(days=STOP_EVERY * PAST_STOPS)
    for n in range(PAST_STOPS + FUTURE_STOPS):
        day = first + datetime.timedelta(days=STOP_EVERY * n)
        if n % 3 == 2 and station is not None:
            stops.append(services.StopInput(planned_on=day, station=station))
        elif n % 4 == 3:
            stops.append(services.StopInput(planned_on=day, place=f"{township.name}夏营地集中点"))
        else:
            stops.append(services.StopInput(planned_on=day, household=households[(n * 5) % len(households)]))
    planned = services.circuit_plan_set(unit=unit, actor=director, stops=stops)
    offered = list(ServiceType.objects.filter(active=True))
    recorder = members[0] if members else director
    for n, stop in enumerate(planned[:PAST_STOPS]):
        chosen = rng.sample(offered, min(len(offered), rng.randint(2, 4)))
        visit = services.mobile_visit_record(
            unit=unit,
            actor=recorder,
            visited_on=stop.planned_on,
            stop=stop,
            services={s: (rng.randint(1, 6), "") for s in sorted(chosen, key=lambda s: s.sort)},
            people_served=rng.randint(6, 40),
            notes=rng.choice(VISIT_NOTES),
        )
        if n in (PAST_STOPS - 3, PAST_STOPS - 1):
            kind, title, description = ITEMS[n % len(ITEMS)]
            services.mobile_field_item_raise(
                visit=visit, actor=recorder, kind=kind, title=title, description=description, household=stop.household
            )
    return PAST_STOPS


def _open_days(today: datetime.date) -> int:
    """The coming Wednesdays at the county center, the league center and a street center."""
    first = today + datetime.timedelta(days=(2 - today.weekday()) % 7 or 7)
    days = [first + datetime.timedelta(weeks=n) for n in range(OPEN_DAYS)]
    added = 0
    for center in Center.objects.filter(code__in=OPEN_DAY_CENTERS).order_by("code"):
        have = set(OpenDay.objects.filter(center=center, day__in=days).values_list("day", flat=True))
        for day in days:
            if day not in have:
                open_day_schedule(
                    center=center, day=day, starts=datetime.time(9, 0), ends=datetime.time(11, 30), capacity=30
                )
                added += 1
    return added
