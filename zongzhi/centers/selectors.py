"""Reading centers, their rooms and who is on duty, through the actor's scope."""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from zongzhi.access import Scope
from zongzhi.centers.models import Center, Org, Presence, Room, ServiceArea


def centers_visible(scope: Scope, *, level: str | None = None, under: str | None = None) -> QuerySet[Center]:
    centers = Center.objects.filter(scope.q()).select_related("region")
    if level:
        centers = centers.filter(level=level)
    if under:
        centers = centers.filter(Scope(prefixes=(under,)).q())
    return centers


def center_get(scope: Scope, code: str) -> Center:
    """A center with its rooms and presences, or 404 when missing or outside the scope."""
    centers = centers_visible(scope).prefetch_related(
        Prefetch("rooms", queryset=Room.objects.select_related("org").order_by("zone", "kind", "name")),
        Prefetch("presences", queryset=Presence.objects.select_related("org").order_by("mode", "org__name")),
    )
    return get_object_or_404(centers, code=code)


def orgs_visible(scope: Scope) -> QuerySet[Org]:
    return Org.objects.filter(scope.q())


def _covering_prefixes(region_code: str) -> list[str]:
    """Every prefix a region code starts with, from the province down to itself."""
    return [region_code[:n] for n in (2, 4, 6, 9, 12, 15) if n <= len(region_code)]


def orgs_serving(region_code: str) -> QuerySet[Org]:
    """The orgs that take cases of a region: those of its county, and those with a service area over it."""
    areas = ServiceArea.objects.filter(prefix__in=_covering_prefixes(region_code))
    return Org.objects.filter(Q(region_code__startswith=region_code[:6]) | Q(pk__in=areas.values("org_id")))


def org_serves(org: Org, region_code: str) -> bool:
    """Whether `org` may be pushed or asked about a case of that region (see `orgs_serving`)."""
    if org.region_code.startswith(region_code[:6]):
        return True
    return ServiceArea.objects.filter(org=org, prefix__in=_covering_prefixes(region_code)).exists()


@dataclass
class Duty:
    """Who staffs a center on a given day."""

    day: datetime.date
    on_duty: list[Presence]
    on_call: list[Presence]
    off_today: list[Presence]


def center_duty(center: Center, day: datetime.date) -> Duty:
    """Split a (prefetched) center's presences into on duty today, on call, and rotating off today."""
    presences = list(center.presences.all())
    return Duty(
        day=day,
        on_duty=[p for p in presences if p.on_duty(day)],
        on_call=[p for p in presences if p.mode == Presence.Mode.ON_CALL],
        off_today=[p for p in presences if p.mode != Presence.Mode.ON_CALL and not p.on_duty(day)],
    )


def rooms_by_zone(center: Center) -> list[tuple[str, list[Room]]]:
    """A (prefetched) center's rooms grouped under its three zones, in zone order."""
    rooms = list(center.rooms.all())
    return [(str(label), [r for r in rooms if r.zone == zone]) for zone, label in Room.Zone.choices]


def presences_of(orgs: list[Org]) -> list[Presence]:
    """Where the given orgs are stationed (an org's own posting is no business secret to its staff)."""
    return list(Presence.objects.filter(org__in=orgs).select_related("org", "center").order_by("org__name"))
