"""/api/v1/dashboards/{code}: the dashboard figures of a region of the caller's jurisdiction, from the tallies."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from zongzhi import access
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ
from zongzhi.dashboards import selectors
from zongzhi.regions.selectors import region_get

router = Router(tags=["dashboards"])


class FigureOut(Schema):
    key: str | int | None
    name: str
    value: int | float | None


class DashboardRegionOut(Schema):
    code: str
    name: str
    level: str
    level_name: str


class DashboardOut(Schema):
    """Every figure of the region's dashboard (the same numbers as the page), counted from the rollups."""

    region: DashboardRegionOut
    totals: dict[str, int | float | None]
    rates: dict[str, int | float | None]
    by_state: list[FigureOut]
    by_category: list[dict[str, Any]]
    by_domain: list[dict[str, Any]]
    by_channel: list[FigureOut]
    by_risk: list[FigureOut]
    by_level: list[FigureOut]
    satisfaction: list[FigureOut]
    monthly: list[dict[str, Any]]
    daily: list[dict[str, Any]]
    children: list[dict[str, Any]]
    brand_rooms: list[dict[str, Any]]


def _since(text: str) -> datetime.date | None:
    if not text.strip():
        return None
    try:
        return datetime.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationError(
            {"since": [_("起始月份“%(t)s”格式不对，应为 年-月，例如 2025-01。") % {"t": text[:20]}]}
        ) from None


@router.get("/dashboards/{code}", response={200: DashboardOut, **READ})
def dashboard(request: HttpRequest, code: str, since: str = Query("", max_length=7)) -> dict[str, Any]:
    """The figures of a region (league down to grid); `since=YYYY-MM` counts from that month on."""
    require_resource(request, "dashboards:read")
    scope = access.business_scope(request.user)
    region = region_get(scope, code)
    return selectors.dashboard(scope, region, since=_since(since))
