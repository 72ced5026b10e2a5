"""/api/v1/residents, /households, /claims: the grid registry, masked as the pages show it.

Resident IDs and phones are looked up in a POST body (`/residents/lookup`), never in a URL, so they
reach no access log; every answer shows them masked (ID: first 6 and last 4; phone: 3 + 4).
"""

from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, WRITE, Cursor, Filter, Id, Limit, page_schema, paged
from zongzhi.grid import selectors, services
from zongzhi.grid.models import ClaimConflict, Household, Resident
from zongzhi.identity import mask_phone, mask_resident_id
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import region_by_code_or_name, region_get, regions_visible

router = Router(tags=["residents"])


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _scope(request: HttpRequest, permission: str) -> access.Scope:
    require_resource(request, permission)
    return access.business_scope(request.user)


def _choice(choices: Any, typed: str, field: str, label: str) -> str:
    """A choice by its code (`head`) or its label as the page shows it (`户主`)."""
    for value, shown in choices.choices:
        if typed.strip() in (value, str(shown)):
            return str(value)
    raise ValidationError({field: [_("%(l)s“%(v)s”无效。") % {"l": label, "v": typed[:20]}]})


class ResidentOut(Schema):
    id: int
    name: str
    household: str
    grid: str
    relation: str
    relation_label: str
    ethnicity: str
    language: str
    id_number: str  # masked
    phone: str  # masked
    registered: bool
    living: bool


def _resident(r: Resident) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "household": r.household.code,
        "grid": r.region_code,
        "relation": r.relation,
        "relation_label": r.get_relation_display(),
        "ethnicity": r.ethnicity,
        "language": r.language,
        "id_number": mask_resident_id(r.id_number),
        "phone": mask_phone(r.phone),
        "registered": r.registered,
        "living": r.living,
    }


class HouseholdOut(Schema):
    code: str
    village: str
    grid: str
    address: str
    herder: bool
    summer_grid: str | None
    winter_grid: str | None
    claimed_by: str | None
    claimed_grid: str | None
    claimed_at: str | None


class HouseholdDetailOut(HouseholdOut):
    residents: list[ResidentOut]


def _household(h: Household) -> dict[str, Any]:
    return {
        "code": h.code,
        "village": h.village.code,
        "grid": h.region_code,
        "address": h.address,
        "herder": h.herder,
        "summer_grid": h.summer_grid.code if h.summer_grid else None,
        "winter_grid": h.winter_grid.code if h.winter_grid else None,
        "claimed_by": h.claimed_by.code if h.claimed_by else None,
        "claimed_grid": h.claimed_grid.code if h.claimed_grid else None,
        "claimed_at": h.claimed_at.isoformat() if h.claimed_at else None,
    }


HOUSEHOLD_RELATED = ("village", "summer_grid", "winter_grid", "claimed_by", "claimed_grid")
ResidentPage = page_schema(ResidentOut)
HouseholdPage = page_schema(HouseholdOut)


def _under(scope: access.Scope, code: str) -> access.Scope:
    """The scope narrowed to a region of it (404 when it is missing or not the caller's)."""
    return access.Scope(prefixes=(region_get(scope, code).prefix,)) if code else scope


# ---- residents ----------------------------------------------------------------------------------


@router.get("/residents", response={200: ResidentPage, **READ}, tags=["residents"])
def residents(
    request: HttpRequest, region: Filter = "", name: Filter = "", cursor: Cursor = "", limit: Limit = 50
) -> dict[str, Any]:
    """Residents of the caller's jurisdiction (or of `region` in it), in the order they were registered;
    with `name` (a prefix), those whose name starts with it, by name (code points) then registration."""
    scope = _scope(request, "residents:read")
    rows = selectors.residents_with_households(_under(scope, region)).filter(scope.q())
    if name.strip():
        named = selectors.residents_named(rows, name.strip())
        return paged(named, keys=selectors.NAME_KEYS, cursor=cursor, limit=limit, show=_resident)
    return paged(rows, keys=("id",), cursor=cursor, limit=limit, show=_resident)


class LookupIn(Schema):
    """Exactly what to look for: a resident ID (18 characters), a mobile phone, or a name."""

    id_number: str = ""
    phone: str = ""
    name: str = ""


class LookupOut(Schema):
    results: list[ResidentOut]


@router.post("/residents/lookup", response={200: LookupOut, **READ}, tags=["residents"])
def resident_lookup(request: HttpRequest, payload: LookupIn) -> dict[str, Any]:
    """Find residents by ID number or phone (exact) or name, sent in the body so they reach no URL or log."""
    scope = _scope(request, "residents:read")
    given = [f for f in ("id_number", "phone", "name") if getattr(payload, f).strip()]
    if len(given) != 1:
        raise ValidationError({"__all__": [_("请只填写身份证号、手机号或姓名中的一项。")]})
    if payload.name.strip():
        found = selectors.resident_search(scope, payload.name[:50])
    else:
        found = selectors.resident_lookup(scope, id_number=payload.id_number[:40], phone=payload.phone[:40])
    return {"results": [_resident(r) for r in found]}


class UnmaskIn(Schema):
    """Why the full numbers are needed (用途), kept in the audit entry."""

    reason: str


class UnmaskOut(Schema):
    id: int
    name: str
    household: str
    id_number: str  # in full: the one answer that does (a replay of it is kept encrypted, like the column)
    phone: str


@router.post("/residents/{pk}/unmask", response={200: UnmaskOut, **WRITE}, tags=["residents"])
def resident_unmask(request: HttpRequest, pk: Id, payload: UnmaskIn) -> dict[str, Any]:
    """The full ID number and phone of one resident, as the page's 查看完整号码: for the household's grid
    worker or a director of the jurisdiction, with a reason; every answer is audited (UNMASK).

    Another system is refused (403): what it reads is masked. The resident is named by id, never by
    number, so no full number reaches a URL or an access log.
    """
    scope = _scope(request, "residents:read")
    found = get_object_or_404(selectors.residents_with_households(scope), pk=pk)
    if access.is_service_account(request.user):
        raise PermissionDenied(_("服务账号不能查看完整证件号和电话，接口返回的号码均已脱敏。"))
    id_number, phone = services.resident_unmask(
        actor=_user(request), resident=found, reason=payload.reason, request=request
    )
    return {
        "id": found.pk,
        "name": found.name,
        "household": found.household.code,
        "id_number": id_number,
        "phone": phone,
    }


@router.get("/residents/{pk}", response={200: ResidentOut, **READ}, tags=["residents"])
def resident(request: HttpRequest, pk: Id) -> dict[str, Any]:
    scope = _scope(request, "residents:read")
    return _resident(get_object_or_404(selectors.residents_with_households(scope), pk=pk))


# ---- households ---------------------------------------------------------------------------------


@router.get("/households", response={200: HouseholdPage, **READ}, tags=["households"])
def households(
    request: HttpRequest,
    region: Filter = "",
    claimed: bool | None = None,
    cursor: Cursor = "",
    limit: Limit = 50,
) -> dict[str, Any]:
    """Households of the caller's jurisdiction (or of `region` in it), by code; `claimed` filters."""
    scope = _scope(request, "households:read")
    rows = selectors.households_visible(_under(scope, region)).filter(scope.q())
    if claimed is not None:
        rows = rows.filter(claimed_by__isnull=not claimed)
    rows = rows.select_related(*HOUSEHOLD_RELATED)
    return paged(rows, keys=("code",), cursor=cursor, limit=limit, show=_household)


def _household_get(scope: access.Scope, code: str) -> Household:
    rows = selectors.households_visible(scope).select_related(*HOUSEHOLD_RELATED, "grid")
    return get_object_or_404(rows, code=code)


@router.get("/households/{code}", response={200: HouseholdDetailOut, **READ}, tags=["households"])
def household(request: HttpRequest, code: str) -> dict[str, Any]:
    scope = _scope(request, "households:read")
    found = _household_get(scope, code)
    # A household's residents carry its region code (the join to it names the code too).
    same = {"region_code": found.region_code, "household__region_code": found.region_code}
    residents = found.residents.filter(**same).select_related("household").order_by("id")
    return {**_household(found), "residents": [_resident(r) for r in residents]}


class HouseholdIn(Schema):
    """A household to register: its grid (code or name; the village is the grid's), optional pastures."""

    grid: str
    address: str = ""
    herder: bool = False
    summer_grid: str = ""
    winter_grid: str = ""
    code: str = ""


@router.post("/households", response={201: HouseholdOut, **WRITE}, tags=["households"])
def household_new(request: HttpRequest, payload: HouseholdIn) -> Status:
    """Register a household in a grid of the caller's jurisdiction (`code` is given when left empty)."""
    scope = _scope(request, "households:write")
    grids = regions_visible(scope).filter(level=Region.Level.GRID).select_related("parent")
    grid = region_by_code_or_name(grids, payload.grid, field="grid", label=_("网格"))
    pastures = regions_visible(scope).filter(level=Region.Level.GRID)
    summer = (
        region_by_code_or_name(pastures, payload.summer_grid, field="summer_grid", label=_("夏营地网格"))
        if payload.summer_grid.strip()
        else None
    )
    winter = (
        region_by_code_or_name(pastures, payload.winter_grid, field="winter_grid", label=_("冬营地网格"))
        if payload.winter_grid.strip()
        else None
    )
    assert grid.parent is not None  # a grid sits under its village
    created = services.household_register(
        actor=_user(request),
        village=grid.parent,
        grid=grid,
        address=payload.address,
        herder=payload.herder,
        summer_grid=summer,
        winter_grid=winter,
        code=payload.code,
    )
    return Status(201, _household(_household_get(scope, created.code)))


class ResidentIn(Schema):
    """A person to add; `relation` and `language` by code (`head`, `mn`) or as the page shows them (户主, 蒙古语)."""

    name: str
    relation: str
    ethnicity: str
    language: str
    id_number: str
    phone: str = ""
    registered: bool = True
    living: bool = True


@router.post("/households/{code}/residents", response={201: ResidentOut, **WRITE}, tags=["households"])
def resident_new(request: HttpRequest, code: str, payload: ResidentIn) -> Status:
    """Add a resident to a household; an ID already registered in another household is a 422 saying where."""
    scope = _scope(request, "residents:write")
    found = _household_get(scope, code)
    added = services.resident_add(
        actor=_user(request),
        household=found,
        name=payload.name,
        relation=_choice(Resident.Relation, payload.relation, "relation", _("与户主关系")),
        ethnicity=payload.ethnicity,
        language=_choice(Resident.Language, payload.language, "language", _("常用语言")),
        id_number=payload.id_number,
        phone=payload.phone,
        registered=payload.registered,
        living=payload.living,
    )
    return Status(201, _resident(added))


# ---- claims -------------------------------------------------------------------------------------


class ClaimOut(Schema):
    """The household after the claim, or the conflict raised when another grid holds it."""

    household: HouseholdOut
    conflict: int | None


class ClaimIn(Schema):
    """Who claims: left empty, the calling grid worker; a service account names the grid worker (code or name)."""

    worker: str = ""


@router.post("/households/{code}/claim", response={200: ClaimOut, **WRITE}, tags=["claims"])
def claim(request: HttpRequest, code: str, payload: ClaimIn | None = None) -> dict[str, Any]:
    """认领: the grid worker of the household's grid takes it on; another grid's claim becomes a conflict.

    A service account granted `claims:write` claims for the grid worker it names in `worker`."""
    scope = _scope(request, "claims:write")
    household = _household_get(scope, code)
    worker = selectors.grid_worker_by_code_or_name(scope, payload.worker if payload else "")
    result = services.household_claim(actor=_user(request), household=household, worker=worker)
    conflict = result.pk if isinstance(result, ClaimConflict) else None
    return {"household": _household(_household_get(scope, code)), "conflict": conflict}


class RateOut(Schema):
    code: str
    name: str
    claimed: int
    registered: int
    rate: float | None


class ClaimRatesOut(RateOut):
    children: list[RateOut]


def _rate(claimed: int, registered: int) -> float | None:
    return round(100 * claimed / registered, 1) if registered else None


@router.get("/claims/{code}", response={200: ClaimRatesOut, **READ}, tags=["claims"])
def claim_rates(request: HttpRequest, code: str) -> dict[str, Any]:
    """Claim rate (claimed / registered residents) of a region and of each region below it."""
    scope = _scope(request, "claims:read")
    region = region_get(scope, code)
    rates = selectors.claim_rates_by_child(scope, region)
    claimed, registered = selectors.claim_rate(access.Scope(prefixes=(region.prefix,)))
    children = []
    for child in region.children.order_by("code"):
        c, r = rates.get(child.prefix, (0, 0))
        children.append({"code": child.code, "name": child.name, "claimed": c, "registered": r, "rate": _rate(c, r)})
    return {
        "code": region.code,
        "name": region.name,
        "claimed": claimed,
        "registered": registered,
        "rate": _rate(claimed, registered),
        "children": children,
    }


class ConflictOut(Schema):
    id: int
    household: str
    holder: str
    holder_grid: str
    claimant: str
    claimant_grid: str
    status: str
    raised_at: str
    winner: str | None


def _conflict(c: ClaimConflict) -> dict[str, Any]:
    return {
        "id": c.pk,
        "household": c.household.code,
        "holder": c.holder.code,
        "holder_grid": c.holder.grid.code,
        "claimant": c.claimant.code,
        "claimant_grid": c.claimant.grid.code,
        "status": c.status,
        "raised_at": c.raised_at.isoformat(),
        "winner": c.winner.code if c.winner else None,
    }


@router.get("/claim-conflicts", response={200: page_schema(ConflictOut), **READ}, tags=["claims"])
def conflicts(
    request: HttpRequest, region: Filter = "", open_only: bool = True, cursor: Cursor = "", limit: Limit = 50
) -> dict[str, Any]:
    """Households claimed by two grids, for the village to decide (`open_only=false`: decided ones too)."""
    scope = _scope(request, "claims:read")
    rows = selectors.claim_conflicts_visible(_under(scope, region)).filter(scope.q()).select_related("winner")
    if open_only:
        rows = rows.filter(status=ClaimConflict.Status.OPEN)
    return paged(rows, keys=("id",), cursor=cursor, limit=limit, show=_conflict)


class ResolveIn(Schema):
    winner: str  # the code of one of the two grid workers


@router.post("/claim-conflicts/{pk}/resolve", response={200: ConflictOut, **WRITE}, tags=["claims"])
def conflict_resolve(request: HttpRequest, pk: Id, payload: ResolveIn) -> dict[str, Any]:
    """The village decides which grid is responsible: the winner's grid gets the household."""
    scope = _scope(request, "claims:write")
    rows = selectors.claim_conflicts_visible(scope).select_related("household__village", "winner")
    conflict = get_object_or_404(rows, pk=pk)
    # The winner is one of the two; the service says so when the code names neither.
    typed = payload.winner.strip()
    winner = next((w for w in (conflict.holder, conflict.claimant) if typed in (w.code, w.name)), None)
    if winner is None:
        raise ValidationError({"winner": [_("只能在发生冲突的两个网格员之间裁定。")]})
    services.claim_conflict_resolve(actor=_user(request), conflict=conflict, winner=winner)
    return _conflict(get_object_or_404(rows, pk=pk))
