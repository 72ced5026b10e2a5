"""Every write on field work. Each function is keyword-only, atomic, and checks the actor first.

Validation errors are ValidationError keyed by field, in Chinese; an actor without the right role is
PermissionDenied; a thing outside the actor's scope is refused with the same 404 as a missing one.
"""

import datetime
import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, inputs, uploads
from zongzhi.accounts.models import Role, User
from zongzhi.cases import services as case_services
from zongzhi.cases.models import Case, Category
from zongzhi.centers.models import Center, Org
from zongzhi.grid.models import GridWorker, Household, Resident
from zongzhi.outbox.services import visit_recorded
from zongzhi.regions.models import Region

from .models import (
    CircuitStop,
    FieldItem,
    MobileUnit,
    MobileVisit,
    MobileVisitService,
    ServiceType,
    Station,
    Visit,
    VisitPhoto,
)

PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 9
MAX_UNIT_HOUSEHOLDS = 30
REVIEW_ROLES = frozenset({Role.CENTER_DIRECTOR, Role.LEADER})


# ---- visits -----------------------------------------------------------------------------------


def _worker_of(actor: User, named: GridWorker | None, household: Household) -> GridWorker:
    """Whose visit it is: the acting grid worker's, or that of the grid worker a system granted
    `visits:write` names (a visit of a household of that worker's grid; the system is the recorder)."""
    if access.system_may(actor, "visits:write"):
        if named is None:
            raise ValidationError({"worker": [_("服务账号登记走访须写明走访的网格员（worker，网格员编号）。")]})
        if named.grid_id != household.grid_id:
            raise ValidationError(
                {"worker": [_("网格员“%(w)s”不负责户 %(h)s 所在的网格。") % {"w": named.code, "h": household.code}]}
            )
        return named
    worker = GridWorker.objects.filter(user=actor).first()
    if worker is None or Role.GRID_WORKER not in access.roles_of(actor):
        raise PermissionDenied(_("只有网格员可以登记走访。"))
    if named is not None and named.pk != worker.pk:
        raise PermissionDenied(_("网格员只能登记本人的走访。"))
    return worker


def _photo_errors(photos: Sequence[UploadedFile]) -> list[str]:
    problems = []
    if len(photos) > MAX_PHOTOS:
        problems.append(_("照片最多 %(n)d 张。") % {"n": MAX_PHOTOS})
    for photo in photos:
        name = (photo.name or "photo").rsplit("/", 1)[-1][:200]
        if inputs.NUL in name:
            problems.append(inputs.nul_message(_("照片文件名")))
            continue
        if photo.size is None or photo.size > MAX_PHOTO_BYTES:
            problems.append(_("照片“%(n)s”超过 10 MB。") % {"n": name})
            continue
        kind, parsed = uploads.problem(uploads.read_all(photo), name, (uploads.JPEG, uploads.PNG), _("照片"))
        if parsed:
            problems.append(parsed)
        elif kind is None:
            problems.append(_("文件“%(n)s”不是图片：照片只接受 JPEG 或 PNG 格式。") % {"n": name})
    return problems


def _photo_type(head: bytes) -> str | None:
    return next((kind for kind, magic in PHOTO_TYPES.items() if head.startswith(magic)), None)


def _coordinate_errors(lat: float | None, lng: float | None) -> list[str]:
    if (lat is None) != (lng is None):
        return [_("经度和纬度须同时填写或同时留空。")]
    if lat is not None and lng is not None and not (3 <= lat <= 54 and 73 <= lng <= 136):
        return [_("位置（纬度 %(lat)s，经度 %(lng)s）不在中国境内，请核对。") % {"lat": lat, "lng": lng}]
    return []


def visit_record(
    *,
    actor: User,
    household: Household,
    visited_at: datetime.datetime,
    notes: str,
    kind: str = Visit.Kind.VISIT,
    lat: float | None = None,
    lng: float | None = None,
    photos: Sequence[UploadedFile] = (),
    worker: GridWorker | None = None,
) -> Visit:
    """Record a grid worker's visit to a household of their own grid, with its photos (a system granted
    `visits:write` records one for the grid worker it names)."""
    visited_at = inputs.aware(visited_at, "visited_at")
    access.require(access.scope_of(actor).covers(household.region_code))
    worker = _worker_of(actor, worker, household)
    errors = inputs.text_errors(Visit, {"notes": notes})
    if kind not in Visit.Kind.values:
        errors["kind"] = [_("未知走访类型“%(k)s”。") % {"k": kind}]
    if not notes.strip():
        errors["notes"] = [_("请填写走访情况。")]
    if visited_at > timezone.now() + datetime.timedelta(minutes=5):  # a phone's clock may run a little fast
        errors["visited_at"] = [
            _("走访时间 %(t)s 晚于现在，请核对。") % {"t": timezone.localtime(visited_at).strftime("%Y-%m-%d %H:%M")}
        ]
    if problems := _coordinate_errors(lat, lng):
        errors["position"] = problems
    if problems := _photo_errors(photos):
        errors["photos"] = problems
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        visit = Visit.objects.create(
            worker=worker,
            household=household,
            grid_id=household.grid_id,
            region_code=household.region_code,
            kind=kind,
            visited_at=visited_at,
            lat=lat,
            lng=lng,
            notes=notes.strip(),
            recorded_by=actor,
            recorded_at=now,
        )
        for photo in photos:
            _photo_save(visit, photo)
        visit_recorded(visit)
    return visit


def _photo_save(visit: Visit, upload: UploadedFile) -> VisitPhoto:
    content_type = _photo_type(upload.read(16)) or "image/jpeg"
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    photo = VisitPhoto(
        visit=visit,
        region_code=visit.region_code,
        name=(upload.name or "photo").rsplit("/", 1)[-1][:200],
        content_type=content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
    )
    extension = mimetypes.guess_extension(content_type) or ""
    photo.file.save(f"visit-{visit.pk}-{digest.hexdigest()[:12]}{extension}", upload, save=False)
    photo.save()
    return photo


def visit_photo_add(*, visit: Visit, actor: User, upload: UploadedFile) -> tuple[VisitPhoto, bool]:
    """Add one photo to a visit (the API's upload, one photo a request); (photo, whether it is new).

    Sending the same photo again (an upload retried after the connection dropped) stores nothing and
    answers with the photo already kept: the same bytes are one photo of the visit.
    """
    _own_visit(actor, visit, "visits:write")
    if problems := _photo_errors([upload]):
        raise ValidationError({"photo": problems})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        # One upload of a visit at a time (the visit's row lock), so a retry racing its original keeps one.
        # A visit's photos carry its region code (`_photo_save`), so each read names it.
        Visit.objects.select_for_update().filter(pk=visit.pk, region_code=visit.region_code).first()
        photos = VisitPhoto.objects.filter(visit=visit, region_code=visit.region_code)
        kept = photos.filter(sha256=digest.hexdigest()).first()
        if kept is not None:
            return kept, False
        if photos.count() >= MAX_PHOTOS:
            raise ValidationError({"photo": [_("照片最多 %(n)d 张。") % {"n": MAX_PHOTOS}]})
        return _photo_save(visit, upload), True


def _own_visit(actor: User, visit: Visit, permission: str) -> None:
    access.require(access.scope_of(actor).covers(visit.region_code))
    if Role.GRID_WORKER not in access.roles_of(actor) and not access.system_may(actor, permission):
        raise PermissionDenied(_("只有网格员可以从走访上报。"))


def visit_case_raise(
    *,
    visit: Visit,
    actor: User,
    category: Category,
    title: str,
    description: str,
    applicant: Resident | None = None,
    parties: Sequence[case_services.PartyInput] = (),
    people_involved: int = 1,
    amount: Any = None,
) -> Case:
    """Report a dispute found on a visit (channel 网格员上报); the case's place is the household's grid."""
    _own_visit(actor, visit, "visits:write")
    if visit.case is not None:
        raise ValidationError({"case": [_("这次走访已上报过矛盾纠纷（%(n)s）。") % {"n": visit.case.number}]})
    everyone = list(parties)
    if applicant is not None:
        if applicant.household_id != visit.household_id:
            raise ValidationError({"applicant": [_("申请人“%(n)s”不是被走访户的成员。") % {"n": applicant.name}]})
        everyone.insert(
            0,
            case_services.PartyInput(
                kind="person",
                role="applicant",
                name=applicant.name,
                id_number=applicant.id_number,
                phone=applicant.phone,
                address=visit.household.address,
            ),
        )
    with transaction.atomic():
        # Lock the visit so two taps on "report" cannot raise two cases from it.
        locked = Visit.objects.select_for_update().filter(pk=visit.pk, region_code=visit.region_code)
        if locked.values_list("case_id", flat=True).get() is not None:
            raise ValidationError({"case": [_("这次走访已上报过矛盾纠纷。")]})
        case = case_services.case_intake(
            actor=actor,
            channel=Case.Channel.GRID,
            category=category,
            title=title,
            description=description,
            region=visit.grid,
            parties=everyone,
            amount=amount,
            people_involved=people_involved,
            location=visit.household.address,
            lat=visit.lat,
            lng=visit.lng,
            occurred_on=timezone.localdate(visit.visited_at),
        )
        Visit.objects.filter(pk=visit.pk, region_code=visit.region_code).update(case=case)
        visit.case = case
    return case


def _check_item(kind: str, title: str, description: str) -> None:
    """A field item's kind, title and description as a visit or a 乌日特 stop takes them."""
    errors = inputs.text_errors(FieldItem, {"title": title, "description": description})
    if kind not in FieldItem.Kind.values:
        errors["kind"] = [_("事项类型应为安全隐患或民意诉求。")]
    if not title.strip():
        errors["title"] = [_("请填写事项。")]
    if errors:
        raise ValidationError(errors)


def field_item_raise(*, visit: Visit, actor: User, kind: str, title: str, description: str = "") -> FieldItem:
    """Note a safety hazard or a request of the people found on a visit."""
    _own_visit(actor, visit, "items:write")
    _check_item(kind, title, description)
    return FieldItem.objects.create(
        visit=visit,
        region_code=visit.region_code,
        kind=kind,
        title=title.strip(),
        description=description.strip(),
        raised_by=actor,
        raised_at=timezone.now(),
    )


def field_item_handle(*, item: FieldItem, actor: User, note: str) -> FieldItem:
    """Mark an item handled, saying how (the grid worker, or a director or leader above)."""
    inputs.check_text(FieldItem, {"handling_note": note})
    access.require(access.scope_of(actor).covers(item.region_code))
    if not access.roles_of(actor) & {Role.GRID_WORKER, *REVIEW_ROLES} and not access.system_may(actor, "items:write"):
        raise PermissionDenied(_("您的角色不能处理隐患和诉求。"))
    if not note.strip():
        raise ValidationError({"handling_note": [_("请填写处理情况。")]})
    with transaction.atomic():
        done = FieldItem.objects.filter(pk=item.pk, region_code=item.region_code, status=FieldItem.Status.OPEN).update(
            status=FieldItem.Status.HANDLED, handled_by=actor, handled_at=timezone.now(), handling_note=note.strip()
        )
        if not done:
            raise ValidationError({"status": [_("事项“%(t)s”已处理过。") % {"t": item.title}]})
    item.refresh_from_db(from_queryset=FieldItem.objects.filter(region_code=item.region_code))
    return item


# ---- mobile units and stations ----------------------------------------------------------------


def _may_manage_county(actor: User, county_code: str) -> None:
    access.require(access.scope_of(actor).covers(county_code))
    if Role.CENTER_DIRECTOR not in access.roles_of(actor) and not access.system_may(actor, "mobile_units:write"):
        raise PermissionDenied(_("乌日特由旗县综治中心主任管理。"))


def mobile_unit_create(
    *,
    actor: User,
    name: str,
    county: Region,
    households: Iterable[Household] = (),
    orgs: Iterable[Org] = (),
    members: Iterable[User] = (),
) -> MobileUnit:
    """Set up a county's mobile unit with its herder households, member orgs and members."""
    if county.level != Region.Level.COUNTY:
        raise ValidationError({"county": [_("“%(r)s”不是旗县，乌日特以旗县为单位设立。") % {"r": county.name}]})
    _may_manage_county(actor, county.code)
    households, orgs, members = list(households), list(orgs), list(members)
    errors = inputs.text_errors(MobileUnit, {"name": name})
    if not name.strip():
        errors["name"] = [_("请填写乌日特名称。")]
    if len(households) > MAX_UNIT_HOUSEHOLDS:
        errors["households"] = [
            _("一个乌日特服务 20–30 户牧户，所选 %(n)d 户超过 %(m)d 户。")
            % {"n": len(households), "m": MAX_UNIT_HOUSEHOLDS}
        ]
    outside = [h.code for h in households if not h.region_code.startswith(county.prefix)]
    if outside:
        errors["households"] = [_("户 %(c)s 不在%(r)s。") % {"c": "、".join(outside[:5]), "r": county.name}]
    far = [
        o.name
        for o in orgs
        if not county.code.startswith(o.region.prefix) and not o.region_code.startswith(county.prefix)
    ]
    if far:
        errors["orgs"] = [_("单位 %(o)s 不在%(r)s或其上级。") % {"o": "、".join(far[:5]), "r": county.name}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        unit = MobileUnit.objects.create(
            name=name.strip(), county=county, region_code=county.code, created_by=actor, created_at=timezone.now()
        )
        unit.households.set(households)
        unit.orgs.set(orgs)
        unit.members.set(members, through_defaults={"region_code": unit.region_code})
    return unit


@dataclass
class StopInput:
    """One stop of a circuit plan: a household of the unit, a station or a named place, on a date."""

    planned_on: datetime.date
    household: Household | None = None
    station: Station | None = None
    place: str = ""


def circuit_plan_set(*, unit: MobileUnit, actor: User, stops: Sequence[StopInput]) -> list[CircuitStop]:
    """Replace the unit's future circuit plan with these ordered stops."""
    _may_manage_county(actor, unit.region_code)
    errors: list[str] = []
    served = set(unit.households.values_list("pk", flat=True))
    for n, stop in enumerate(stops, 1):
        for problems in inputs.text_errors(
            CircuitStop, {"place": stop.place}, where=_("第 %(n)d 站") % {"n": n}
        ).values():
            errors.extend(problems)
        if not (stop.household or stop.station or stop.place.strip()):
            errors.append(_("第 %(n)d 站：请选择牧户、驿站或填写地点。") % {"n": n})
        if stop.household is not None and stop.household.pk not in served:
            errors.append(_("第 %(n)d 站：户 %(c)s 不是本乌日特的服务户。") % {"n": n, "c": stop.household.code})
        if stop.station is not None and not stop.station.region_code.startswith(unit.county.prefix):
            errors.append(_("第 %(n)d 站：驿站“%(s)s”不在本旗县。") % {"n": n, "s": stop.station.name})
        if n > 1 and stop.planned_on < stops[n - 2].planned_on:
            errors.append(_("第 %(n)d 站的计划日期早于上一站。") % {"n": n})
    if errors:
        raise ValidationError({"stops": errors})
    with transaction.atomic():
        # Stops already visited stay (the visits point at them); the rest of the plan is replaced.
        # A unit's stops and visits carry its region code (below, `mobile_visit_record`).
        stops_of_unit = unit.stops.filter(region_code=unit.region_code)
        visited = MobileVisit.objects.filter(stop=OuterRef("pk"), region_code=unit.region_code)
        stops_of_unit.filter(~Exists(visited)).delete()
        start = (stops_of_unit.order_by("-order").values_list("order", flat=True).first() or 0) + 1
        return CircuitStop.objects.bulk_create(
            [
                CircuitStop(
                    unit=unit,
                    region_code=unit.region_code,
                    order=start + i,
                    planned_on=s.planned_on,
                    household=s.household,
                    station=s.station,
                    place=s.place.strip(),
                )
                for i, s in enumerate(stops)
            ]
        )


def _may_serve(actor: User, unit: MobileUnit) -> None:
    access.require(access.scope_of(actor).covers(unit.region_code) or unit.members.filter(pk=actor.pk).exists())
    is_director = (
        Role.CENTER_DIRECTOR in access.roles_of(actor) or access.system_may(actor, "mobile_units:write")
    ) and access.scope_of(actor).covers(unit.region_code)
    if not is_director and not unit.members.filter(pk=actor.pk).exists():
        raise PermissionDenied(_("只有乌日特成员和旗县综治中心主任可以登记服务。"))


def mobile_visit_record(
    *,
    unit: MobileUnit,
    actor: User,
    visited_on: datetime.date,
    services: dict[ServiceType, tuple[int, str]],
    stop: CircuitStop | None = None,
    people_served: int = 0,
    notes: str = "",
) -> MobileVisit:
    """Log what the unit delivered at a stop: each service with how many times and a note."""
    _may_serve(actor, unit)
    errors = inputs.text_errors(MobileVisit, {"notes": notes})
    if visited_on > timezone.localdate():
        errors["visited_on"] = [_("服务日期 %(d)s 晚于今天，请核对。") % {"d": visited_on}]
    if stop is not None and stop.unit_id != unit.pk:
        errors["stop"] = [_("所选站点不属于本乌日特。")]
    if not services:
        errors["services"] = [_("请至少登记一项服务。")]
    for service, (count, note) in services.items():
        if problems := inputs.text_errors(MobileVisitService, {"note": note}, where=service.name):
            errors["services"] = problems["note"]
        if not service.active:
            errors["services"] = [_("服务项目“%(s)s”已停用。") % {"s": service.name}]
        if count < 1:
            errors["services"] = [_("服务项目“%(s)s”的次数应至少为 1。") % {"s": service.name}]
    if people_served < 0:
        errors["people_served"] = [_("服务人数不能为负数。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = MobileVisit.objects.create(
            unit=unit,
            stop=stop,
            region_code=unit.region_code,
            visited_on=visited_on,
            people_served=people_served,
            notes=notes.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        MobileVisitService.objects.bulk_create(
            [
                MobileVisitService(visit=visit, region_code=unit.region_code, service=s, count=c, note=n.strip())
                for s, (c, n) in services.items()
            ]
        )
    return visit


def _stop_place(visit: MobileVisit, household: Household | None) -> tuple[Region, str]:
    """Where a matter raised at a stop happened: the household's grid, the stop's station, or the county."""
    stop = visit.stop
    household = household or (stop.household if stop else None)
    if household is not None:
        return household.grid, household.address
    if stop is not None and stop.station is not None:
        return stop.station.village, stop.station.name
    return visit.unit.county, stop.place if stop else ""


def _served_household(visit: MobileVisit, household: Household | None) -> None:
    if household is not None and not visit.unit.households.filter(pk=household.pk).exists():
        raise ValidationError({"household": [_("户 %(c)s 不是本乌日特的服务户。") % {"c": household.code}]})


def mobile_visit_case_raise(
    *,
    visit: MobileVisit,
    actor: User,
    category: Category,
    title: str,
    description: str,
    parties: Sequence[case_services.PartyInput],
    household: Household | None = None,
    people_involved: int = 1,
    amount: Any = None,
) -> Case:
    """Register a dispute brought to a 乌日特 stop (channel 乌日特走访) at the county center that runs the unit.

    A stop serves many households, so it may raise several cases; the place is the household's grid
    (one of the unit's, or the stop's), else the stop's station, else the county.
    """
    _may_serve(actor, visit.unit)
    _served_household(visit, household)
    region, location = _stop_place(visit, household)
    center = Center.objects.filter(region=visit.unit.county).exclude(level=Center.Level.VILLAGE).first()
    with transaction.atomic():
        case = case_services.case_intake(
            actor=actor,
            channel=Case.Channel.MOBILE,
            category=category,
            title=title,
            description=description,
            region=region,
            parties=parties,
            amount=amount,
            people_involved=people_involved,
            location=location,
            occurred_on=visit.visited_on,
            center=center,
        )
        visit.cases.add(case)
    return case


def mobile_field_item_raise(
    *,
    visit: MobileVisit,
    actor: User,
    kind: str,
    title: str,
    description: str = "",
    household: Household | None = None,
) -> FieldItem:
    """Note a safety hazard or a request of the people brought to a 乌日特 stop."""
    _may_serve(actor, visit.unit)
    _served_household(visit, household)
    _check_item(kind, title, description)
    region, _location = _stop_place(visit, household)
    return FieldItem.objects.create(
        mobile_visit=visit,
        region_code=region.code,
        kind=kind,
        title=title.strip(),
        description=description.strip(),
        raised_by=actor,
        raised_at=timezone.now(),
    )


def station_create(*, actor: User, name: str, village: Region, households: Iterable[Household] = ()) -> Station:
    """Register a yurt mediation station in a village (by a director over the village)."""
    if village.level != Region.Level.VILLAGE:
        raise ValidationError({"village": [_("“%(r)s”不是嘎查村。") % {"r": village.name}]})
    access.require(access.scope_of(actor).covers(village.code))
    if Role.CENTER_DIRECTOR not in access.roles_of(actor) and not access.system_may(actor, "mobile_units:write"):
        raise PermissionDenied(_("蒙古包调解驿站由综治中心主任登记。"))
    households = list(households)
    errors = inputs.text_errors(Station, {"name": name})
    if not name.strip():
        errors["name"] = [_("请填写驿站名称。")]
    elif "name" not in errors and Station.objects.filter(region_code=village.code, name=name.strip()).exists():
        errors["name"] = [_("%(v)s已有名为“%(n)s”的驿站。") % {"v": village.name, "n": name.strip()}]
    outside = [h.code for h in households if not h.region_code.startswith(village.prefix)]
    if outside:
        errors["households"] = [_("户 %(c)s 不在%(v)s。") % {"c": "、".join(outside[:5]), "v": village.name}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        station = Station.objects.create(name=name.strip(), village=village, region_code=village.code, created_by=actor)
        station.households.set(households)
    return station
