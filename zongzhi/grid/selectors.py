"""Reading the grid's people through the actor's scope."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Collate, Substr
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.access import Scope
from zongzhi.crypto import blind_index
from zongzhi.grid.models import BlockHead, ClaimConflict, GridWorker, Household, HouseholdMove, PartyGroup, Resident
from zongzhi.identity import normalize_resident_id, resident_id_errors
from zongzhi.regions import codes
from zongzhi.regions.models import Region


def resident_id_index(number: str) -> str:
    """The keyed hash residents are looked up by (exact ID match)."""
    return blind_index(normalize_resident_id(number))


def phone_index(phone: str) -> str:
    return blind_index(phone.strip()) if phone.strip() else ""


def grid_workers_visible(scope: Scope) -> QuerySet[GridWorker]:
    return GridWorker.objects.filter(scope.q())


def grid_worker_by_code_or_name(scope: Scope, typed: str) -> GridWorker | None:
    """The grid worker of the jurisdiction a body names by code or name; None when left empty, a 422 on
    `worker` when it names none or several."""
    typed = typed.strip()
    if not typed:
        return None
    workers = grid_workers_visible(scope).select_related("grid")
    found = workers.filter(code=typed[:30]).first()
    named = [found] if found is not None else list(workers.filter(name=typed[:50])[:2])
    if len(named) != 1:
        raise ValidationError(
            {"worker": [_("网格员“%(w)s”不存在或不在您的辖区（请写网格员编号）。") % {"w": typed[:30]}]}
        )
    return named[0]


def grid_people(scope: Scope, grid: Region) -> dict[str, list]:
    """The workers, party groups and block heads of one (already scope-checked) grid."""
    inside = Scope(prefixes=(grid.prefix,))
    return {
        "workers": list(GridWorker.objects.filter(scope.q()).filter(inside.q()).select_related("user")),
        "party_groups": list(PartyGroup.objects.filter(scope.q()).filter(inside.q())),
        "block_heads": list(BlockHead.objects.filter(scope.q()).filter(inside.q())),
    }


def grids_of_worker(user: Any) -> QuerySet[Region]:
    """The grids a grid worker account serves."""
    return Region.objects.filter(grid_workers__user=user).distinct()


def households_visible(scope: Scope) -> QuerySet[Household]:
    return Household.objects.filter(scope.q())


def residents_visible(scope: Scope) -> QuerySet[Resident]:
    return Resident.objects.filter(scope.q())


def residents_with_households(scope: Scope) -> QuerySet[Resident]:
    """Residents under the scope with their households, the join naming the household's region too
    (a resident's code is its household's)."""
    return residents_visible(scope).filter(scope.q("household__region_code")).select_related("household")


# Residents by name: in code-point order of the name, then id. On PostgreSQL that is the btree of grid
# 0006 on (name COLLATE "C", id), so a page of a common name is read off the index, from the cursor on.
NAME_KEYS = ("name_c", "id")


def _name_c() -> Collate | F:
    # SQLite compares text as BINARY, which for UTF-8 is code-point order already.
    return Collate("name", "C") if connection.vendor == "postgresql" else F("name")


def residents_named(rows: QuerySet[Resident], prefix: str) -> QuerySet[Resident]:
    """Those of `rows` whose name starts with `prefix`, with the NAME_KEYS to page them by."""
    return rows.annotate(name_c=_name_c()).filter(name_c__startswith=prefix)


def resident_search(scope: Scope, q: str, limit: int = 50) -> list[Resident]:
    """By exact resident ID (through its blind index) or by name: prefix for 1–2 characters, substring beyond.

    Names come in code-point order (then id): the first `limit` matches, the same on both databases.
    """
    q = q.strip()
    residents = residents_with_households(scope)
    if not q:
        return []
    if len(normalize_resident_id(q)) == 18 and not resident_id_errors(q):
        return list(residents.filter(id_index=resident_id_index(q))[:limit])
    if connection.vendor != "postgresql":
        # Short queries are surnames or given-name starts: a prefix the name index answers.
        found = residents.filter(name__startswith=q) if len(q) <= 2 else residents.filter(name__contains=q)
        return list(found.order_by("name", "id")[:limit])
    # PostgreSQL (migration grid 0006): the btree on (name COLLATE "C", id) is in exactly the order of
    # the answer, so the names starting with q are read off it and the scan stops at `limit`, however
    # common the name. A name holding q further in is found through the trigram index of the name
    # without its first character, which a name starting with q does not reach unless it holds q twice.
    order = (Collate("name", "C"), "id")
    starting = residents.filter(name__startswith=q).order_by(*order)[:limit]
    if len(q) <= 2:
        return list(starting)
    further_in = residents.filter(Contains(Substr("name", 2), q)).order_by(*order)[:limit]
    # One round trip; a name holding q at its start and again further in comes back twice, kept once.
    once: dict[int, Resident] = {r.pk: r for r in starting.union(further_in, all=True)}
    return sorted(once.values(), key=lambda r: (r.name, r.pk))[:limit]  # str order = code points = "C"


def claim_rate(scope: Scope) -> tuple[int, int]:
    """(claimed registered residents, registered residents) under the scope."""
    registered = residents_visible(scope).filter(registered=True)
    claimed = registered.filter(scope.q("household__region_code"), household__claimed_by__isnull=False)
    return claimed.count(), registered.count()


def claim_rates_by_child(scope: Scope, region: Region) -> dict[str, tuple[int, int]]:
    """Claimed and registered residents for each child of `region`, keyed by child prefix, in two queries."""
    child = region.child_level
    if child is None:
        return {}
    length = codes.PREFIX_LENGTH[child]
    inside = residents_visible(scope).filter(Scope(prefixes=(region.prefix,)).q(), registered=True)
    result: dict[str, list[int]] = {}
    grouped = inside.annotate(bucket=Substr("region_code", 1, length)).values("bucket")
    for row in grouped.annotate(n=Count("id")):
        result.setdefault(row["bucket"], [0, 0])[1] = row["n"]
    claimed = grouped.filter(scope.q("household__region_code"), household__claimed_by__isnull=False)
    for row in claimed.annotate(n=Count("id")):
        result.setdefault(row["bucket"], [0, 0])[0] = row["n"]
    return {k: (v[0], v[1]) for k, v in result.items()}


@dataclass(frozen=True)
class RegistryFigures:
    """What the registry says of a region: people living there (实有人口), registered ones, claimed ones."""

    living: int = 0
    registered: int = 0
    claimed: int = 0

    def __add__(self, other: "RegistryFigures") -> "RegistryFigures":
        return RegistryFigures(
            self.living + other.living, self.registered + other.registered, self.claimed + other.claimed
        )

    @property
    def claim_rate(self) -> float | None:
        """Claimed registered residents per 100 registered residents, or None with none registered."""
        return round(100 * self.claimed / self.registered, 1) if self.registered else None


def registry_by_child(scope: Scope, region: Region) -> dict[str, RegistryFigures]:
    """The registry figures of each child of `region` (of the region itself for a grid), keyed by
    prefix, in one grouped query over the residents inside the region."""
    length = codes.PREFIX_LENGTH[region.child_level or region.level]
    here = Scope(prefixes=(region.prefix,))
    # The households the claimed count joins are those of the region too (a resident's code is its household's).
    inside = residents_visible(scope).filter(
        here.q(), scope.q("household__region_code"), here.q("household__region_code")
    )
    claimed = Q(registered=True, household__claimed_by__isnull=False)
    grouped = (
        inside.annotate(bucket=Substr("region_code", 1, length))
        .values("bucket")
        .annotate(
            n_living=Count("id", filter=Q(living=True)),
            n_registered=Count("id", filter=Q(registered=True)),
            n_claimed=Count("id", filter=claimed),
        )
        .order_by()
    )
    return {r["bucket"]: RegistryFigures(r["n_living"], r["n_registered"], r["n_claimed"]) for r in grouped}


def unclaimed_households(scope: Scope) -> QuerySet[Household]:
    return households_visible(scope).filter(claimed_by__isnull=True).select_related("grid", "village")


def resident_lookup(scope: Scope, *, id_number: str = "", phone: str = "", limit: int = 50) -> list[Resident]:
    """Residents under the scope with exactly this resident ID or this phone, through their blind indexes."""
    residents = residents_with_households(scope)
    if id_number.strip():
        residents = residents.filter(id_index=resident_id_index(id_number))
    if phone.strip():
        residents = residents.filter(phone_index=phone_index(phone))
    return list(residents.order_by("id")[:limit])


def claim_conflicts_visible(scope: Scope) -> QuerySet[ClaimConflict]:
    return ClaimConflict.objects.filter(scope.q()).select_related("household", "holder__grid", "claimant__grid")


def recent_moves(grids: list[Region], days: int = 7) -> list[HouseholdMove]:
    """The seasonal moves into or out of the grids in the last `days` days, newest first."""
    since = timezone.localdate() - datetime.timedelta(days=days)
    ids = [g.pk for g in grids]
    return list(
        HouseholdMove.objects.filter(Q(to_grid_id__in=ids) | Q(from_grid_id__in=ids), day__gte=since)
        .select_related("household", "from_grid", "to_grid")
        .order_by("-day", "household__code")[:200]
    )


def counties_visible(scope: Scope) -> list[Region]:
    """The counties the scope covers or lies in (a township's director sees its county's calendar)."""
    counties = Region.objects.filter(level=codes.COUNTY).order_by("code")
    return [c for c in counties if scope.covers(c.code) or any(p.startswith(c.prefix) for p in scope.prefixes if p)]
