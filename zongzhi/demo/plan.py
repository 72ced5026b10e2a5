"""The demo league, planned in memory: every region, center, org, account and grid person.

The plan is a pure function of the reference file and the seed. It always plans the whole league
(so the random choices do not depend on the scale) and the seeder writes what the scale asks for.
The report's figures are met exactly: 3,555 grids, 2,746 party groups, 6,404 grid workers,
21,275 block heads; accounts come to a little over 7,000.
"""

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zongzhi.centers.models import Room
from zongzhi.demo import places

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "xilingol.json"
XILINHOT = "152502"
DEMO_SUMU = "152502200"  # 宝力根苏木, Xilinhot's first sumu: the demo's village station and a 乌日特


@dataclass
class PRegion:
    code: str
    level: str
    kind: str
    name: str
    parent: str | None
    name_mn: str = ""
    pastoral: bool = False
    population: int | None = None
    lng: float | None = None
    lat: float | None = None


@dataclass
class PCenter:
    code: str
    region: str
    level: str
    name: str
    parent: str | None
    rooms: list[tuple[str, str, str, str | None]] = field(default_factory=list)  # zone, kind, name, org code


@dataclass
class POrg:
    code: str
    kind: str
    name: str
    region: str
    mediator_name: str = ""
    domains: list[str] = field(default_factory=list)
    political_legal: bool = False


@dataclass
class PPresence:
    org: str
    center: str
    mode: str
    weekdays: list[int] = field(default_factory=list)


@dataclass
class PAccount:
    username: str
    full_name: str
    role: str
    jurisdiction: str | None  # region code
    org: str | None = None
    center: str | None = None
    demo: bool = False


@dataclass
class PPerson:
    code: str
    grid: str
    name: str
    kind: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    reference: dict[str, Any]
    regions: list[PRegion] = field(default_factory=list)
    centers: list[PCenter] = field(default_factory=list)
    orgs: list[POrg] = field(default_factory=list)
    presences: list[PPresence] = field(default_factory=list)
    accounts: list[PAccount] = field(default_factory=list)
    grid_workers: list[PPerson] = field(default_factory=list)
    party_groups: list[PPerson] = field(default_factory=list)
    block_heads: list[PPerson] = field(default_factory=list)


def load_reference(path: Path | None = None) -> dict[str, Any]:
    return json.loads((path or REFERENCE).read_text())


def allocate(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder), each >= minimum."""
    base = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total below the minimum")
    weight_sum = sum(weights)
    shares = [rest * w / weight_sum for w in weights]
    floors = [int(s) for s in shares]
    leftover = rest - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: shares[i] - floors[i], reverse=True)
    for i in order[:leftover]:
        floors[i] += 1
    return [b + f for b, f in zip(base, floors, strict=True)]


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def person(self, mongolian_share: float = 0.4) -> str:
        if self.rng.random() < mongolian_share:
            return self.rng.choice(places.MONGOLIAN_NAMES)
        return self.rng.choice(places.SURNAMES) + self.rng.choice(places.GIVEN)


def _compose_mn(name: str, suffix: str) -> str:
    """Mongolian for a name made of vocabulary words plus a suffix; empty if not composable."""
    stem = name[: -len(suffix)] if suffix and name.endswith(suffix) else name
    words: list[str] = []
    while stem:
        for cn in sorted(places.WORDS, key=len, reverse=True):
            if stem.startswith(cn):
                words.append(places.WORDS[cn])
                stem = stem[len(cn) :]
                break
        else:
            return ""
    if suffix:
        if suffix not in places.SUFFIX_MN:
            return ""
        words.append(places.SUFFIX_MN[suffix])
    return " ".join(words)


TOWNSHIP_BLOCK = {"street": 1, "town": 100, "sumu": 200, "farm": 400}


def build_plan(seed: int = 2025, reference: dict[str, Any] | None = None) -> Plan:
    """Plan the whole league deterministically from `seed`."""
    rng = random.Random(seed)
    names = _Names(rng)
    ref = reference or load_reference()
    plan = Plan(reference=ref)
    figures = ref["platform"]
    league = ref["league"]
    league_code = league["code"]
    plan.regions.append(
        PRegion(
            league_code,
            "league",
            "league",
            league["name"],
            None,
            league["name_mn"],
            True,
            round(sum(c["population_10k"] for c in ref["counties"]) * 10000),
            116.05,
            43.93,
        )
    )

    villages: list[PRegion] = []
    village_weight: list[float] = []
    for county in ref["counties"]:
        mn, lng, lat, townships = places.COUNTIES[county["code"]]
        c6 = county["code"][:6]
        plan.regions.append(
            PRegion(
                county["code"],
                "county",
                county["kind"],
                county["name"],
                league_code,
                mn,
                county["pastoral"],
                round(county["population_10k"] * 10000),
                lng,
                lat,
            )
        )
        county_villages: list[PRegion] = []
        counters: dict[str, int] = {}
        for t_name, t_kind in townships:
            counters[t_kind] = counters.get(t_kind, 0) + 1
            t_code = f"{c6}{TOWNSHIP_BLOCK[t_kind] + counters[t_kind] - 1:03d}000"
            suffix = {"sumu": "苏木", "town": "镇", "street": "", "farm": ""}[t_kind]
            t_pastoral = t_kind in ("sumu", "farm") or (t_kind == "town" and county["pastoral"])
            plan.regions.append(
                PRegion(
                    t_code,
                    "township",
                    t_kind,
                    t_name,
                    county["code"],
                    _compose_mn(t_name, suffix),
                    t_pastoral,
                    None,
                    lng + rng.uniform(-0.6, 0.6),
                    lat + rng.uniform(-0.4, 0.4),
                )
            )
            county_villages += _plan_villages(rng, t_code, t_kind, t_pastoral, county["pastoral"])
        share = county["population_10k"] / len(county_villages)
        for v in county_villages:
            v.lng, v.lat = lng + rng.uniform(-0.8, 0.8), lat + rng.uniform(-0.5, 0.5)
            factor = {"community": 1.6, "village": 1.0, "gacha": 0.7}[v.kind]
            village_weight.append(share * factor * rng.uniform(0.7, 1.3))
        villages += county_villages
    plan.regions += villages

    # Grids: every village has at least one; the rest follow population.
    grids_per_village = allocate(figures["grids"], village_weight, minimum=1)
    grids: list[PRegion] = []
    for village, n in zip(villages, grids_per_village, strict=True):
        for i in range(1, n + 1):
            grids.append(
                PRegion(
                    f"{village.code}{i:03d}",
                    "grid",
                    "grid",
                    f"{village.name}第{i}网格",
                    village.code,
                    "",
                    village.pastoral,
                    None,
                    (village.lng or 0) + rng.uniform(-0.05, 0.05),
                    (village.lat or 0) + rng.uniform(-0.05, 0.05),
                )
            )
    plan.regions += grids
    kind_of_village = {v.code: v.kind for v in villages}
    grid_kind = [kind_of_village[g.parent or ""] for g in grids]

    _plan_grid_people(plan, rng, names, grids, grid_kind, figures)
    _plan_structure(plan, rng, names, ref)
    return plan


def _plan_villages(
    rng: random.Random, t_code: str, t_kind: str, pastoral: bool, county_pastoral: bool
) -> list[PRegion]:
    prefix = t_code[:9]
    result: list[PRegion] = []
    used: set[str] = set()

    def unique(make: Any) -> str:
        for _ in range(200):
            candidate = make()
            if candidate not in used:
                used.add(candidate)
                return candidate
        raise RuntimeError("ran out of names")

    communities = {"street": rng.randint(4, 8), "town": rng.randint(1, 3), "sumu": rng.randint(0, 1), "farm": 1}[t_kind]
    rural = {"street": 0, "town": rng.randint(8, 14), "sumu": rng.randint(6, 12), "farm": rng.randint(3, 6)}[t_kind]
    for i in range(communities):
        name = unique(lambda: rng.choice(places.COMMUNITY_WORDS) + "社区")
        result.append(PRegion(f"{prefix}{i + 1:03d}", "village", "community", name, t_code, _compose_mn(name, "社区")))
    herder = pastoral or county_pastoral
    for i in range(rural):
        if herder:
            name = unique(lambda: rng.choice(places.ADJECTIVES) + rng.choice(places.NOUNS) + "嘎查")
            region = PRegion(
                f"{prefix}{200 + i:03d}", "village", "gacha", name, t_code, _compose_mn(name, "嘎查"), True
            )
        else:
            name = unique(lambda: rng.choice(places.VILLAGE_WORDS) + "村")
            region = PRegion(f"{prefix}{200 + i:03d}", "village", "village", name, t_code)
        result.append(region)
    return result


def _plan_grid_people(
    plan: Plan, rng: random.Random, names: _Names, grids: list[PRegion], grid_kind: list[str], figures: dict[str, Any]
) -> None:
    worker_weight = [(1.3 if k == "community" else 1.0) * rng.uniform(0.6, 1.4) for k in grid_kind]
    workers = allocate(figures["grid_workers"], worker_weight, minimum=1)
    duties_all = ["grid", "mediator", "information", "publicity", "service"]
    for grid, n in zip(grids, workers, strict=True):
        for i in range(1, n + 1):
            full_time = i == 1 or rng.random() < 0.3
            duties = (
                duties_all
                if grid.code[:9].endswith(("100", "101", "102")) or rng.random() < 0.25
                else ["grid", "information"]
            )
            plan.grid_workers.append(
                PPerson(
                    f"GW{grid.code}{i:02d}", grid.code, names.person(), extra={"full_time": full_time, "duties": duties}
                )
            )
    # Party groups: a weighted sample of grids without replacement (Efraimidis–Spirakis keys).
    keys = sorted(
        range(len(grids)), key=lambda i: rng.random() ** (1 / (1.5 if grid_kind[i] != "gacha" else 1.0)), reverse=True
    )
    for i in sorted(keys[: figures["party_groups"]]):
        grid = grids[i]
        plan.party_groups.append(
            PPerson(
                f"PG{grid.code}",
                grid.code,
                f"{grid.name}党小组",
                extra={"leader_name": names.person(), "members": rng.randint(3, 15)},
            )
        )
    head_weight = [{"community": 9.0, "village": 5.0, "gacha": 4.0}[k] * rng.uniform(0.5, 1.5) for k in grid_kind]
    heads = allocate(figures["block_heads"], head_weight)
    for grid, kind, n in zip(grids, grid_kind, heads, strict=True):
        for i in range(1, n + 1):
            if kind == "community":
                head_kind = "building" if rng.random() < 0.7 else "unit"
                area = f"{rng.randint(1, 30)}号楼" + (f"{rng.randint(1, 6)}单元" if head_kind == "unit" else "")
            else:
                head_kind, area = "joint_household", f"联户{i}组（{rng.randint(10, 30)}户）"
            plan.block_heads.append(
                PPerson(f"BH{grid.code}{i:03d}", grid.code, names.person(), head_kind, {"area": area})
            )


def _plan_structure(plan: Plan, rng: random.Random, names: _Names, ref: dict[str, Any]) -> None:
    """Centers with rooms, orgs with their presence, and the staff accounts."""
    league = ref["league"]
    l4 = league["code"][:4]
    league_center = f"ZZ-{l4}"
    plan.centers.append(
        PCenter(
            league_center,
            league["code"],
            "league",
            f"{league['name']}综治中心",
            None,
            _rooms(
                [
                    "window",
                    "window",
                    "mediation",
                    "mediation",
                    "admin_review",
                    "legal_aid",
                    "counselling",
                    "dispatch_hall",
                ]
            ),
        )
    )
    accounts = plan.accounts
    for i, dept in enumerate(places.LEAGUE_DEPARTMENTS, 1):
        code = f"{l4}-D{i:02d}"
        plan.orgs.append(POrg(code, "department", dept, league["code"], political_legal=i <= 5))
        plan.presences.append(PPresence(code, league_center, "resident"))
        accounts.append(PAccount(f"liaison-{code}", names.person(), "dept_liaison", league["code"], org=code))
    accounts += [
        PAccount(f"leader-{l4}-1", names.person(), "leader", league["code"], org=f"{l4}-D01"),
        PAccount(f"leader-{l4}-2", names.person(), "leader", league["code"], org=f"{l4}-D01"),
        PAccount(f"director-{l4}", names.person(), "center_director", league["code"], center=league_center),
        PAccount(f"clerk-{l4}-1", names.person(), "intake_clerk", league["code"], center=league_center),
        PAccount(f"clerk-{l4}-2", names.person(), "intake_clerk", league["code"], center=league_center),
    ]
    regions = {r.code: r for r in plan.regions}
    for county in ref["counties"]:
        _plan_county(plan, rng, names, county, regions, league_center)
    _plan_demo_accounts(plan)


def _rooms(
    kinds: list[str], extra: list[tuple[str, str, str, str | None]] | None = None
) -> list[tuple[str, str, str, str | None]]:
    labels = dict(Room.Kind.choices)
    counts: dict[str, int] = {}
    rooms: list[tuple[str, str, str, str | None]] = []
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
        total = kinds.count(kind)
        name = str(labels[kind]) + (f"{counts[kind]}" if total > 1 else "")
        rooms.append((str(Room.ZONE_OF_KIND.get(Room.Kind(kind), Room.Zone.RESOLUTION)), kind, name, None))
    return rooms + (extra or [])


def _plan_county(
    plan: Plan,
    rng: random.Random,
    names: _Names,
    county: dict[str, Any],
    regions: dict[str, PRegion],
    league_center: str,
) -> None:
    code, c6, cname = county["code"], county["code"][:6], county["name"]
    center = f"ZZ-{c6}"
    orgs: list[POrg] = []
    presences: list[PPresence] = []
    accounts = plan.accounts
    all_departments = places.DEPARTMENTS_RESIDENT + places.DEPARTMENTS_ROTATING + places.DEPARTMENTS_ON_CALL
    for i, dept in enumerate(all_departments, 1):
        org_code = f"{c6}-D{i:02d}"
        prefix = cname + ("委" if dept == "政法委" else "")
        orgs.append(
            POrg(org_code, "department", f"{prefix}{dept}", code, political_legal=dept in places.POLITICAL_LEGAL)
        )
        if dept in places.DEPARTMENTS_RESIDENT:
            presences.append(PPresence(org_code, center, "resident"))
        elif dept in places.DEPARTMENTS_ROTATING:
            presences.append(PPresence(org_code, center, "rotating", sorted(rng.sample(range(1, 6), 2))))
        else:
            presences.append(PPresence(org_code, center, "on_call"))
        accounts.append(PAccount(f"liaison-{org_code}", names.person(), "dept_liaison", code, org=org_code))
    extra_rooms: list[tuple[str, str, str, str | None]] = []
    court = f"{c6}-FTC"
    orgs.append(POrg(court, "court", f"{cname}人民法院速裁法庭", code, political_legal=True))
    presences.append(PPresence(court, center, "resident"))
    extra_rooms.append(("resolution", "fast_track_court", "速裁法庭", court))
    accounts.append(PAccount(f"judge-{c6}", names.person(), "judge", code, org=court))
    committee = f"{c6}-MC"
    orgs.append(POrg(committee, "mediation_committee", f"{cname}人民调解委员会", code))
    presences.append(PPresence(committee, center, "resident"))
    accounts.append(PAccount(f"mediator-{committee}", names.person(), "mediator", code, org=committee))
    brand_count = 4 if c6 == "152530" else 2
    for i in range(1, brand_count + 1):
        mediator = names.person(0.6)
        org_code = f"{c6}-BR{i}"
        orgs.append(POrg(org_code, "brand_room", f"{mediator}调解工作室", code, mediator_name=mediator))
        presences.append(PPresence(org_code, center, "resident"))
        extra_rooms.append(("resolution", "brand", f"{mediator}调解工作室", org_code))
        accounts.append(PAccount(f"mediator-{org_code}", mediator, "mediator", code, org=org_code))
    industries = places.INDUSTRY_COMMITTEES if c6 == "152530" else rng.sample(places.INDUSTRY_COMMITTEES, 2)
    for i, industry in enumerate(industries, 1):
        org_code = f"{c6}-IC{i}"
        orgs.append(POrg(org_code, "industry_committee", f"{cname}{industry}人民调解委员会", code))
        presences.append(PPresence(org_code, center, "on_call"))
    if c6 == "152526":  # 西乌珠穆沁旗: a professional team per herder-area domain
        for i, domain in enumerate(places.HERDER_DOMAINS, 1):
            org_code = f"{c6}-PT{i}"
            orgs.append(POrg(org_code, "professional_team", f"{cname}{domain}专业调解团队", code, domains=[domain]))
            presences.append(PPresence(org_code, center, "resident"))
            accounts.append(PAccount(f"mediator-{org_code}", names.person(), "mediator", code, org=org_code))
    if c6 == "152525":  # 东乌珠穆沁旗: court and people's congress deputies mediating together
        org_code = f"{c6}-PT1"
        orgs.append(
            POrg(
                org_code,
                "professional_team",
                f"{cname}法院—人大代表联合调解团队",
                code,
                domains=["婚姻家事", "邻里", "草牧场"],
            )
        )
        presences.append(PPresence(org_code, center, "rotating", [2, 4]))
    if c6 == "152501":  # 二连浩特市: 涉外 traffic mediation with the traffic police
        org_code = f"{c6}-TP"
        orgs.append(POrg(org_code, "department", f"{cname}公安局交通管理大队", code, political_legal=True))
        presences.append(PPresence(org_code, center, "on_call"))
        extra_rooms.append(("resolution", "foreign_mediation", "忠尼乐涉外调解室", org_code))
    plan.centers.append(
        PCenter(
            center,
            code,
            "county",
            f"{cname}综治中心",
            league_center,
            _rooms(
                [
                    "window",
                    "window",
                    "window",
                    "mediation",
                    "mediation",
                    "admin_review",
                    "legal_aid",
                    "counselling",
                    "dispatch_hall",
                ],
                extra_rooms,
            ),
        )
    )
    accounts += [
        PAccount(f"director-{c6}", names.person(), "center_director", code, center=center),
        PAccount(f"clerk-{c6}-1", names.person(), "intake_clerk", code, center=center),
        PAccount(f"clerk-{c6}-2", names.person(), "intake_clerk", code, center=center),
        PAccount(f"leader-{c6}", names.person(), "leader", code, org=f"{c6}-D01"),
    ]
    townships = [r for r in regions.values() if r.level == "township" and r.parent == code]
    for township in townships:
        t9 = township.code[:9]
        t_center = f"ZZ-{t9}"
        t_rooms = ["window", "mediation", "legal_aid", "dispatch_hall"] + (
            ["counselling"] if rng.random() < 0.5 else []
        )
        plan.centers.append(
            PCenter(t_center, township.code, "township", f"{township.name}综治中心", center, _rooms(t_rooms))
        )
        for suffix, label in zip(("PS", "JS", "RT", "JC"), places.TOWNSHIP_ORGS, strict=True):
            if (suffix == "RT" and rng.random() < 0.5) or (suffix == "JC" and rng.random() < 0.6):
                continue  # not every township has a people's tribunal or a procuratorate office
            org_code = f"{t9}-{suffix}"
            orgs.append(
                POrg(
                    org_code,
                    "court" if suffix == "RT" else "department",
                    f"{township.name}{label}",
                    township.code,
                    political_legal=True,
                )
            )
            presences.append(PPresence(org_code, t_center, "resident"))
            accounts.append(
                PAccount(f"liaison-{org_code}", names.person(), "dept_liaison", township.code, org=org_code)
            )
        t_committee = f"{t9}-MC"
        orgs.append(POrg(t_committee, "mediation_committee", f"{township.name}人民调解委员会", township.code))
        presences.append(PPresence(t_committee, t_center, "resident"))
        accounts += [
            PAccount(f"director-{t9}", names.person(), "center_director", township.code, center=t_center),
            PAccount(f"clerk-{t9}", names.person(), "intake_clerk", township.code, center=t_center),
            PAccount(f"mediator-{t_committee}", names.person(), "mediator", township.code, org=t_committee),
        ]
        for village in (r for r in regions.values() if r.level == "village" and r.parent == township.code):
            v_center = f"ZZ-{village.code}"
            plan.centers.append(
                PCenter(
                    v_center,
                    village.code,
                    "village",
                    f"{village.name}综治工作站",
                    t_center,
                    _rooms(["window", "mediation"]),
                )
            )
            v_committee = f"{village.code}-MC"
            orgs.append(POrg(v_committee, "mediation_committee", f"{village.name}人民调解委员会", village.code))
            presences.append(PPresence(v_committee, v_center, "resident"))
    plan.orgs += orgs
    plan.presences += presences


DEMO_PASSWORD = "Zongzhi-Demo-2025"  # noqa: S105 - demo data only; seed_demo refuses to run in prod


def _demo_township_and_village(plan: Plan) -> list[PAccount]:
    """The director of Xilinhot's township and street centers, and of a gacha's station.

    One login directs every township-level center of the county (one membership and jurisdiction
    each), so each case the demo routes to a township or street center has someone to handle it.
    The village login directs the station of the first gacha of 宝力根苏木, where a 乌日特 calls.
    """
    townships = sorted(
        (c for c in plan.centers if c.level == "township" and c.region.startswith(XILINHOT)), key=lambda c: c.code
    )
    accounts = [
        PAccount("demo-township", "演示·苏木街道综治中心主任", "center_director", c.region, center=c.code)
        for c in townships
    ]
    village = min(
        r.code for r in plan.regions if r.level == "village" and r.kind == "gacha" and r.code.startswith(DEMO_SUMU)
    )
    station = PAccount("demo-village", "演示·嘎查综治工作站站长", "center_director", village, center=f"ZZ-{village}")
    return [*accounts, station]


def _plan_demo_accounts(plan: Plan) -> None:
    """One login per persona, in Xilinhot where a place matters, plus a league-wide leader."""
    county = f"{XILINHOT}000000"
    first_grid_worker = next(w for w in plan.grid_workers if w.grid.startswith(XILINHOT))
    demo = [
        PAccount("demo-intake", "演示·窗口受理员", "intake_clerk", county, center=f"ZZ-{XILINHOT}"),
        PAccount("demo-director", "演示·中心主任", "center_director", county, center=f"ZZ-{XILINHOT}"),
        PAccount("demo-liaison", "演示·司法局联络员", "dept_liaison", county, org=f"{XILINHOT}-D05"),
        PAccount("demo-mediator", "演示·品牌调解员", "mediator", county, org=f"{XILINHOT}-BR1"),
        PAccount("demo-gridworker", first_grid_worker.name, "grid_worker", first_grid_worker.grid),
        PAccount("demo-leader", "演示·市委政法委领导", "leader", county, org=f"{XILINHOT}-D01"),
        PAccount("demo-judge", "演示·速裁法庭法官", "judge", county, org=f"{XILINHOT}-FTC"),
        PAccount("demo-league", "演示·盟委政法委领导", "leader", plan.reference["league"]["code"], org="1525-D01"),
        PAccount("demo-sysadmin", "演示·系统管理员", "sys_admin", None),
        PAccount("demo-secadmin", "演示·安全管理员", "sec_admin", None),
        PAccount("demo-auditor", "演示·审计管理员", "audit_admin", None),
    ]
    demo += _demo_township_and_village(plan)
    for account in demo:
        account.demo = True
    first_grid_worker.extra["username"] = "demo-gridworker"
    plan.accounts += demo
    for worker in plan.grid_workers:
        if "username" not in worker.extra:
            worker.extra["username"] = f"gw-{worker.code[2:]}"
            plan.accounts.append(PAccount(worker.extra["username"], worker.name, "grid_worker", worker.grid))
