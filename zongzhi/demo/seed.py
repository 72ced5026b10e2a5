"""Writing the demo plan to the database: bulk inserts of what is missing, keyed by natural keys.

Idempotent by construction: each table is compared with the plan by its natural key (region
code, org code, username …) and only missing rows are inserted, so a second run adds nothing.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from zongzhi.accounts.models import Jurisdiction, Membership, User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.centers.models import Center, DisputeDomain, Org, Presence, Room
from zongzhi.centers.services import service_area_add
from zongzhi.dashboards import geo, rollups
from zongzhi.demo import places
from zongzhi.demo.case_history import seed_case_history
from zongzhi.demo.plan import DEMO_PASSWORD, XILINHOT, Plan, build_plan
from zongzhi.grid.models import BlockHead, GridWorker, PartyGroup
from zongzhi.regions import codes
from zongzhi.regions.models import Region

M = TypeVar("M", bound=models.Model)
BATCH = 2000


@dataclass
class SeedReport:
    inserted: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def _insert_missing(model: type[M], objects: Iterable[M], key: Callable[[Any], Any], existing: set[Any]) -> int:
    missing = [o for o in objects if key(o) not in existing]
    model._default_manager.bulk_create(missing, batch_size=BATCH)
    return len(missing)


def _codes(model: type[models.Model], field: str = "code") -> dict[str, int]:
    return dict(model._default_manager.values_list(field, "pk"))


def demo_totp_key(seed: int, username: str) -> str:
    """Demo accounts get a TOTP secret derived from the seed, so a reseed keeps phones working."""
    return hashlib.sha256(f"zongzhi-demo:{seed}:{username}".encode()).hexdigest()[:40]


def _in_scale(code: str | None, county: str | None) -> bool:
    """Whether a region code belongs to the seeded part: the whole league, or one county and the league root."""
    if county is None or code is None:
        return True
    return code.startswith(county) or code == code[:4].ljust(12, "0")


def seed(*, scale: str = "league", seed_value: int = 2025, plan: Plan | None = None) -> SeedReport:
    """Write the demo league (scale league) or Xilinhot alone (scale small); returns rows inserted."""
    plan = plan or build_plan(seed_value)
    county = None if scale == "league" else XILINHOT
    inserted: dict[str, int] = {}
    with transaction.atomic():
        inserted["domains"] = _seed_domains(plan)
        inserted["regions"] = _seed_regions(plan, county)
        inserted["centers"] = _seed_centers(plan, county)
        inserted["orgs"], inserted["rooms"], inserted["presences"] = _seed_orgs(plan, county)
        inserted["service_areas"] = _seed_service_areas()
        inserted["accounts"], inserted["memberships"], inserted["jurisdictions"] = _seed_accounts(
            plan, county, seed_value
        )
        inserted["grid_workers"], inserted["party_groups"], inserted["block_heads"] = _seed_grid(plan, county)
        inserted["cases"] = seed_case_history(scale=scale, seed_value=seed_value, plan=plan)
        inserted["boundaries"] = geo.generate_boundaries()
        if inserted["cases"]:
            rollups.rebuild()  # the history is bulk-inserted, past the services that keep the rollups
        if any(inserted.values()):
            audit_record(
                action=AuditEntry.Action.USER_CREATED,
                actor_name="seed_demo",
                target=f"demo:{scale}",
                detail={"seed": seed_value, "inserted": inserted},
            )
    if any(inserted.values()):
        analyze()
    return SeedReport(inserted)


def analyze() -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load, as autovacuum would later: with
    the empty-table estimates some queue counts take a nested loop and run several times slower."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _seed_domains(plan: Plan) -> int:
    existing = set(DisputeDomain.objects.values_list("code", flat=True))
    objects = [
        DisputeDomain(code=places.DOMAIN_CODES[name], name=name, herder_area=name in places.HERDER_DOMAINS)
        for name in plan.reference["dispute_domains"]
    ]
    return _insert_missing(DisputeDomain, objects, lambda o: o.code, existing)


def _seed_regions(plan: Plan, county: str | None) -> int:
    total = 0
    for level in codes.LEVELS:
        pk_of = _codes(Region)
        objects = [
            Region(
                code=r.code,
                level=r.level,
                kind=r.kind,
                name=r.name,
                name_mn=r.name_mn,
                pastoral=r.pastoral,
                population=r.population,
                centroid_lng=r.lng,
                centroid_lat=r.lat,
                parent_id=pk_of.get(r.parent) if r.parent else None,
            )
            for r in plan.regions
            if r.level == level and _in_scale(r.code, county)
        ]
        total += _insert_missing(Region, objects, lambda o: o.code, set(pk_of))
    return total


def _seed_centers(plan: Plan, county: str | None) -> int:
    regions = _codes(Region)
    centers = [c for c in plan.centers if _in_scale(c.region, county)]
    total = 0
    for level in ("league", "county", "township", "village"):
        pk_of = _codes(Center)
        objects = [
            Center(
                code=c.code,
                region_id=regions[c.region],
                region_code=c.region,
                level=c.level,
                name=c.name,
                parent_id=pk_of.get(c.parent) if c.parent else None,
            )
            for c in centers
            if c.level == level
        ]
        total += _insert_missing(Center, objects, lambda o: o.code, set(pk_of))
    return total


def _seed_orgs(plan: Plan, county: str | None) -> tuple[int, int, int]:
    regions = _codes(Region)
    orgs = [o for o in plan.orgs if _in_scale(o.region, county)]
    inserted = _insert_missing(
        Org,
        [
            Org(
                code=o.code,
                kind=o.kind,
                name=o.name,
                region_id=regions[o.region],
                region_code=o.region,
                mediator_name=o.mediator_name,
                political_legal=o.political_legal,
            )
            for o in orgs
        ],
        lambda o: o.code,
        set(Org.objects.values_list("code", flat=True)),
    )
    org_pk, center_pk = _codes(Org), _codes(Center)
    domain_pk = dict(DisputeDomain.objects.values_list("name", "pk"))
    through = Org.domains.through
    existing_links = set(through.objects.values_list("org_id", "disputedomain_id"))
    links = [through(org_id=org_pk[o.code], disputedomain_id=domain_pk[d]) for o in orgs for d in o.domains]
    _insert_missing(through, links, lambda t: (t.org_id, t.disputedomain_id), existing_links)

    rooms = [
        Room(center_id=center_pk[c.code], zone=zone, kind=kind, name=name, org_id=org_pk.get(org) if org else None)
        for c in plan.centers
        if c.code in center_pk
        for zone, kind, name, org in c.rooms
    ]
    room_count = _insert_missing(
        Room, rooms, lambda r: (r.center_id, r.name), set(Room.objects.values_list("center_id", "name"))
    )
    presences = [
        Presence(org_id=org_pk[p.org], center_id=center_pk[p.center], mode=p.mode, weekdays=p.weekdays)
        for p in plan.presences
        if p.org in org_pk and p.center in center_pk
    ]
    presence_count = _insert_missing(
        Presence, presences, lambda p: (p.org_id, p.center_id), set(Presence.objects.values_list("org_id", "center_id"))
    )
    return inserted, room_count, presence_count


def _seed_service_areas() -> int:
    """League departments serve every county (through the service, which audits each new one)."""
    added = 0
    for league in Region.objects.filter(level=codes.LEAGUE):
        departments = Org.objects.filter(kind=Org.Kind.DEPARTMENT, region=league).exclude(service_areas__region=league)
        for org in departments.order_by("code"):
            service_area_add(actor=None, org=org, region=league)
            added += 1
    return added


def _seed_accounts(plan: Plan, county: str | None, seed_value: int) -> tuple[int, int, int]:
    accounts = [a for a in plan.accounts if a.demo or _in_scale(a.jurisdiction, county)]
    existing = set(User.objects.values_list("username", flat=True))
    # One argon2 hash for the demo password; other accounts are opened without a usable password
    # and get one when the system administrator activates them.
    demo_hash = make_password(DEMO_PASSWORD)
    users = []
    for a in accounts:
        if a.username in existing:
            continue
        existing.add(a.username)  # a login planned at several centers is one user with several memberships
        user = User(username=a.username, full_name=a.full_name)
        user.password = demo_hash if a.demo else make_password(None)
        users.append(user)
    User.objects.bulk_create(users, batch_size=BATCH)
    user_pk, org_pk, center_pk, region_pk = _codes(User, "username"), _codes(Org), _codes(Center), _codes(Region)
    memberships = [
        Membership(
            user_id=user_pk[a.username],
            role=a.role,
            org_id=org_pk.get(a.org) if a.org else None,
            center_id=center_pk.get(a.center) if a.center else None,
        )
        for a in accounts
    ]
    membership_count = _insert_missing(
        Membership,
        memberships,
        lambda m: (m.user_id, m.role, m.org_id, m.center_id),
        set(Membership.objects.values_list("user_id", "role", "org_id", "center_id")),
    )
    jurisdictions = [
        Jurisdiction(
            user_id=user_pk[a.username],
            region_id=region_pk[a.jurisdiction],
            prefix=codes.prefix_of(a.jurisdiction, _level_of(a.jurisdiction)),
        )
        for a in accounts
        if a.jurisdiction
    ]
    jurisdiction_count = _insert_missing(
        Jurisdiction,
        jurisdictions,
        lambda j: (j.user_id, j.region_id),
        set(Jurisdiction.objects.values_list("user_id", "region_id")),
    )
    demo_users = {a.username for a in accounts if a.demo}
    have_device = set(TOTPDevice.objects.filter(user__username__in=demo_users).values_list("user__username", flat=True))
    TOTPDevice.objects.bulk_create(
        [
            TOTPDevice(user_id=user_pk[name], name="演示动态口令", key=demo_totp_key(seed_value, name), confirmed=True)
            for name in sorted(demo_users - have_device)
        ]
    )
    return len(users), membership_count, jurisdiction_count


def _level_of(code: str) -> str:
    if len(code) == 15:
        return codes.GRID
    if code[9:] != "000":
        return codes.VILLAGE
    if code[6:9] != "000":
        return codes.TOWNSHIP
    if code[4:6] != "00":
        return codes.COUNTY
    return codes.LEAGUE


def _seed_grid(plan: Plan, county: str | None) -> tuple[int, int, int]:
    regions, users = _codes(Region), _codes(User, "username")
    workers = [
        GridWorker(
            code=w.code,
            grid_id=regions[w.grid],
            region_code=w.grid,
            name=w.name,
            user_id=users.get(w.extra["username"]),
            full_time=w.extra["full_time"],
            duties=w.extra["duties"],
        )
        for w in plan.grid_workers
        if _in_scale(w.grid, county)
    ]
    groups = [
        PartyGroup(
            code=g.code,
            grid_id=regions[g.grid],
            region_code=g.grid,
            name=g.name,
            leader_name=g.extra["leader_name"],
            members=g.extra["members"],
        )
        for g in plan.party_groups
        if _in_scale(g.grid, county)
    ]
    heads = [
        BlockHead(
            code=h.code, grid_id=regions[h.grid], region_code=h.grid, kind=h.kind, name=h.name, area=h.extra["area"]
        )
        for h in plan.block_heads
        if _in_scale(h.grid, county)
    ]
    return (
        _insert_missing(GridWorker, workers, lambda o: o.code, set(GridWorker.objects.values_list("code", flat=True))),
        _insert_missing(PartyGroup, groups, lambda o: o.code, set(PartyGroup.objects.values_list("code", flat=True))),
        _insert_missing(BlockHead, heads, lambda o: o.code, set(BlockHead.objects.values_list("code", flat=True))),
    )
