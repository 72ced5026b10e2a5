"""Grid pages, phone-first: my grid and its households, claiming, residents, search, claim rates."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.forms import flash_errors
from zongzhi.grid import seasons, selectors, services
from zongzhi.grid.models import ClaimConflict, GridWorker, Resident
from zongzhi.identity import mask_phone, mask_resident_id
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import region_get


@staff_page(access.may_read_business)
def my_grid(request: HttpRequest) -> HttpResponse:
    """The grid worker's home: households of their grid, claimed or not, and the search box."""
    user = acting_user(request)
    scope = access.scope_of(user)
    grids = list(selectors.grids_of_worker(user))
    households = selectors.households_visible(scope).select_related("claimed_by", "grid").order_by("code")
    if grids:
        households = households.filter(grid__in=grids)
    page = Paginator(households, 30).get_page(request.GET.get("page"))
    # POST: an ID number typed into the search must not end up in URLs, history or access logs.
    query = request.POST.get("q", "").strip() if request.method == "POST" else ""
    found = [(r, mask_resident_id(r.id_number)) for r in selectors.resident_search(scope, query)] if query else []
    shown_query = mask_resident_id(query) if len(query) == 18 and query[:17].isdigit() else query
    claimed, registered = selectors.claim_rate(scope)
    arriving, leaving = seasons.this_week([g.pk for g in grids]) if grids else ([], [])
    other_grids = {c.from_grid_id for c in arriving} | {c.to_grid_id for c in leaving}
    names = dict(Region.objects.filter(pk__in=other_grids).values_list("pk", "name"))
    return render(
        request,
        "grid/my_grid.html",
        {
            "arriving": [(c, names[c.from_grid_id]) for c in arriving],
            "leaving": [(c, names[c.to_grid_id]) for c in leaving],
            "moved": selectors.recent_moves(grids) if grids else [],
            "grids": grids,
            "page": page,
            "q": shown_query,
            "searched": bool(query),
            "found": found,
            "claimed": claimed,
            "registered": registered,
            "rate": round(100 * claimed / registered, 1) if registered else None,
            "worker": GridWorker.objects.filter(user=user).first(),
        },
    )


@staff_page(access.may_read_business)
def household_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _household_page(request, code)


def _household_page(request: HttpRequest, code: str, unmasked: dict[str, str] | None = None) -> HttpResponse:
    """The household and its members, masked; `unmasked` shows one member's numbers in this answer only."""
    scope = access.scope_of(acting_user(request))
    household = get_object_or_404(
        selectors.households_visible(scope).select_related("grid", "village", "claimed_by"), code=code
    )
    residents = [
        (r, mask_resident_id(r.id_number), mask_phone(r.phone))
        for r in household.residents.filter(
            region_code=household.region_code, household__region_code=household.region_code
        )
    ]
    herder = household.herder and household.summer_grid_id and household.winter_grid_id
    return render(
        request,
        "grid/household.html",
        {
            "household": household,
            "calendar": seasons.county_calendar(household.region_code[:6] + "000000") if herder else None,
            "moves": household.moves.select_related("from_grid", "to_grid")[:20] if herder else [],
            "residents": residents,
            "relations": Resident.Relation.choices,
            "languages": Resident.Language.choices,
            "unmasked": unmasked,
        },
    )


@require_POST
@staff_page(access.may_read_business)
def household_new(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    scope = access.scope_of(user)
    post = request.POST
    try:
        grid = region_get(scope, post.get("grid", ""))
        village = grid.parent
        assert village is not None
        summer = Region.objects.filter(code=post.get("summer_grid", "")).first()
        winter = Region.objects.filter(code=post.get("winter_grid", "")).first()
        household = services.household_register(
            actor=user,
            village=village,
            grid=grid,
            address=post.get("address", ""),
            herder=post.get("herder") == "on",
            summer_grid=summer,
            winter_grid=winter,
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
        return redirect("grid:mine")
    messages.success(request, _("已登记户 %(c)s。") % {"c": household.code})
    return redirect("grid:household", household.code)


@require_POST
@staff_page(access.may_read_business)
def resident_new(request: HttpRequest, code: str) -> HttpResponse:
    user = acting_user(request)
    household = get_object_or_404(selectors.households_visible(access.scope_of(user)), code=code)
    post = request.POST
    try:
        services.resident_add(
            actor=user,
            household=household,
            name=post.get("name", ""),
            relation=post.get("relation", ""),
            ethnicity=post.get("ethnicity", ""),
            language=post.get("language", ""),
            id_number=post.get("id_number", ""),
            phone=post.get("phone", ""),
            registered=post.get("registered") == "on",
            living=post.get("living") == "on",
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("已添加居民。"))
    return redirect("grid:household", household.code)


@require_POST
@staff_page(access.may_read_business)
def claim(request: HttpRequest, code: str) -> HttpResponse:
    user = acting_user(request)
    household = get_object_or_404(selectors.households_visible(access.scope_of(user)).select_related("grid"), code=code)
    try:
        result = services.household_claim(actor=user, household=household)
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        if isinstance(result, ClaimConflict):
            messages.warning(request, _("该户已被其他网格认领，已提交嘎查村裁定。"))
        else:
            messages.success(request, _("已认领户 %(c)s。") % {"c": household.code})
    return redirect(request.POST.get("next") or "grid:mine")


@staff_page(access.may_read_business)
def claim_rates(request: HttpRequest, code: str) -> HttpResponse:
    """Claim rate of a region and of each region below it, the unclaimed households and open conflicts."""
    user = acting_user(request)
    scope = access.scope_of(user)
    region = region_get(scope, code)
    inside = access.Scope(prefixes=(region.prefix,))
    rates = selectors.claim_rates_by_child(scope, region)
    children = [(child, rates.get(child.prefix, (0, 0))) for child in region.children.order_by("code")]
    claimed, registered = selectors.claim_rate(inside)  # the region lies inside the user's scope (region_get)
    conflicts = ClaimConflict.objects.filter(inside.q(), status=ClaimConflict.Status.OPEN).select_related(
        "household", "holder__grid", "claimant__grid"
    )
    unclaimed = selectors.unclaimed_households(scope).filter(inside.q()).order_by("code")[:100]
    return render(
        request,
        "grid/claims.html",
        {
            "region": region,
            "children": children,
            "claimed": claimed,
            "registered": registered,
            "rate": round(100 * claimed / registered, 1) if registered else None,
            "conflicts": conflicts,
            "unclaimed": unclaimed,
            "may_decide": bool(access.roles_of(user) & {"center_director", "leader"}),
        },
    )


@require_POST
@staff_page(access.may_read_business)
def conflict_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    scope = access.scope_of(user)
    conflict = get_object_or_404(ClaimConflict.objects.filter(scope.q()).select_related("household__village"), pk=pk)
    winner = get_object_or_404(GridWorker, pk=request.POST.get("winner"))
    try:
        services.claim_conflict_resolve(actor=user, conflict=conflict, winner=winner)
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("已裁定。"))
    return redirect("grid:claims", conflict.household.village.code)


@require_POST
@staff_page(access.may_read_business)
def resident_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    resident = get_object_or_404(selectors.residents_with_households(access.scope_of(user)), pk=pk)
    try:
        id_number, phone = services.resident_unmask(
            actor=user, resident=resident, reason=request.POST.get("reason", ""), request=request
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        # Shown once in this answer: never in the messages cookie, the session or a URL.
        shown = {"name": resident.name, "id_number": id_number, "phone": phone or "—"}
        return _household_page(request, resident.household.code, unmasked=shown)
    return redirect("grid:household", resident.household.code)


@staff_page(access.may_read_business)
def season_calendars(request: HttpRequest) -> HttpResponse:
    """The moving days of the counties in the user's jurisdiction; a center director sets them."""
    user = acting_user(request)
    scope = access.scope_of(user)
    counties = list(selectors.counties_visible(scope))
    if request.method == "POST":
        county = get_object_or_404(Region, code=request.POST.get("county", ""), pk__in=[c.pk for c in counties])
        try:
            seasons.calendar_set(
                actor=user,
                county=county,
                summer_from=request.POST.get("summer_from", "").strip(),
                winter_from=request.POST.get("winter_from", "").strip(),
            )
        except ValidationError as error:
            flash_errors(request, error)
        else:
            messages.success(request, _("%(c)s的转场日历已保存。") % {"c": county.name})
        return redirect("grid:seasons")
    rows = [(county, seasons.county_calendar(county.code)) for county in counties]
    may_set = "center_director" in access.roles_of(user)
    return render(request, "grid/seasons.html", {"rows": rows, "may_set": may_set})


@require_POST
@staff_page(access.may_read_business)
def household_season(request: HttpRequest, code: str) -> HttpResponse:
    """A herder household's own moving days (empty: its county's)."""
    user = acting_user(request)
    household = get_object_or_404(selectors.households_visible(access.scope_of(user)), code=code)
    try:
        seasons.household_days_set(
            actor=user,
            household=household,
            summer_from=request.POST.get("summer_from", "").strip(),
            winter_from=request.POST.get("winter_from", "").strip(),
        )
    except (ValidationError, PermissionDenied) as error:
        flash_errors(request, error)
    else:
        messages.success(request, _("本户的转场日期已保存。"))
    return redirect("grid:household", household.code)
