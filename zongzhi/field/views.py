"""Field pages: phone-first visit form and list for grid workers, village reviews, mobile units."""

import datetime
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access, inputs
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.accounts.models import Role
from zongzhi.cases import services as case_services
from zongzhi.cases.models import Category, Party
from zongzhi.forms import flash_errors
from zongzhi.grid.models import Household
from zongzhi.regions.models import Region

from . import reviews, selectors, services
from .models import FieldItem, MobileUnit, MobileVisit, RiskItem, ServiceType, Visit

LIST_SIZE = 50
PLAN_ROWS = 8


def _is_grid_worker(user: Any) -> bool:
    return access.may_read_business(user) and Role.GRID_WORKER in access.roles_of(user)


def _reviewer(user: Any) -> bool:
    return access.may_read_business(user) and bool(access.roles_of(user) & reviews.REVIEW_ROLES)


def _float(post: Any, name: str, label: str, errors: dict[str, list[str]]) -> float | None:
    raw = post.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        errors.setdefault("position", []).append(_("%(l)s“%(v)s”不是数字。") % {"l": label, "v": raw})
        return None


# ---- visits -----------------------------------------------------------------------------------


@staff_page(access.may_read_business)
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visits and open items the user may see (a grid worker: their grid's)."""
    user = acting_user(request)
    return render(
        request,
        "field/visits.html",
        {
            "visits": selectors.visits_visible(user)[:LIST_SIZE],
            "items": selectors.field_items_visible(user, open_only=True)[:LIST_SIZE],
            "may_record": _is_grid_worker(user),
        },
    )


@staff_page(_is_grid_worker)
def visit_new(request: HttpRequest) -> HttpResponse:
    """Record a visit: a household of the worker's grid, when, where, what was seen, photos."""
    user = acting_user(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        household = selectors.household_get(user, post.get("household", ""))
        try:
            visited_at = inputs.datetime_from(post.get("visited_at", ""), "visited_at")
        except ValidationError as error:
            errors.update(error.message_dict)
            visited_at = timezone.now()
        lat = _float(post, "lat", _("纬度"), errors)
        lng = _float(post, "lng", _("经度"), errors)
        if not errors:
            try:
                visit = services.visit_record(
                    actor=user,
                    household=household,
                    visited_at=visited_at,
                    notes=post.get("notes", ""),
                    kind=post.get("kind", Visit.Kind.VISIT),
                    lat=lat,
                    lng=lng,
                    photos=request.FILES.getlist("photos"),
                )
            except ValidationError as error:
                errors = error.message_dict
            else:
                messages.success(request, _("走访已登记。"))
                return redirect("field:visit", pk=visit.pk)
    return render(
        request,
        "field/visit_new.html",
        {
            "households": selectors.households_for_visit(user),
            "kinds": Visit.Kind.choices,
            "post": request.POST,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@staff_page(access.may_read_business)
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    visit = selectors.visit_get(user, pk)
    return render(
        request,
        "field/visit.html",
        {
            "visit": visit,
            "may_raise": _is_grid_worker(user),
            "categories": Category.objects.filter(active=True),
            "item_kinds": FieldItem.Kind.choices,
        },
    )


@require_POST
@staff_page(_is_grid_worker)
def visit_raise_case(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    visit = selectors.visit_get(user, pk)
    post = request.POST
    # A household's residents carry its region code (the registry keeps them together when it moves).
    home = visit.household
    residents = home.residents.filter(region_code=home.region_code, household__region_code=home.region_code)
    applicant = residents.filter(pk=post.get("applicant") or 0).first()
    category = Category.objects.filter(code=post.get("category", ""), active=True).first()
    try:
        if category is None:
            raise ValidationError({"category": [_("请选择纠纷类别。")]})
        case = services.visit_case_raise(
            visit=visit,
            actor=user,
            category=category,
            title=post.get("title", ""),
            description=post.get("description", ""),
            applicant=applicant,
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("已上报矛盾纠纷 %(n)s。") % {"n": case.number})
    return redirect("field:visit", pk=visit.pk)


@require_POST
@staff_page(_is_grid_worker)
def visit_raise_item(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    visit = selectors.visit_get(user, pk)
    try:
        services.field_item_raise(
            visit=visit,
            actor=user,
            kind=request.POST.get("kind", ""),
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("事项已登记。"))
    return redirect("field:visit", pk=visit.pk)


@require_POST
@staff_page(access.may_read_business)
def item_handle(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    item = selectors.field_item_get(user, pk)
    try:
        services.field_item_handle(item=item, actor=user, note=request.POST.get("note", ""))
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("事项已处理。"))
    return redirect("field:visits")


@staff_page(access.may_read_business)
def photo(request: HttpRequest, pk: int) -> FileResponse:
    user = acting_user(request)
    return selectors.photo_download(user, pk, request)


# ---- village risk reviews ---------------------------------------------------------------------


@staff_page(_reviewer)
def review_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST":
        village = get_object_or_404(
            Region.objects.filter(access.scope_of(user).q("code")), code=request.POST.get("village", "").strip()
        )
        try:
            held_on = datetime.date.fromisoformat(request.POST.get("held_on", ""))
            review = reviews.risk_review_open(
                actor=user, village=village, held_on=held_on, attendees=request.POST.get("attendees", "")
            )
        except ValueError:
            messages.error(request, _("研判日期格式应为 YYYY-MM-DD。"))
        except (ValidationError, PermissionDenied) as error:
            flash_errors(request, error)
        else:
            return redirect("field:review", pk=review.pk)
    return render(
        request,
        "field/reviews.html",
        {"reviews": selectors.reviews_visible(user)[:LIST_SIZE], "today": timezone.localdate().isoformat()},
    )


@staff_page(_reviewer)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(acting_user(request), pk)
    return render(request, "field/review.html", {"review": review, "grades": RiskItem.Grade.choices})


@require_POST
@staff_page(_reviewer)
def risk_item_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    item = selectors.risk_item_get(user, pk)
    try:
        reviews.risk_item_decide(
            item=item, actor=user, decision=request.POST.get("decision", ""), grade=request.POST.get("grade", "")
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    return redirect("field:review", pk=item.review_id)


def _handler(user: Any) -> bool:
    return access.may_read_business(user) and bool(access.roles_of(user) & (reviews.REVIEW_ROLES | {Role.INTAKE_CLERK}))


@staff_page(_handler)
def handling_list(request: HttpRequest) -> HttpResponse:
    """Review items graded to the centers of the user's jurisdiction, waiting for a handling record."""
    user = acting_user(request)
    if request.method == "POST":
        item_id = request.POST.get("item", "")
        item = selectors.handling_item_get(user, int(item_id) if item_id.isdigit() else 0)
        try:
            reviews.risk_item_done(item=item, actor=user, note=request.POST.get("note", ""))
        except (ValidationError, PermissionDenied) as error:
            flash_errors(request, error)
        else:
            messages.success(request, _("办理结果已登记，事项已办结。"))
        return redirect("field:handling")
    return render(
        request,
        "field/handling.html",
        {"items": selectors.handling_items(user)[:LIST_SIZE], "done": selectors.handled_items(user)[:LIST_SIZE]},
    )


# ---- mobile units and stations ----------------------------------------------------------------


def _director(user: Any) -> bool:
    return Role.CENTER_DIRECTOR in access.roles_of(user)


def _codes(text: str) -> list[str]:
    """Household codes typed or pasted one per line, or separated by commas, spaces or 、."""
    return [c for c in re.split(r"[\s,，、;；]+", text.strip()) if c]


def _households(user: Any, text: str, errors: dict[str, list[str]]) -> list[Household]:
    wanted = _codes(text)
    found = {h.code: h for h in selectors.households_by_code(user, wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        errors["households"] = [_("户号 %(c)s 不存在或不在您的辖区。") % {"c": "、".join(missing[:5])}]
    return list(found.values())


def _unit_create(request: HttpRequest, user: Any) -> HttpResponse | None:
    post = request.POST
    errors: dict[str, list[str]] = {}
    county = selectors.region_in_scope(user, post.get("county", ""))
    households = _households(user, post.get("households", ""), errors)
    orgs = list(selectors.orgs_for_units(user).filter(pk__in=post.getlist("orgs")))
    members = list(selectors.unit_member_choices(user).filter(pk__in=post.getlist("members")))
    try:
        if county is None:
            errors["county"] = [_("请选择本辖区的旗县。")]
        if errors or county is None:
            raise ValidationError(errors)
        unit = services.mobile_unit_create(
            actor=user, name=post.get("name", ""), county=county, households=households, orgs=orgs, members=members
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
        return None
    messages.success(request, _("乌日特“%(n)s”已设立，请制定巡回计划。") % {"n": unit.name})
    return redirect("field:unit", pk=unit.pk)


def _station_create(request: HttpRequest, user: Any) -> HttpResponse | None:
    post = request.POST
    errors: dict[str, list[str]] = {}
    village = selectors.region_in_scope(user, post.get("village", ""))
    households = _households(user, post.get("station_households", ""), errors)
    try:
        if village is None:
            errors["village"] = [_("嘎查村代码 %(c)s 不存在或不在您的辖区。") % {"c": post.get("village", "").strip()}]
        if errors or village is None:
            raise ValidationError(errors)
        station = services.station_create(actor=user, name=post.get("name", ""), village=village, households=households)
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
        return None
    messages.success(request, _("蒙古包调解驿站“%(n)s”已登记。") % {"n": station.name})
    return redirect("field:station", pk=station.pk)


@staff_page(access.may_read_business)
def unit_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST" and _director(user):
        create = _unit_create if request.POST.get("kind") == "unit" else _station_create
        done = create(request, user)
        if done is not None:
            return done
    director = _director(user)
    return render(
        request,
        "field/units.html",
        {
            "units": selectors.units_visible(user),
            "stations": selectors.stations_visible(user)[:LIST_SIZE],
            "director": director,
            "counties": selectors.counties_in_scope(user) if director else [],
            "orgs": selectors.orgs_for_units(user) if director else [],
            "member_choices": selectors.unit_member_choices(user) if director else [],
            "post": request.POST if request.method == "POST" else {},
        },
    )


def _plan(request: HttpRequest, user: Any, unit: MobileUnit) -> bool:
    """Read the plan rows (date, a household or station of the unit, or a place) and set the plan."""
    post, stops, errors = request.POST, [], []
    households = {str(h.pk): h for h in unit.households.all()}
    stations = {str(s.pk): s for s in selectors.stations_of_county(user, unit.county)}
    for n in range(PLAN_ROWS):
        day, target, place = post.get(f"day_{n}", ""), post.get(f"target_{n}", ""), post.get(f"place_{n}", "")
        if not (day or target or place.strip()):
            continue
        try:
            planned_on = datetime.date.fromisoformat(day)
        except ValueError:
            errors.append(_("第 %(n)d 行：计划日期应为 YYYY-MM-DD。") % {"n": n + 1})
            continue
        kind, _sep, pk = target.partition(":")
        stops.append(
            services.StopInput(
                planned_on=planned_on,
                household=households.get(pk) if kind == "h" else None,
                station=stations.get(pk) if kind == "s" else None,
                place=place,
            )
        )
    try:
        if errors:
            raise ValidationError({"stops": errors})
        if not stops:
            raise ValidationError({"stops": [_("请至少填写一站。")]})
        services.circuit_plan_set(unit=unit, actor=user, stops=stops)
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
        return False
    messages.success(request, _("巡回计划已保存，共 %(n)d 站。") % {"n": len(stops)})
    return True


@staff_page(access.may_read_business)
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    unit = selectors.unit_get(user, pk)
    if request.method == "POST" and request.POST.get("kind") == "plan":
        if _plan(request, user, unit):
            return redirect("field:unit", pk=unit.pk)
    elif request.method == "POST":
        post = request.POST
        chosen: dict[ServiceType, tuple[int, str]] = {}
        try:
            for service in ServiceType.objects.filter(active=True):
                if post.get(f"service_{service.pk}"):
                    count = int(post.get(f"count_{service.pk}") or 1)
                    chosen[service] = (count, post.get(f"note_{service.pk}", ""))
            stop = selectors.stops_of(unit).filter(pk=post.get("stop") or 0).first()
            visit = services.mobile_visit_record(
                unit=unit,
                actor=user,
                visited_on=datetime.date.fromisoformat(post.get("visited_on", "")),
                services=chosen,
                stop=stop,
                people_served=int(post.get("people_served") or 0),
                notes=post.get("notes", ""),
            )
        except ValueError:
            messages.error(request, _("日期应为 YYYY-MM-DD，次数和服务人数应为整数。"))
        except (ValidationError, PermissionDenied) as error:
            flash_errors(request, error)
        else:
            messages.success(request, _("服务记录已登记。现场反映的矛盾纠纷和隐患诉求可在本页上报。"))
            return redirect("field:mobile_visit", pk=visit.pk)
    return render(
        request,
        "field/unit.html",
        {
            "unit": unit,
            "visits": selectors.unit_visits(unit)[:LIST_SIZE],
            "service_types": ServiceType.objects.filter(active=True),
            "today": timezone.localdate().isoformat(),
            "director": _director(user),
            "plan_rows": range(PLAN_ROWS),
            "plan_stations": selectors.stations_of_county(user, unit.county),
        },
    )


def _may_serve(user: Any, visit: MobileVisit) -> bool:
    """Whether the page offers raising a case or an item: the unit's members and the county's director."""
    director = _director(user) and access.scope_of(user).covers(visit.unit.region_code)
    return director or visit.unit.members.filter(pk=user.pk).exists()


@staff_page(access.may_read_business)
def mobile_visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One 乌日特 stop: what was served, and the cases and items raised there (with the forms to raise more)."""
    user = acting_user(request)
    visit = selectors.mobile_visit_get(user, pk)
    return render(
        request,
        "field/mobile_visit.html",
        {
            "visit": visit,
            "may_raise": _may_serve(user, visit),
            "categories": Category.objects.filter(active=True),
            "item_kinds": FieldItem.Kind.choices,
            "households": visit.unit.households.all(),
            "stop_household": visit.stop.household_id if visit.stop else None,
        },
    )


def _stop_household(visit: MobileVisit, post: Any) -> Any:
    code = post.get("household", "").strip()
    if not code:
        return None
    found = visit.unit.households.filter(code=code).first()
    if found is None:
        raise ValidationError({"household": [_("户号 %(c)s 不是本乌日特的服务户。") % {"c": code}]})
    return found


def _stop_parties(post: Any) -> list[case_services.PartyInput]:
    parties = [
        case_services.PartyInput(
            kind=Party.Kind.PERSON,
            role=Party.Role.APPLICANT,
            name=post.get("applicant_name", ""),
            id_number=post.get("applicant_id", ""),
            phone=post.get("applicant_phone", ""),
        )
    ]
    if post.get("respondent_name", "").strip():
        parties.append(
            case_services.PartyInput(kind=Party.Kind.PERSON, role=Party.Role.RESPONDENT, name=post["respondent_name"])
        )
    return parties


@require_POST
@staff_page(access.may_read_business)
def mobile_visit_raise_case(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    visit = selectors.mobile_visit_get(user, pk)
    if not _may_serve(user, visit):  # seen but not theirs: refused outright, as the catalogue's actions are
        return render(request, "403.html", {"reason": _("只有乌日特成员和旗县中心主任可以在走访中登记。")}, status=403)
    post = request.POST
    try:
        category = Category.objects.filter(code=post.get("category", ""), active=True).first()
        if category is None:
            raise ValidationError({"category": [_("请选择纠纷类别。")]})
        case = services.mobile_visit_case_raise(
            visit=visit,
            actor=user,
            category=category,
            title=post.get("title", ""),
            description=post.get("description", ""),
            parties=_stop_parties(post),
            household=_stop_household(visit, post),
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(
            request, _("已登记矛盾纠纷 %(n)s（乌日特走访），由%(c)s受理。") % {"n": case.number, "c": case.center.name}
        )
    return redirect("field:mobile_visit", pk=visit.pk)


@require_POST
@staff_page(access.may_read_business)
def mobile_visit_raise_item(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    visit = selectors.mobile_visit_get(user, pk)
    if not _may_serve(user, visit):  # seen but not theirs: refused outright, as the catalogue's actions are
        return render(request, "403.html", {"reason": _("只有乌日特成员和旗县中心主任可以在走访中登记。")}, status=403)
    try:
        services.mobile_field_item_raise(
            visit=visit,
            actor=user,
            kind=request.POST.get("kind", ""),
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            household=_stop_household(visit, request.POST),
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("事项已登记。"))
    return redirect("field:mobile_visit", pk=visit.pk)


@staff_page(access.may_read_business)
def station_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    station = selectors.station_get(user, pk)
    return render(
        request,
        "field/station.html",
        {"station": station, "sessions": selectors.station_sessions(user, station)[:LIST_SIZE]},
    )
