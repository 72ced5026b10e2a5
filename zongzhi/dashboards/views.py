"""Dashboards of every level, the dispatch-room wall and the map, all scoped to the actor.

The pages carry the headline figures and the drill-down table as HTML; the charts and the map are
drawn by ECharts (vendored) from the JSON endpoints, which answer from the tallies only.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.accounts.decorators import staff_page
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.dashboards import exports, geo, selectors
from zongzhi.regions.selectors import region_ancestors, region_get, region_roots

MAP_FIGURES = {
    "per_thousand": "每千人纠纷数",
    "overdue": "超期案件",
    "claim_rate": "实有人口认领率",
    "cases": "纠纷总数",
}


def _since(request: HttpRequest) -> tuple[datetime.date | None, str]:
    """The optional `since=YYYY-MM` filter, or the Chinese reason it cannot be read."""
    text = request.GET.get("since", "").strip()
    if not text:
        return None, ""
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date(), ""
    except ValueError:
        return None, _("起始月份“%(t)s”格式不对，应为 年-月，例如 2025-01。") % {"t": text}


def last_complete_month() -> str:
    """The month the report offers first: the last one that has ended (`2026-11` on 2026-12-01)."""
    return f"{timezone.localdate().replace(day=1) - datetime.timedelta(days=1):%Y-%m}"


@staff_page(access.may_read_business)
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard of the top of the actor's jurisdiction."""
    root = region_roots(access.scope_of(request.user)).order_by("code").first()
    if root is None:
        return render(request, "403.html", {"reason": _("您没有辖区。")}, status=403)
    return redirect("dashboards:page", root.code)


def _context(request: HttpRequest, code: str) -> dict[str, Any]:
    scope = access.scope_of(request.user)
    region = region_get(scope, code)
    since, error = _since(request)
    return {
        "region": region,
        "ancestors": region_ancestors(scope, region),
        "board": selectors.dashboard(scope, region, since=since),
        "since": request.GET.get("since", "") if not error else "",
        "error": error,
        "map_figures": MAP_FIGURES,
        "report_period": last_complete_month(),
    }


@staff_page(access.may_read_business)
def page(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "dashboards/page.html", _context(request, code))


@staff_page(access.may_read_business)
def wall(request: HttpRequest, code: str) -> HttpResponse:
    """The full-screen view for the dispatch-room wall (指挥调度区大屏), refreshed every minute."""
    return render(request, "dashboards/wall.html", _context(request, code))


@staff_page(access.may_read_business)
def data(request: HttpRequest, code: str) -> JsonResponse:
    scope = access.scope_of(request.user)
    region = region_get(scope, code)
    since, error = _since(request)
    if error:
        return JsonResponse({"error": error}, status=400)
    board = selectors.dashboard(scope, region, since=since)
    board["ancestors"] = [{"code": a.code, "name": a.name} for a in region_ancestors(scope, region)]
    return JsonResponse(board, json_dumps_params={"ensure_ascii": False})


@staff_page(access.may_read_business)
def map_data(request: HttpRequest, code: str) -> JsonResponse:
    """The children of the region as GeoJSON features, each with the figures the map colours by."""
    scope = access.scope_of(request.user)
    region = region_get(scope, code)
    figure = request.GET.get("figure", "per_thousand")
    if figure not in MAP_FIGURES:
        return JsonResponse({"error": _("未知的地图指标“%(f)s”。") % {"f": figure}}, status=400)
    return JsonResponse(
        geo.children_map(scope, region, figure=figure, label=_(MAP_FIGURES[figure])),
        json_dumps_params={"ensure_ascii": False},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@staff_page(access.may_read_business)
def report(request: HttpRequest, code: str) -> HttpResponse:
    """The monthly or quarterly statistics table of a region as XLSX (`?period=2026-10` or `2026-Q3`); audited."""
    scope = access.scope_of(request.user)
    region = region_get(scope, code)
    period = request.GET.get("period", "").strip() or last_complete_month()
    try:
        content, name = exports.report_xlsx(scope, region, period)
    except ValidationError as error:
        context = {"region": region, "errors": error.messages}
        return render(request, "dashboards/report_error.html", context, status=400)
    filename = f"report-{name}.xlsx"
    audit_record(
        action=AuditEntry.Action.DATA_EXPORTED,
        actor=request.user,
        target=filename,
        request=request,
        detail={"region": code, "period": period},
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
