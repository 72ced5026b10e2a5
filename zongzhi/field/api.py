"""/api/v1 field work: visits and their items, 乌日特 mobile units with their stops and services,
yurt stations, village risk reviews and the graded items; the same selectors and services as the pages."""

import datetime
from typing import Annotated, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from zongzhi import access
from zongzhi.accounts.models import Role, User
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, WRITE, Cursor, Filter, Id, Limit, file_answer, page_schema, paged
from zongzhi.cases import services as case_services
from zongzhi.cases.api import PartyIn
from zongzhi.cases.models import Case
from zongzhi.cases.selectors import category_by_code_or_name
from zongzhi.centers.models import Org
from zongzhi.grid.models import Household
from zongzhi.grid.selectors import grid_worker_by_code_or_name, residents_visible
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import region_by_code_or_name, region_get, regions_visible

from . import reviews, selectors, services, sync
from .models import (
    CircuitStop,
    FieldItem,
    MobileUnit,
    MobileVisit,
    RiskItem,
    RiskReview,
    ServiceType,
    Station,
    Visit,
    VisitPhoto,
)

router = Router(tags=["visits"])

Count = Annotated[int, Field(ge=0, le=100_000)]
People = Annotated[int, Field(ge=1, le=100_000)]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _scope(request: HttpRequest, permission: str) -> access.Scope:
    require_resource(request, permission)
    return access.business_scope(request.user)


def _reviewer(request: HttpRequest, permission: str, *, handlers: bool = False) -> access.Scope:
    """Reviews are for center directors and leaders (and the handling list for intake clerks too), as on the pages."""
    scope = _scope(request, permission)
    allowed = reviews.REVIEW_ROLES | ({Role.INTAKE_CLERK} if handlers else set())
    if not access.roles_of(request.user) & allowed and not access.system_may(request.user, permission):
        raise PermissionDenied(_("只有中心主任和政法委领导可以组织风险研判。"))
    return scope


def _under(rows: QuerySet[Any], scope: access.Scope, region: str) -> QuerySet[Any]:
    return rows.filter(access.Scope(prefixes=(region_get(scope, region).prefix,)).q()) if region else rows


def _at(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _household(user: User, code: str, field: str = "household") -> Household:
    found = selectors.households_for_visit(user).filter(code=code.strip()[:30]).first()
    if found is None:
        raise ValidationError({field: [_("户号 %(c)s 不存在或不在您的辖区。") % {"c": code.strip()[:30]}]})
    return found


class CaseRefOut(Schema):
    number: str
    title: str
    state: str
    center: str


def _case_ref(case: Case) -> dict[str, Any]:
    return {"number": case.number, "title": case.title, "state": case.state, "center": case.center.name}


# ---- visits and their items ---------------------------------------------------------------------


class ItemOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    status: str
    region: str
    visit: int | None
    mobile_visit: int | None
    raised_at: str
    handled_at: str | None
    handling_note: str


def _item(i: FieldItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "kind": i.kind,
        "title": i.title,
        "description": i.description,
        "status": i.status,
        "region": i.region_code,
        "visit": i.visit_id,
        "mobile_visit": i.mobile_visit_id,
        "raised_at": i.raised_at.isoformat(),
        "handled_at": _at(i.handled_at),
        "handling_note": i.handling_note,
    }


class VisitOut(Schema):
    id: int
    kind: str
    household: str
    grid: str
    worker: str
    visited_at: str
    lat: float | None
    lng: float | None
    notes: str
    case: str | None


class PhotoOut(Schema):
    id: int
    visit: int
    name: str
    content_type: str
    size: int
    sha256: str  # of the bytes kept: a client checks its upload arrived whole


def _photo(p: VisitPhoto) -> dict[str, Any]:
    return {
        "id": p.pk,
        "visit": p.visit_id,
        "name": p.name,
        "content_type": p.content_type,
        "size": p.size,
        "sha256": p.sha256,
    }


class VisitDetailOut(VisitOut):
    photos: list[PhotoOut]
    items: list[ItemOut]


def _visit(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "kind": v.kind,
        "household": v.household.code,
        "grid": v.region_code,
        "worker": v.worker.code,
        "visited_at": v.visited_at.isoformat(),
        "lat": v.lat,
        "lng": v.lng,
        "notes": v.notes,
        "case": v.case.number if v.case else None,
    }


@router.get("/visits", response={200: page_schema(VisitOut), **READ})
def visits(request: HttpRequest, region: Filter = "", cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """Visits and patrols of the caller's jurisdiction (or of `region` in it), newest recorded first."""
    scope = _scope(request, "visits:read")
    rows = _under(selectors.visits_visible(_user(request)), scope, region)
    return paged(rows, keys=("-id",), cursor=cursor, limit=limit, show=_visit)


@router.get("/visits/{pk}", response={200: VisitDetailOut, **READ})
def visit(request: HttpRequest, pk: Id) -> dict[str, Any]:
    _scope(request, "visits:read")
    found = selectors.visit_get(_user(request), pk)
    photos = [_photo(p) for p in found.photos.all()]
    return {**_visit(found), "photos": photos, "items": [_item(i) for i in found.items.all()]}


@router.get("/visits/{pk}/photos", response={200: page_schema(PhotoOut), **READ})
def visit_photos(request: HttpRequest, pk: Id, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """The photos of a visit, in the order they were added (the files: `GET /visit-photos/{pk}`)."""
    _scope(request, "visits:read")
    found = selectors.visit_get(_user(request), pk)
    return paged(selectors.visit_photos(found), keys=("id",), cursor=cursor, limit=limit, show=_photo)


@router.post("/visits/{pk}/photos", response={201: PhotoOut, 200: PhotoOut, **WRITE})
def visit_photo_new(request: HttpRequest, pk: Id, photo: File[UploadedFile]) -> Status:
    """Add one photo (JPEG or PNG, at most 10 MB, 9 a visit), one photo a request (multipart `photo`).

    Safe to retry: the same bytes again answer 200 with the photo already kept, nothing stored twice;
    a new photo is 201. Compare `sha256` with the file's to know it arrived whole.
    """
    _scope(request, "visits:write")
    user = _user(request)
    kept, new = services.visit_photo_add(visit=selectors.visit_get(user, pk), actor=user, upload=photo)
    return Status(201 if new else 200, _photo(kept))


@router.get("/visit-photos/{pk}", response=READ, openapi_extra=file_answer("image/jpeg", "image/png"))
def visit_photo(request: HttpRequest, pk: Id) -> FileResponse:
    """A photo's file, as the page serves it: only inside the jurisdiction, and every download audited."""
    _scope(request, "visits:read")
    user = _user(request)
    return selectors.photo_download(user, pk, request)


class VisitIn(Schema):
    """A visit (走访) or patrol (巡查) of a household of the worker's grid; a time without a zone is Beijing time."""

    household: str
    visited_at: datetime.datetime
    notes: str
    kind: str = Visit.Kind.VISIT
    lat: float | None = None
    lng: float | None = None
    worker: str = ""  # a service account names the grid worker whose visit it records (code or name)


@router.post("/visits", response={201: VisitOut, **WRITE})
def visit_new(request: HttpRequest, payload: VisitIn) -> Status:
    """Record a grid worker's visit (photos: `POST /visits/{pk}/photos`)."""
    scope = _scope(request, "visits:write")
    user = _user(request)
    household = _household(user, payload.household)
    done = services.visit_record(
        actor=user,
        worker=grid_worker_by_code_or_name(scope, payload.worker),
        household=household,
        visited_at=payload.visited_at,
        notes=payload.notes,
        kind=payload.kind,
        lat=payload.lat,
        lng=payload.lng,
    )
    return Status(201, _visit(selectors.visit_get(user, done.pk)))


class VisitCaseIn(Schema):
    """A dispute found on the visit; `applicant` is the id of a resident of the visited household."""

    category: str
    title: str
    description: str
    applicant: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    parties: list[PartyIn] = []
    people_involved: People = 1


@router.post("/visits/{pk}/case", response={201: CaseRefOut, **WRITE})
def visit_case(request: HttpRequest, pk: Id, payload: VisitCaseIn) -> Status:
    """Report a dispute found on a visit (channel 网格员上报); at most one per visit."""
    scope = _scope(request, "visits:write")
    require_resource(request, "cases:write")
    user = _user(request)
    found = selectors.visit_get(user, pk)
    # Any resident the caller sees: the service checks first who may report, then that they live there.
    applicant = residents_visible(scope).filter(pk=payload.applicant).first() if payload.applicant else None
    if payload.applicant and applicant is None:
        raise ValidationError({"applicant": [_("申请人不是被走访户的成员。")]})
    case = services.visit_case_raise(
        visit=found,
        actor=user,
        category=category_by_code_or_name(payload.category),
        title=payload.title,
        description=payload.description,
        applicant=applicant,
        parties=[case_services.PartyInput(**p.dict()) for p in payload.parties],
        people_involved=payload.people_involved,
    )
    return Status(201, _case_ref(case))


class ItemIn(Schema):
    """A safety hazard (`safety`, 安全隐患) or a request of the people (`opinion`, 民意诉求)."""

    kind: str
    title: str
    description: str = ""


def _item_kind(typed: str) -> str:
    for value, label in FieldItem.Kind.choices:
        if typed.strip() in (value, str(label)):
            return str(value)
    return typed  # the service names the field


@router.post("/visits/{pk}/items", response={201: ItemOut, **WRITE})
def visit_item(request: HttpRequest, pk: Id, payload: ItemIn) -> Status:
    _scope(request, "items:write")
    user = _user(request)
    found = selectors.visit_get(user, pk)
    item = services.field_item_raise(
        visit=found, actor=user, kind=_item_kind(payload.kind), title=payload.title, description=payload.description
    )
    return Status(201, _item(item))


@router.get("/field-items", response={200: page_schema(ItemOut), **READ}, tags=["items"])
def field_items(
    request: HttpRequest, region: Filter = "", open_only: bool = True, cursor: Cursor = "", limit: Limit = 50
) -> dict[str, Any]:
    """Hazards and requests found on visits and 乌日特 stops, newest first (`open_only=false`: handled too)."""
    scope = _scope(request, "items:read")
    rows = _under(selectors.field_items_visible(_user(request), open_only=open_only), scope, region)
    return paged(rows, keys=("-id",), cursor=cursor, limit=limit, show=_item)


class HandleIn(Schema):
    note: str


@router.post("/field-items/{pk}/handle", response={200: ItemOut, **WRITE}, tags=["items"])
def field_item_handle(request: HttpRequest, pk: Id, payload: HandleIn) -> dict[str, Any]:
    """Mark an item handled, saying how; an item handled already is a 422."""
    _scope(request, "items:write")
    user = _user(request)
    return _item(services.field_item_handle(item=selectors.field_item_get(user, pk), actor=user, note=payload.note))


# ---- mobile units, stops, stations ------------------------------------------------------------


class StopOut(Schema):
    id: int
    order: int
    planned_on: datetime.date
    household: str | None
    station: int | None
    place: str


def _stop(s: CircuitStop) -> dict[str, Any]:
    return {
        "id": s.pk,
        "order": s.order,
        "planned_on": s.planned_on,
        "household": s.household.code if s.household else None,
        "station": s.station_id,
        "place": s.place,
    }


class UnitOut(Schema):
    id: int
    name: str
    county: str


class UnitDetailOut(UnitOut):
    households: list[str]
    orgs: list[str]
    members: list[str]
    stops: list[StopOut]


def _unit(u: MobileUnit) -> dict[str, Any]:
    return {"id": u.pk, "name": u.name, "county": u.region_code}


@router.get("/mobile-units", response={200: page_schema(UnitOut), **READ}, tags=["mobile"])
def units(request: HttpRequest, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """The 乌日特 of the caller's jurisdiction, and those the caller rides with."""
    _scope(request, "mobile_units:read")
    return paged(selectors.units_visible(_user(request)), keys=("id",), cursor=cursor, limit=limit, show=_unit)


def _unit_detail(u: MobileUnit) -> dict[str, Any]:
    return {
        **_unit(u),
        "households": [h.code for h in u.households.all()],
        "orgs": [o.code for o in u.orgs.all()],
        "members": [m.get_username() for m in u.members.all()],
        "stops": [_stop(s) for s in u.stops.all()],
    }


@router.get("/mobile-units/{pk}", response={200: UnitDetailOut, **READ}, tags=["mobile"])
def unit(request: HttpRequest, pk: Id) -> dict[str, Any]:
    """A unit with its herder households, member agencies and people, and its circuit plan (stops)."""
    _scope(request, "mobile_units:read")
    return _unit_detail(selectors.unit_get(_user(request), pk))


class UnitIn(Schema):
    """A county's unit: the county, households by code, agencies by code or name, members by login."""

    name: str
    county: str
    households: list[str] = Field(default=[], max_length=500)
    orgs: list[str] = Field(default=[], max_length=100)
    members: list[str] = Field(default=[], max_length=100)


def _orgs(user: User, typed: list[str]) -> list[Org]:
    choices = selectors.orgs_for_units(user)
    found: list[Org] = []
    missing: list[str] = []
    for text in typed:
        org = choices.filter(code=text.strip()[:30]).first()
        named = list(choices.filter(name=text.strip()[:100])[:2]) if org is None else []
        org = org or (named[0] if len(named) == 1 else None)
        if org is None:
            missing.append(text[:30])
        else:
            found.append(org)
    if missing:
        raise ValidationError({"orgs": [_("单位 %(o)s 不存在或不在可选范围内。") % {"o": "、".join(missing[:5])}]})
    return found


def _households(user: User, codes: list[str]) -> list[Household]:
    found = {h.code: h for h in selectors.households_by_code(user, [c.strip()[:30] for c in codes])}
    missing = [c for c in codes if c.strip()[:30] not in found]
    if missing:
        raise ValidationError(
            {"households": [_("户号 %(c)s 不存在或不在您的辖区。") % {"c": "、".join(m[:30] for m in missing[:5])}]}
        )
    return list(found.values())


@router.post("/mobile-units", response={201: UnitDetailOut, **WRITE}, tags=["mobile"])
def unit_new(request: HttpRequest, payload: UnitIn) -> Status:
    """Set up a county's 乌日特 (county center directors)."""
    scope = _scope(request, "mobile_units:write")
    user = _user(request)
    counties = regions_visible(scope).filter(level=Region.Level.COUNTY)
    county = region_by_code_or_name(counties, payload.county, field="county", label=_("旗县"))
    members = list(selectors.unit_member_choices(user).filter(username__in=[m[:150] for m in payload.members]))
    if len(members) != len(set(payload.members)):
        raise ValidationError({"members": [_("成员须为本辖区单位或中心的工作人员（按登录名填写）。")]})
    created = services.mobile_unit_create(
        actor=user,
        name=payload.name,
        county=county,
        households=_households(user, payload.households),
        orgs=_orgs(user, payload.orgs),
        members=members,
    )
    return Status(201, _unit_detail(selectors.unit_get(user, created.pk)))


class StopIn(Schema):
    """A stop: one of the unit's households (code), a station of the county (id), or a named place."""

    planned_on: datetime.date
    household: str = ""
    station: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    place: str = ""


class PlanIn(Schema):
    stops: list[StopIn] = Field(min_length=1, max_length=200)


class StopsOut(Schema):
    results: list[StopOut]


@router.post("/mobile-units/{pk}/plan", response={200: StopsOut, **WRITE}, tags=["mobile"])
def unit_plan(request: HttpRequest, pk: Id, payload: PlanIn) -> dict[str, Any]:
    """Replace the unit's circuit plan from its next stop on (stops already served stay)."""
    _scope(request, "mobile_units:write")
    user = _user(request)
    found = selectors.unit_get(user, pk)
    served = {h.code: h for h in found.households.all()}
    stations = {s.pk: s for s in selectors.stations_of_county(user, found.county)}
    stops, errors = [], []
    for n, stop in enumerate(payload.stops, 1):
        household = served.get(stop.household.strip()) if stop.household.strip() else None
        station = stations.get(stop.station) if stop.station else None
        if stop.household.strip() and household is None:
            errors.append(
                _("第 %(n)d 站：户 %(c)s 不是本乌日特的服务户。") % {"n": n, "c": stop.household.strip()[:30]}
            )
        if stop.station and station is None:
            errors.append(_("第 %(n)d 站：驿站 %(s)d 不在本旗县。") % {"n": n, "s": stop.station})
        stops.append(
            services.StopInput(planned_on=stop.planned_on, household=household, station=station, place=stop.place)
        )
    if errors:
        raise ValidationError({"stops": errors})
    services.circuit_plan_set(unit=found, actor=user, stops=stops)
    return {"results": [_stop(s) for s in selectors.unit_get(user, pk).stops.all()]}


class ServiceOut(Schema):
    service: str
    name: str
    count: int
    note: str


class MobileVisitOut(Schema):
    id: int
    unit: int
    stop: int | None
    visited_on: datetime.date
    people_served: int
    notes: str
    services: list[ServiceOut]
    cases: list[str]
    items: list[int]


def _mobile_visit(v: MobileVisit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "unit": v.unit_id,
        "stop": v.stop_id,
        "visited_on": v.visited_on,
        "people_served": v.people_served,
        "notes": v.notes,
        "services": [
            {"service": s.service.code, "name": s.service.name, "count": s.count, "note": s.note}
            for s in v.services.all()
        ],
        "cases": [c.number for c in v.cases.all()],
        "items": [i.pk for i in v.items.all()],
    }


@router.get("/mobile-units/{pk}/visits", response={200: page_schema(MobileVisitOut), **READ}, tags=["mobile"])
def unit_visits(request: HttpRequest, pk: Id, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """What the unit did at its stops, newest recorded first."""
    _scope(request, "mobile_units:read")
    found = selectors.unit_get(_user(request), pk)
    return paged(selectors.unit_visits(found), keys=("-id",), cursor=cursor, limit=limit, show=_mobile_visit)


class ServiceIn(Schema):
    service: str  # code or name (矛盾调解 …)
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    note: str = ""


class MobileVisitIn(Schema):
    visited_on: datetime.date
    services: list[ServiceIn] = Field(min_length=1, max_length=50)
    stop: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    people_served: Count = 0
    notes: str = ""


@router.post("/mobile-units/{pk}/visits", response={201: MobileVisitOut, **WRITE}, tags=["mobile"])
def unit_visit_new(request: HttpRequest, pk: Id, payload: MobileVisitIn) -> Status:
    """Log what the unit delivered at a stop: each service (code or name) with how many times and a note."""
    _scope(request, "mobile_units:write")
    user = _user(request)
    found = selectors.unit_get(user, pk)
    types = list(ServiceType.objects.filter(active=True))
    chosen: dict[ServiceType, tuple[int, str]] = {}
    for given in payload.services:
        service = next((t for t in types if given.service.strip() in (t.code, t.name)), None)
        if service is None:
            raise ValidationError({"services": [_("服务项目“%(s)s”不存在或已停用。") % {"s": given.service[:30]}]})
        chosen[service] = (given.count, given.note)
    stop = selectors.stops_of(found).filter(pk=payload.stop).first() if payload.stop else None
    if payload.stop and stop is None:
        raise ValidationError({"stop": [_("所选站点不属于本乌日特。")]})
    done = services.mobile_visit_record(
        unit=found,
        actor=user,
        visited_on=payload.visited_on,
        services=chosen,
        stop=stop,
        people_served=payload.people_served,
        notes=payload.notes,
    )
    return Status(201, _mobile_visit(selectors.mobile_visit_get(user, done.pk)))


@router.get("/mobile-visits/{pk}", response={200: MobileVisitOut, **READ}, tags=["mobile"])
def mobile_visit(request: HttpRequest, pk: Id) -> dict[str, Any]:
    _scope(request, "mobile_units:read")
    return _mobile_visit(selectors.mobile_visit_get(_user(request), pk))


def _served(found: MobileVisit, code: str) -> Household | None:
    if not code.strip():
        return None
    household = found.unit.households.filter(code=code.strip()[:30]).first()
    if household is None:
        raise ValidationError({"household": [_("户号 %(c)s 不是本乌日特的服务户。") % {"c": code.strip()[:30]}]})
    return household


class StopCaseIn(Schema):
    """A dispute brought to the stop; `household` (one the unit serves) places it in its grid."""

    category: str
    title: str
    description: str
    parties: list[PartyIn] = Field(min_length=1, max_length=50)
    household: str = ""
    people_involved: People = 1


@router.post("/mobile-visits/{pk}/case", response={201: CaseRefOut, **WRITE}, tags=["mobile"])
def mobile_visit_case(request: HttpRequest, pk: Id, payload: StopCaseIn) -> Status:
    """Register a dispute brought to a 乌日特 stop (channel 乌日特走访) at the county center running the unit."""
    _scope(request, "mobile_units:write")
    require_resource(request, "cases:write")
    user = _user(request)
    found = selectors.mobile_visit_get(user, pk)
    case = services.mobile_visit_case_raise(
        visit=found,
        actor=user,
        category=category_by_code_or_name(payload.category),
        title=payload.title,
        description=payload.description,
        parties=[case_services.PartyInput(**p.dict()) for p in payload.parties],
        household=_served(found, payload.household),
        people_involved=payload.people_involved,
    )
    return Status(201, _case_ref(case))


class StopItemIn(ItemIn):
    household: str = ""


@router.post("/mobile-visits/{pk}/items", response={201: ItemOut, **WRITE}, tags=["mobile"])
def mobile_visit_item(request: HttpRequest, pk: Id, payload: StopItemIn) -> Status:
    _scope(request, "items:write")
    user = _user(request)
    found = selectors.mobile_visit_get(user, pk)
    item = services.mobile_field_item_raise(
        visit=found,
        actor=user,
        kind=_item_kind(payload.kind),
        title=payload.title,
        description=payload.description,
        household=_served(found, payload.household),
    )
    return Status(201, _item(item))


class StationOut(Schema):
    id: int
    name: str
    village: str
    households: int


def _station(s: Station) -> dict[str, Any]:
    """A station read with `selectors.household_counts`."""
    return {"id": s.pk, "name": s.name, "village": s.region_code, "households": s.household_count}  # type: ignore[attr-defined]


@router.get("/stations", response={200: page_schema(StationOut), **READ}, tags=["mobile"])
def stations(request: HttpRequest, region: Filter = "", cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """Yurt mediation stations (蒙古包调解驿站) of the caller's jurisdiction."""
    scope = _scope(request, "mobile_units:read")
    rows = selectors.household_counts(_under(selectors.stations_visible(_user(request)), scope, region))
    return paged(rows, keys=("id",), cursor=cursor, limit=limit, show=_station)


class StationIn(Schema):
    name: str
    village: str  # code or name
    households: list[str] = Field(default=[], max_length=500)


@router.post("/stations", response={201: StationOut, **WRITE}, tags=["mobile"])
def station_new(request: HttpRequest, payload: StationIn) -> Status:
    scope = _scope(request, "mobile_units:write")
    user = _user(request)
    villages = regions_visible(scope).filter(level=Region.Level.VILLAGE)
    village = region_by_code_or_name(villages, payload.village, field="village", label=_("嘎查村"))
    created = services.station_create(
        actor=user, name=payload.name, village=village, households=_households(user, payload.households)
    )
    return Status(201, _station(selectors.household_counts(selectors.stations_visible(user)).get(pk=created.pk)))


# ---- village risk reviews ---------------------------------------------------------------------


class RiskItemOut(Schema):
    id: int
    review: int
    source: str
    case: str | None
    field_item: int | None
    visit: int | None
    summary: str
    decision: str
    grade: str
    handling_center: str | None
    status: str
    decided_at: str | None
    handled_note: str
    handled_at: str | None


def _risk_item(i: RiskItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "review": i.review_id,
        "source": i.source,
        "case": i.case.number if i.case else None,
        "field_item": i.field_item_id,
        "visit": i.visit_id,
        "summary": i.summary,
        "decision": i.decision,
        "grade": i.grade,
        "handling_center": i.handling_center.code if i.handling_center else None,
        "status": i.status,
        "decided_at": _at(i.decided_at),
        "handled_note": i.handled_note,
        "handled_at": _at(i.handled_at),
    }


class ReviewOut(Schema):
    id: int
    village: str
    village_name: str
    held_on: datetime.date
    chair: str
    attendees: str


class ReviewDetailOut(ReviewOut):
    items: list[RiskItemOut]


def _review(r: RiskReview) -> dict[str, Any]:
    return {
        "id": r.pk,
        "village": r.region_code,
        "village_name": r.village.name,
        "held_on": r.held_on,
        "chair": r.chair.get_username(),
        "attendees": r.attendees,
    }


@router.get("/risk-reviews", response={200: page_schema(ReviewOut), **READ}, tags=["reviews"])
def risk_reviews(request: HttpRequest, region: Filter = "", cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """Village risk reviews (研判) of the caller's jurisdiction, newest first."""
    scope = _reviewer(request, "reviews:read")
    rows = _under(selectors.reviews_visible(_user(request)), scope, region)
    return paged(rows, keys=("-id",), cursor=cursor, limit=limit, show=_review)


@router.get("/risk-reviews/{pk}", response={200: ReviewDetailOut, **READ}, tags=["reviews"])
def risk_review(request: HttpRequest, pk: Id) -> dict[str, Any]:
    _reviewer(request, "reviews:read")
    found = selectors.review_get(_user(request), pk)
    return {**_review(found), "items": [_risk_item(i) for i in found.items.all()]}


class ReviewIn(Schema):
    """Open a village's review; its agenda is drawn from the village's open cases, items and recent visits."""

    village: str  # code or name
    held_on: datetime.date
    attendees: str = ""


@router.post("/risk-reviews", response={201: ReviewDetailOut, **WRITE}, tags=["reviews"])
def risk_review_new(request: HttpRequest, payload: ReviewIn) -> Status:
    scope = _reviewer(request, "reviews:write")
    user = _user(request)
    villages = regions_visible(scope).filter(level=Region.Level.VILLAGE)
    village = region_by_code_or_name(villages, payload.village, field="village", label=_("嘎查村"))
    opened = reviews.risk_review_open(actor=user, village=village, held_on=payload.held_on, attendees=payload.attendees)
    found = selectors.review_get(user, opened.pk)
    return Status(201, {**_review(found), "items": [_risk_item(i) for i in found.items.all()]})


class DecideIn(Schema):
    """The review's decision and the level that handles it: `village`, `township` or `county` (or 嘎查村处置 …)."""

    decision: str
    grade: str


def _grade(typed: str) -> str:
    for value, label in RiskItem.Grade.choices:
        if typed.strip() in (value, str(label)):
            return str(value)
    return typed  # the service names the field


@router.post("/risk-items/{pk}/decide", response={200: RiskItemOut, **WRITE}, tags=["reviews"])
def risk_item_decide(request: HttpRequest, pk: Id, payload: DecideIn) -> dict[str, Any]:
    """Decide and grade an item; a case graded above the center holding it is lifted there."""
    _reviewer(request, "reviews:write")
    user = _user(request)
    item = reviews.risk_item_decide(
        item=selectors.risk_item_get(user, pk), actor=user, decision=payload.decision, grade=_grade(payload.grade)
    )
    return _risk_item(selectors.handling_item_get(user, item.pk) if item.handling_center else item)


@router.get("/risk-items", response={200: page_schema(RiskItemOut), **READ}, tags=["reviews"])
def risk_items(request: HttpRequest, done: bool = False, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """Items graded to the centers of the caller's jurisdiction: waiting for a handling record, or `done`."""
    _reviewer(request, "reviews:read", handlers=True)
    user = _user(request)
    rows = selectors.handled_items(user) if done else selectors.handling_items(user)
    return paged(rows, keys=("id",), cursor=cursor, limit=limit, show=_risk_item)


class DoneIn(Schema):
    note: str


@router.post("/risk-items/{pk}/done", response={200: RiskItemOut, **WRITE}, tags=["reviews"])
def risk_item_done(request: HttpRequest, pk: Id, payload: DoneIn) -> dict[str, Any]:
    """The handling center records how the item was dealt with, which closes it."""
    _reviewer(request, "reviews:write", handlers=True)
    user = _user(request)
    item = reviews.risk_item_done(item=selectors.handling_item_get(user, pk), actor=user, note=payload.note)
    return _risk_item(selectors.handling_item_get(user, item.pk))


# ---- the offline field app (docs/field-app.md) --------------------------------------------------


def _person(request: HttpRequest) -> User:
    """The field app is for people logged in on a phone (session + CSRF), not for other systems."""
    if getattr(request, "service_account", None) is not None:
        raise PermissionDenied(_("离线同步只供登录的工作人员使用。"))
    access.business_scope(request.user)
    return _user(request)


@router.get("/field/offline", response={200: dict[str, Any], **READ}, tags=["field-app"], url_name="offline")
def offline(request: HttpRequest) -> dict[str, Any]:
    """What the phone keeps for offline work: the households and residents (masked) of my grids and circuits."""
    return sync.offline_dataset(_person(request))


class SyncIn(Schema):
    """One record of the phone's queue: its client-generated id, its kind and what was recorded."""

    client_id: str
    kind: str
    data: dict[str, Any]


class SyncOut(Schema):
    """The answer about one record (a body the API could not read at all is a 422 with `detail` and `errors`)."""

    status: str = ""  # done, conflict or refused
    message: str = ""
    todo: str = ""
    options: list[str] = []
    ref: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    replayed: bool = False


@router.post(
    "/field/sync",
    response={200: SyncOut, 409: SyncOut, 422: SyncOut, 401: dict, 403: dict},
    tags=["field-app"],
    url_name="sync_record",
)
def sync_record(request: HttpRequest, payload: SyncIn) -> Status:
    """Replay one record: done once whatever the number of replays; a conflict says what to do."""
    answer = sync.record_sync(
        actor=_person(request), client_id=payload.client_id.strip(), kind=payload.kind, data=payload.data
    )
    return Status(answer.http_status, answer.as_dict())


class UploadIn(Schema):
    upload_id: str
    name: str
    size: int
    sha256: str
    content_type: str


class UploadOut(Schema):
    upload_id: str
    offset: int
    size: int
    complete: bool


@router.post("/field/uploads", response={200: UploadOut, **WRITE}, tags=["field-app"], url_name="upload_new")
def upload_new(request: HttpRequest, payload: UploadIn) -> dict[str, Any]:
    """Announce a photo; announced again, it answers how far it got (resume from `offset`)."""
    upload = sync.upload_start(actor=_person(request), **payload.dict())
    return sync.upload_state(upload)


@router.get("/field/uploads/{upload_id}", response={200: UploadOut, **READ}, tags=["field-app"])
def upload_status(request: HttpRequest, upload_id: str) -> dict[str, Any]:
    return sync.upload_state(sync.upload_get(_person(request), upload_id))


class GapOut(Schema):
    detail: str
    offset: int


@router.post("/field/uploads/{upload_id}/chunk", response={200: UploadOut, **WRITE, 409: GapOut}, tags=["field-app"])
def upload_chunk(request: HttpRequest, upload_id: str) -> Any:
    """The bytes at `Upload-Offset` (the body, raw); a gap answers 409 with the offset to resume from."""
    user = _person(request)
    raw = request.headers.get("Upload-Offset", "")
    if not raw.isdigit():
        raise ValidationError({"Upload-Offset": [_("缺少 Upload-Offset（从第几个字节起）。")]})
    try:
        upload = sync.upload_chunk(actor=user, upload_id=upload_id, offset=int(raw), data=request.body)
    except sync.OffsetMismatch as gap:
        message = _("应从第 %(n)d 个字节续传。") % {"n": gap.received}
        return Status(409, {"detail": message, "offset": gap.received})
    return sync.upload_state(upload)
