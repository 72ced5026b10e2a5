"""Reads of dispatch meetings, scoped to the user's jurisdiction (not found and not yours: 404)."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from zongzhi import access
from zongzhi.cases.models import Supervision
from zongzhi.regions.models import Region

from .models import LEVELS, AgendaItem, DispatchMeeting


def meetings_visible(user: Any) -> QuerySet[DispatchMeeting]:
    return DispatchMeeting.objects.filter(access.scope_of(user).q()).select_related("region", "center", "chair")


def meeting_get(user: Any, pk: int) -> DispatchMeeting:
    scope = access.scope_of(user)  # a meeting's cases lie in its region, inside the user's scope
    items = (
        AgendaItem.objects.filter(scope.q(), scope.q("case__region_code"))
        .select_related("case__category", "decided_by")
        .prefetch_related(Prefetch("supervision", queryset=Supervision.objects.filter(scope.q())))
        .order_by("order")
    )
    meetings = meetings_visible(user).prefetch_related(Prefetch("items", queryset=items))
    return get_object_or_404(meetings, pk=pk)


def item_get(user: Any, pk: int) -> AgendaItem:
    scope = access.scope_of(user)  # the item, its meeting and its case, each by its own region code
    items = AgendaItem.objects.filter(scope.q(), scope.q("meeting__region_code"), scope.q("case__region_code"))
    items = items.select_related("meeting", "case")
    return get_object_or_404(items, pk=pk)


def jurisdictions(user: Any) -> QuerySet[Region]:
    """The regions the user may convene a meeting for: league, counties, townships in scope."""
    return Region.objects.filter(access.scope_of(user).q("code"), level__in=LEVELS).order_by("code")
