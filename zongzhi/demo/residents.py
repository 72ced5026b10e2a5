"""The demo league's residents: about 1.1 million people in households, nine in ten claimed by a grid worker.

Each county's population (`population_10k` of the reference file) is spread over its grids and made
into households of about 3.2 people in towns and farming villages and 3.8 among herders. Every
household of a gacha is a herder household: its winter camp is in its home grid, its summer pasture
in another grid of the same village, and `grid` (with `region_code`) is the one responsible today.

Each grid is planned from its own random stream and draws resident IDs from its own share of the
county's numbers, so a grid comes out the same whichever other grids are seeded with it: both
scales, a `limit_grids` sample and a resumed run agree person for person. Rows go in through the
grid's bulk registration (`grid.services.households_register_bulk` and `residents_register_bulk`:
COPY on PostgreSQL, executemany on SQLite, the ID and phone columns encrypted), a few dozen grids
per transaction, so memory stays flat and an interrupted run resumes where it stopped. Households
already stored (by code) are skipped with their residents.
"""

import datetime
import functools
import multiprocessing
import random
import zoneinfo
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import django
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import Substr
from django.utils import timezone

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.crypto import blind_index
from zongzhi.demo import places
from zongzhi.demo.case_history import LIVE_DAYS, PHONE_PREFIXES, stored_anchor
from zongzhi.demo.plan import XILINHOT, Plan, allocate, build_plan
from zongzhi.grid.models import BlockHead, GridWorker, Household, Resident
from zongzhi.grid.seasons import DEFAULT_CALENDAR
from zongzhi.grid.services import (
    households_register_bulk,
    phone_index,
    resident_id_index,
    residents_register_bulk,
)
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region

# Ages are counted to this day, not to the day of the seed, so the ID numbers never change.
AGES_AS_OF = datetime.date(2025, 1, 1)
_AS_OF = AGES_AS_OF.toordinal()
BATCH_GRIDS = 40  # about 12,000 residents per transaction
PARALLEL_FROM = 4  # batches: below, the second process would cost more to start than it saves
# Household sizes 1–6 in percent: towns and farming villages (mean 3.2), herders (mean 3.78).
TOWN_SIZES = (10, 22, 30, 20, 12, 6)
HERDER_SIZES = (4, 14, 25, 26, 19, 12)
GRID_WEIGHT = {"community": 1.2, "village": 1.0, "gacha": 0.8}  # people per grid, before a ±30% spread
# Share of 蒙古族 by (pastoral county, kind of village); the rest mostly 汉族.
MONGOLIAN_SHARE = {
    (True, "gacha"): 0.70,
    (True, "community"): 0.22,
    (True, "village"): 0.15,
    (False, "gacha"): 0.45,
    (False, "community"): 0.06,
    (False, "village"): 0.03,
}
OTHER_ETHNICITIES = (("回族", 0.03), ("满族", 0.06), ("达斡尔族", 0.065))  # cumulative, among the rest
MIGRANT_HOUSEHOLDS = {"community": 0.09, "village": 0.04, "gacha": 0.01}  # 流动: living here, registered elsewhere
AWAY = 0.06  # a member registered here but living elsewhere (外出), heads half as often
CLAIM_RATE = (0.84, 0.96)  # each grid's share of claimed households, uniform between


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]  # households, residents (household code first)


@dataclass(frozen=True)
class GridPlan:
    """One grid's share of its county's people."""

    code: str
    village: str
    village_name: str
    kind: str  # of its village: community, village, gacha
    pastoral: bool  # of its county
    slot: int  # its position among the county's grids: which of the county's ID numbers it deals
    slots: int  # grids in the county
    summer: str  # the village's grid its herders spend the summer in (its own code when the village has one)
    households: int


@dataclass(slots=True)
class PPerson:
    """A planned resident, in plaintext."""

    name: str
    relation: str
    ethnicity: str
    language: str
    id_number: str
    phone: str
    registered: bool
    living: bool


@dataclass(slots=True)
class PHousehold:
    """A planned household of its home grid, with its people."""

    code: str
    number: int
    grid: GridPlan
    address: str
    herder: bool
    claim: tuple[float, int, int] | None  # which of the grid's workers, days before the history ends, minute
    people: list[PPerson]


# ---- planning (no database) ----------------------------------------------------------------------


def plan_grids(plan: Plan, seed_value: int, county: str | None = None) -> list[GridPlan]:
    """The grids of the league (or of one county, by its 6 digits) with their households, in code order."""
    regions = {r.code: r for r in plan.regions}
    grids_of: dict[str, list[str]] = defaultdict(list)
    for r in plan.regions:
        if r.level == "grid":
            grids_of[r.parent or ""].append(r.code)
    result: list[GridPlan] = []
    for c in plan.reference["counties"]:
        c6 = c["code"][:6]
        if county is not None and c6 != county:
            continue
        codes = sorted(g for village, grids in grids_of.items() if village.startswith(c6) for g in grids)
        kinds = [regions[regions[g].parent or ""].kind for g in codes]
        rng = random.Random(f"zongzhi-residents:{seed_value}:{c6}")
        people = allocate(round(c["population_10k"] * 10_000), [GRID_WEIGHT[k] * rng.uniform(0.7, 1.3) for k in kinds])
        for slot, (code, kind, n) in enumerate(zip(codes, kinds, people, strict=True)):
            village = regions[code].parent or ""
            siblings = grids_of[village]
            sizes = HERDER_SIZES if kind == "gacha" else TOWN_SIZES
            mean = sum(size * share for size, share in enumerate(sizes, 1)) / 100
            result.append(
                GridPlan(
                    code=code,
                    village=village,
                    village_name=regions[village].name,
                    kind=kind,
                    pastoral=c["pastoral"],
                    slot=slot,
                    slots=len(codes),
                    summer=siblings[(siblings.index(code) + 1) % len(siblings)],
                    households=max(1, round(n / mean)),
                )
            )
    return result


class _IdNumbers:
    """A grid's share of its county's resident ID numbers: unique league-wide without looking at other grids.

    In one county two IDs differ by the birth date or the 3-digit sequence, whose parity is the sex. The
    (day, sequence // 2) pairs are dealt round the county's grids, pair q to the grid at position q mod
    the number of grids; a person whose birthday has no free pair in their grid is born a day earlier.
    """

    def __init__(self, county: str, slot: int, slots: int) -> None:
        self.county, self.slot, self.slots = county, slot, slots
        self.used: set[int] = set()

    def number(self, day: int, male: bool) -> str:
        """A free number for someone born on `day` (a proleptic ordinal) or a little earlier."""
        while True:
            for pair in range((self.slot - day * 500) % self.slots, 500, self.slots):
                key = (day * 500 + pair) * 2 + male
                if key not in self.used:
                    self.used.add(key)
                    return make_resident_id(self.county, datetime.date.fromordinal(day), pair * 2 + male)
            day -= 1


def _size_table(percent: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(size for size, share in enumerate(percent, 1) for _ in range(share))


_SIZES = {False: _size_table(TOWN_SIZES), True: _size_table(HERDER_SIZES)}


def plan_households(grid: GridPlan, seed_value: int) -> Iterator[PHousehold]:
    """The grid's households and their people, from the grid's own random stream."""
    rng = random.Random(f"zongzhi-residents:{seed_value}:{grid.code}")
    # Called about ten times per person: random() and arithmetic are several times cheaper than randint().
    draw = rng.random
    ids = _IdNumbers(grid.code[:6], grid.slot, grid.slots)
    herder = grid.kind == "gacha"
    sizes = _SIZES[herder]
    mongolian = MONGOLIAN_SHARE[grid.pastoral, grid.kind]
    mongolian_speakers = 0.9 if herder else 0.7
    migrant_share = MIGRANT_HOUSEHOLDS[grid.kind]
    claim_rate = rng.uniform(*CLAIM_RATE)
    surnames, given, mongolian_names = places.SURNAMES, places.GIVEN, places.MONGOLIAN_NAMES

    def ethnicity() -> str:
        if draw() < mongolian:
            return "蒙古族"
        u = draw()
        return next((name for name, below in OTHER_ETHNICITIES if u < below), "汉族")

    def name(ethnic: str, surname: str) -> str:
        if ethnic == "蒙古族" and draw() < 0.85:
            return mongolian_names[int(draw() * len(mongolian_names))]
        return surname + given[int(draw() * len(given))]

    for number in range(1, grid.households + 1):
        if grid.kind == "community":
            building, unit, floor, door = (int(draw() * n) + 1 for n in (40, 6, 18, 4))
            address = f"{grid.village_name}{building}号楼{unit}单元{floor}{door:02d}室"
        else:
            address = f"{grid.village_name}{number}号"
        head_ethnicity = ethnicity()
        spouse_ethnicity = head_ethnicity if draw() < 0.85 else ethnicity()
        young_ethnicity = "蒙古族" if "蒙古族" in (head_ethnicity, spouse_ethnicity) else head_ethnicity
        surname = surnames[int(draw() * len(surnames))]
        migrant = draw() < migrant_share
        people = []
        for relation, age, male in _family(draw, sizes[int(draw() * 100)], herder):
            ethnic = {"head": head_ethnicity, "spouse": spouse_ethnicity, "parent": head_ethnicity}.get(
                relation, young_ethnicity
            )
            married_in = relation == "spouse" or (relation == "parent" and not male)
            own_surname = surnames[int(draw() * len(surnames))] if married_in else surname
            birth = _AS_OF - age * 365 - int(draw() * 365)
            if migrant:
                registered, living = False, True
            else:
                registered, living = True, draw() >= (AWAY / 2 if relation == "head" else AWAY)
            phone = ""
            if age >= 16 and draw() < (0.6 if age >= 75 else 0.95):
                phone = f"1{PHONE_PREFIXES[int(draw() * len(PHONE_PREFIXES))]}{int(draw() * 100_000_000):08d}"
            people.append(
                PPerson(
                    name=name(ethnic, own_surname),
                    relation=relation,
                    ethnicity=ethnic,
                    language="mn" if ethnic == "蒙古族" and draw() < mongolian_speakers else "zh",
                    id_number=ids.number(birth, male),
                    phone=phone,
                    registered=registered,
                    living=living,
                )
            )
        claim = None
        if draw() < claim_rate:
            claim = (draw(), int(draw() * LIVE_DAYS), int(draw() * 8 * 60))
        yield PHousehold(f"H{grid.code}{number:04d}", number, grid, address, herder, claim, people)


def _family(draw: Callable[[], float], size: int, herder: bool) -> list[tuple[str, int, bool]]:
    """(relation, age, male) of each member: head, perhaps a spouse and the head's parents, children, grandchildren."""

    def between(low: int, high: int) -> int:
        return low + int(draw() * (high - low + 1))

    head_age = between(22, 45) if draw() < 0.45 else between(46, 90)
    male = draw() < 0.78
    members = [("head", head_age, male)]
    left = size - 1
    if left and draw() < 0.85:
        members.append(("spouse", max(20, head_age + between(-6, 4) * (1 if male else -1)), not male))
        left -= 1
    if left >= 2 and head_age < 60 and draw() < (0.35 if herder else 0.25):
        for i in range(1 if left < 3 or draw() < 0.5 else 2):
            members.append(("parent", min(100, head_age + between(20, 32)), i == 0))
            left -= 1
    grandchildren = between(1, left - 1) if head_age >= 55 and left >= 2 and draw() < 0.6 else 0
    eldest = 0
    for _ in range(left - grandchildren):
        age = max(0, head_age - between(22, 38))
        eldest = max(eldest, age)
        members.append(("child", age, draw() < 0.5))
    for _ in range(grandchildren):
        members.append(("grandchild", max(0, eldest - between(20, 32)), draw() < 0.5))
    return members


# ---- rows ----------------------------------------------------------------------------------------


@dataclass
class _Refs:
    """Primary keys the rows point at, read once for the scale."""

    regions: dict[str, int]  # village and grid codes
    workers: dict[str, list[int]]  # by grid code, in code order
    block_heads: dict[str, list[int]]

    @classmethod
    def load(cls, prefix: str) -> "_Refs":
        regions = Region.objects.filter(level__in=("village", "grid"), code__startswith=prefix)
        workers: dict[str, list[int]] = defaultdict(list)
        for grid, pk in GridWorker.objects.filter(region_code__startswith=prefix).values_list("region_code", "pk"):
            workers[grid].append(pk)  # the model's ordering is (region_code, code)
        heads: dict[str, list[int]] = defaultdict(list)
        for grid, pk in BlockHead.objects.filter(region_code__startswith=prefix).values_list("region_code", "pk"):
            heads[grid].append(pk)
        return cls(dict(regions.values_list("code", "pk")), workers, heads)


def _claims_end() -> datetime.datetime:
    """Claims fall in the platform's first months: the days before the case history ends."""
    end = stored_anchor() or timezone.localdate()
    return datetime.datetime.combine(end, datetime.time(8, 30), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def household_rows(
    households: list[PHousehold], refs: _Refs, today: datetime.date, claims_end: datetime.datetime
) -> Rows:
    """Household rows (HOUSEHOLD_COLUMNS) and resident rows (RESIDENT_COLUMNS, the household's code first)."""
    calendars: dict[str, bool] = {}  # county code → whether its herders are on the summer pasture today
    region = refs.regions
    homes: list[tuple[Any, ...]] = []
    people: list[tuple[Any, ...]] = []
    for h in households:
        grid = h.grid
        county = grid.code[:6] + "000000"
        if county not in calendars:  # the demo's counties keep the default calendar
            calendars[county] = DEFAULT_CALENDAR.season_on(today) == "summer"
        now = grid.summer if h.herder and calendars[county] else grid.code
        heads = refs.block_heads.get(grid.code)
        worker = claimed_grid = claimed_at = None
        workers = refs.workers.get(now)
        if h.claim is not None and workers:
            pick, days, minute = h.claim
            worker, claimed_grid = workers[int(pick * len(workers))], region[now]
            claimed_at = claims_end - datetime.timedelta(days=days + 1) + datetime.timedelta(minutes=minute)
        homes.append(
            (
                *(h.code, region[grid.village], region[now], now, h.address, h.herder),
                *((region[grid.summer], region[grid.code]) if h.herder else (None, None)),
                heads[(h.number - 1) % len(heads)] if heads else None,
                *(worker, claimed_grid, claimed_at),
            )
        )
        for p in h.people:
            people.append(
                (
                    *(h.code, now, p.name, p.relation, p.ethnicity, p.language),
                    *(p.id_number, resident_id_index(p.id_number), p.phone, phone_index(p.phone)),
                    *(p.registered, p.living),
                )
            )
    return homes, people


def _batches(grids: list[GridPlan]) -> list[list[GridPlan]]:
    return [grids[i : i + BATCH_GRIDS] for i in range(0, len(grids), BATCH_GRIDS)]


def _sample(grids: list[GridPlan], limit: int | None) -> list[GridPlan]:
    """`limit` grids spread evenly over the list (all of them when None)."""
    if limit is None or limit >= len(grids):
        return grids
    return [grids[i * len(grids) // limit] for i in range(limit)]


def planned_rows(*, scale: str, seed_value: int, plan: Plan | None = None) -> Iterator[Rows]:
    """The rows `seed_residents` writes for a scale from nothing, batch by batch (plaintext; for the benchmark)."""
    plan = plan or build_plan(seed_value)
    county = None if scale == "league" else XILINHOT
    refs = _Refs.load(county or plan.reference["league"]["code"][:4])
    yield from _made(refs, seed_value, _batches(plan_grids(plan, seed_value, county)))


def _batch_rows(
    refs: _Refs, seed_value: int, today: datetime.date, claims_end: datetime.datetime, batch: list[GridPlan]
) -> Rows:
    return household_rows([h for g in batch for h in plan_households(g, seed_value)], refs, today, claims_end)


def _made(refs: _Refs, seed_value: int, batches: list[list[GridPlan]]) -> Iterator[Rows]:
    """The rows of each batch; past a few batches, made in a second process one batch ahead of the caller.

    Planning and blind indexes take about as long as encrypting and copying the rows in: on two cores,
    the worker plans batch n + 1 while this process writes batch n. Two batches at most are held at a time.
    """
    make = functools.partial(_batch_rows, refs, seed_value, timezone.localdate(), _claims_end())
    if len(batches) < PARALLEL_FROM:
        yield from map(make, batches)
        return
    # spawn, not fork: a forked child would share this process's database connection.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=django.setup) as pool:
        probe = "zongzhi-residents"
        if pool.submit(blind_index, probe).result() != blind_index(probe):
            raise RuntimeError("the worker process derives another blind index key (settings overridden in-process?)")
        pending: deque[Future[Rows]] = deque()
        for batch in batches:
            pending.append(pool.submit(make, batch))
            if len(pending) > 1:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# ---- writing -------------------------------------------------------------------------------------


def _stored_households(prefix: str) -> dict[str, int]:
    """Households already stored, by the home grid in their code."""
    stored = Household.objects.filter(code__startswith=f"H{prefix}").order_by()
    grouped = stored.annotate(home=Substr("code", 2, 15)).values("home").annotate(n=Count("pk"))
    return {row["home"]: row["n"] for row in grouped}


def _known_ids(indexes: Iterable[str]) -> set[str]:
    wanted, found = list(indexes), set[str]()
    for i in range(0, len(wanted), 1000):
        found.update(Resident.objects.filter(id_index__in=wanted[i : i + 1000]).values_list("id_index", flat=True))
    return found


def seed_residents(*, scale: str, seed_value: int, plan: Plan | None = None, limit_grids: int | None = None) -> int:
    """Write the households and residents of the league or (scale small) Xilinhot; returns residents inserted.

    `limit_grids` writes only that many of the scale's grids, spread evenly over them (for tests). Grids
    whose households are all stored are skipped without being planned, so a second run takes a second.
    """
    plan = plan or build_plan(seed_value)
    county = None if scale == "league" else XILINHOT
    prefix = county or plan.reference["league"]["code"][:4]
    grids = _sample(plan_grids(plan, seed_value, county), limit_grids)
    stored = _stored_households(prefix)
    todo = [g for g in grids if stored.get(g.code, 0) < g.households]
    if not todo:
        return 0
    refs = _Refs.load(prefix)
    missing = [g.code for g in todo if g.code not in refs.regions]
    if missing:
        raise RuntimeError(f"grids {missing[:3]}… are not in the database: run seed_demo --scale {scale} first")
    # A person seeded before may have been moved to another household since: look IDs up only then.
    check_ids = Resident.objects.exists()
    started = {code for code, n in stored.items() if n}  # grids an earlier run wrote some of
    inserted = households_inserted = 0
    for homes, people in _made(refs, seed_value, _batches(todo)):
        if started & {row[0][1:16] for row in homes}:
            have = set(Household.objects.filter(code__in=[row[0] for row in homes]).values_list("code", flat=True))
            homes = [row for row in homes if row[0] not in have]
            people = [row for row in people if row[0] not in have]
        if check_ids:
            known = _known_ids(row[7] for row in people)
            people = [row for row in people if row[7] not in known]
        if not homes:
            continue
        with transaction.atomic():
            pk = households_register_bulk(homes)
            residents_register_bulk([(pk[row[0]], *row[1:]) for row in people])
        inserted += len(people)
        households_inserted += len(homes)
    if not households_inserted:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Household, Resident))
            with connection.cursor() as cursor:  # statistics for the planner before the first search
                cursor.execute(f"ANALYZE {tables}")
        audit_record(
            action=AuditEntry.Action.USER_CREATED,
            actor_name="seed_demo",
            target=f"demo:residents:{scale}",
            detail={"seed": seed_value, "households": households_inserted, "residents": inserted},
        )
    return inserted
