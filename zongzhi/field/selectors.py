"""Reading field work, always through the actor's scope on each row's `region_code`.

Missing and out-of-scope answer the same 404 (`get_object_or_404` on the scoped queryset).
"""

import mimetypes
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404

from zongzhi import access
from zongzhi.accounts.models import Role, User
from zongzhi.audit.downloads import audited_download
from zongzhi.cases.models import Case, MediationSession
from zongzhi.cases.selectors import cases_visible
from zongzhi.centers.models import Org
from zongzhi.grid.models import Household
from zongzhi.regions import codes
from zongzhi.regions.models import Region

from .models import (
    CircuitStop,
    FieldItem,
    MobileUnit,
    MobileUnitMember,
    MobileVisit,
    MobileVisitService,
    RiskItem,
    RiskReview,
    Station,
    Visit,
    VisitPhoto,
)


def households_for_visit(user: Any) -> QuerySet[Household]:
    """The households a user may visit: those of their grid(s) — for a grid worker, their jurisdiction."""
    return Household.objects.filter(access.scope_of(user).q()).order_by("code")


def household_get(user: Any, code: str) -> Household:
    return get_object_or_404(households_for_visit(user).select_related("grid", "village"), code=code)


def visits_visible(user: Any) -> QuerySet[Visit]:
    return Visit.objects.filter(access.scope_of(user).q()).select_related("household", "worker", "case")


def visit_get(user: Any, pk: int) -> Visit:
    # A visit's photos and items carry its region code (`services._photo_save`, `field_item_raise`): in the scope too.
    scope = access.scope_of(user)
    photos = Prefetch("photos", queryset=VisitPhoto.objects.filter(scope.q()))
    items = Prefetch("items", queryset=FieldItem.objects.filter(scope.q()))
    visits = visits_visible(user).select_related("grid").prefetch_related(photos, items, "household__residents")
    return get_object_or_404(visits, pk=pk)


def visit_photos(visit: Visit) -> QuerySet[VisitPhoto]:
    """The photos of a visit the caller already got through `visit_get`, with its region code."""
    return VisitPhoto.objects.filter(visit=visit, region_code=visit.region_code)


def photo_get(user: Any, pk: int) -> VisitPhoto:
    return get_object_or_404(VisitPhoto.objects.filter(access.scope_of(user).q()), pk=pk)


def photo_download(user: Any, pk: int, request: HttpRequest) -> FileResponse:
    """A visit photo's file for the page and the API alike: only inside the jurisdiction, every download audited."""
    found = photo_get(user, pk)
    return audited_download(
        opened=found.file.open("rb"),
        actor=user,
        request=request,
        target=f"visit:{found.visit_id}/photo:{found.pk}",
        detail={"what": "走访照片", "file": found.name},
        filename=f"走访照片-{found.pk}{mimetypes.guess_extension(found.content_type) or ''}",
        content_type=found.content_type,
        inline=True,
    )


def field_items_visible(user: Any, *, open_only: bool = False) -> QuerySet[FieldItem]:
    items = FieldItem.objects.filter(access.scope_of(user).q()).select_related("visit__household", "mobile_visit__unit")
    return items.filter(status=FieldItem.Status.OPEN) if open_only else items


def field_item_get(user: Any, pk: int) -> FieldItem:
    """One item, without its visit or stop: handling it needs neither."""
    return get_object_or_404(FieldItem.objects.filter(access.scope_of(user).q()), pk=pk)


def reviews_visible(user: Any) -> QuerySet[RiskReview]:
    return RiskReview.objects.filter(access.scope_of(user).q()).select_related("village", "chair")


def review_get(user: Any, pk: int) -> RiskReview:
    items = RiskItem.objects.select_related("case", "field_item", "visit__household", "handling_center")
    reviews = reviews_visible(user).prefetch_related(Prefetch("items", queryset=items.order_by("id")))
    return get_object_or_404(reviews, pk=pk)


def risk_item_get(user: Any, pk: int) -> RiskItem:
    """An item of a review in the scope: its code is under the review's village (`risk_review_open`), so in it too."""
    scope = access.scope_of(user)
    items = RiskItem.objects.filter(scope.q(), scope.q("review__region_code")).select_related("review")
    return get_object_or_404(items, pk=pk)


def _graded_to_my_centers(user: Any) -> QuerySet[RiskItem]:
    """Items graded to a center in the scope. The center is the village's, its township's or its county's
    (`reviews.handling_center_for`), so the item (its code under the village's), its review and its case (whose
    code the item carries) are in the scope too, and each is read with it; the case is read apart for that."""
    scope = access.scope_of(user)
    cases = Prefetch("case", queryset=Case.objects.filter(scope.q()))
    return (
        RiskItem.objects.filter(scope.q("handling_center__region_code"), scope.q(), scope.q("review__region_code"))
        .select_related("review__village", "handling_center")
        .prefetch_related(cases)
    )


def handling_items(user: Any) -> QuerySet[RiskItem]:
    """Items graded to a center of the user's jurisdiction and not yet handled, oldest first."""
    return _graded_to_my_centers(user).filter(status=RiskItem.Status.ASSIGNED).order_by("decided_at", "id")


def handled_items(user: Any) -> QuerySet[RiskItem]:
    return (
        _graded_to_my_centers(user)
        .filter(status=RiskItem.Status.DONE)
        .select_related("handled_by")
        .order_by("-handled_at", "-id")
    )


def handling_item_get(user: Any, pk: int) -> RiskItem:
    return get_object_or_404(_graded_to_my_centers(user), pk=pk)


def ridden_codes(user: Any) -> list[str]:
    """The region codes of the units the user is a member of, read from the membership rows that carry them."""
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted(set(MobileUnitMember.objects.filter(user=user).values_list("region_code", flat=True)))


def units_reach(user: Any) -> tuple[str, str] | None:
    """The one range of region codes holding every unit the user may see (`units_visible`): their scope's
    prefixes and the codes of the units they ride with; None when there is none."""
    found = [*access.scope_of(user).prefixes, *ridden_codes(user)]
    return codes.span(found) if found else None


def units_visible(user: Any) -> QuerySet[MobileUnit]:
    """The mobile units in the user's jurisdiction, and those the user is a member of.

    Bounded by `units_reach`: it changes no row, and names the region code outside the OR, so a member's read
    (whose own jurisdiction, a clerk's township, need not hold the unit's county) is routed by region too."""
    units = MobileUnit.objects.filter(codes.range_q(units_reach(user)))
    return units.filter(access.scope_of(user).q() | Q(members=user)).distinct().select_related("county")


def units_ridden(user: Any) -> QuerySet[MobileUnit]:
    """The units the user is a member of, by their codes (the field app's circuits)."""
    return MobileUnit.objects.filter(region_code__in=ridden_codes(user), members=user)


def unit_get(user: Any, pk: int) -> MobileUnit:
    unit = get_object_or_404(units_visible(user), pk=pk)
    prefetch_related_objects([unit], "households", "orgs", "members", *stops_related([unit]))
    return unit


def stops_related(units: list[MobileUnit]) -> list[str | Prefetch]:
    """The circuit stops of these units (each carries its unit's code), their households and their stations (a
    station of a stop is in the unit's county: `services.circuit_plan_set`)."""
    unit_codes = sorted({u.region_code for u in units})
    counties = tuple(sorted({codes.prefix_of(code, codes.COUNTY) for code in unit_codes}))
    stops = CircuitStop.objects.filter(region_code__in=unit_codes, unit__region_code__in=unit_codes)
    stations = Station.objects.filter(codes.prefix_q(counties))
    return [Prefetch("stops", queryset=stops), "stops__household", Prefetch("stops__station", queryset=stations)]


def stops_of(unit: MobileUnit) -> QuerySet[CircuitStop]:
    """A unit's circuit stops, with its region code (theirs, and the unit's their order joins)."""
    return unit.stops.filter(region_code=unit.region_code, unit__region_code=unit.region_code)


def unit_visits(unit: MobileUnit) -> QuerySet[MobileVisit]:
    """The visits of a unit the caller already got through `unit_get`: they, their stops and services carry its code."""
    code = unit.region_code
    stops = CircuitStop.objects.filter(region_code=code).order_by()
    services = MobileVisitService.objects.filter(region_code=code).select_related("service")
    return (
        unit.visits.filter(region_code=code)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("stop", queryset=stops), Prefetch("services", queryset=services), "cases", "items")
    )


def mobile_visit_get(user: Any, pk: int) -> MobileVisit:
    """One stop's record, of a unit the user may see (404 otherwise), with what it served and raised."""
    found = units_reach(user)  # the visit carries its unit's code
    reach = codes.range_q(found) & codes.range_q(found, "unit__region_code")
    visits = MobileVisit.objects.filter(reach, unit__in=units_visible(user)).select_related(
        "unit__county", "recorded_by"
    )
    visit = get_object_or_404(visits, pk=pk)
    # Its stop and services carry its unit's code, as the visit does (`services.mobile_visit_record`), and the
    # stop's station is in the unit's county (`services.circuit_plan_set`).
    code = visit.region_code
    stop = CircuitStop.objects.filter(region_code=code).order_by()
    stations = Station.objects.filter(codes.prefix_q((codes.prefix_of(code, codes.COUNTY),))).select_related("village")
    served = MobileVisitService.objects.filter(region_code=code).select_related("service")
    prefetch_related_objects(
        [visit],
        Prefetch("stop", queryset=stop),
        "stop__household",
        Prefetch("stop__station", queryset=stations),
        Prefetch("services", queryset=served),
        "cases",
        "items",
        "unit__households",
    )
    return visit


def households_by_code(user: Any, wanted: list[str]) -> QuerySet[Household]:
    return Household.objects.filter(access.scope_of(user).q(), code__in=wanted[:500])


def region_in_scope(user: Any, code: str) -> Region | None:
    return Region.objects.filter(access.scope_of(user).q("code"), code=code.strip()).first()


def counties_in_scope(user: Any) -> QuerySet[Region]:
    return Region.objects.filter(access.scope_of(user).q("code"), level=Region.Level.COUNTY).order_by("code")


def orgs_for_units(user: Any) -> QuerySet[Org]:
    """Agencies a director may put on a unit: those of the jurisdiction (the league's serve every county)."""
    return Org.objects.filter(access.scope_of(user).q() | Q(region__level=Region.Level.LEAGUE)).order_by(
        "region_code", "name"
    )


def unit_member_choices(user: Any) -> QuerySet[User]:
    """Staff who can ride with a unit: members of the jurisdiction's agencies and centers."""
    scope = access.scope_of(user)
    return (
        User.objects.filter(is_active=True)
        .filter(scope.q("memberships__org__region_code") | scope.q("memberships__center__region_code"))
        .exclude(memberships__role__in=[Role.SYS_ADMIN, Role.SEC_ADMIN, Role.AUDIT_ADMIN])
        .distinct()
        .order_by("username")
    )


def stations_of_county(user: Any, county: Region) -> QuerySet[Station]:
    return stations_visible(user).filter(region_code__startswith=county.prefix)


def stations_visible(user: Any) -> QuerySet[Station]:
    return Station.objects.filter(access.scope_of(user).q()).select_related("village")


def household_counts(stations: QuerySet[Station]) -> QuerySet[Station]:
    """Stations with how many households each serves (`household_count`), counted on their links: the
    households are not read, whose codes follow their grids wherever they move, not the station's."""
    return stations.annotate(household_count=Count("households"))


def station_get(user: Any, pk: int) -> Station:
    return get_object_or_404(stations_visible(user), pk=pk)


def station_sessions(user: Any, station: Station) -> QuerySet[MediationSession]:
    """Mediation sessions held at the station, matched by its name until sessions point at stations.

    Only sessions of cases the user may see, and in the station's village (the joined case too).
    """
    village = access.Scope(prefixes=(station.village.prefix,))
    return (
        MediationSession.objects.filter(place_kind=MediationSession.Place.STATION, place=station.name)
        .filter(village.q(), village.q("case__region_code"), case__in=cases_visible(user))
        .select_related("case")
        .order_by("-held_at")
    )
