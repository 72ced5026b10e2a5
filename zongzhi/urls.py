"""URL layout: staff pages under /staff/, the JSON API under /api/v1/, the public portal at /."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from zongzhi.api import api
from zongzhi.home import urls as home_urls


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer: the process answers and the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("healthz", healthz),
    path("staff/", include(home_urls)),
    path("staff/", include("zongzhi.accounts.urls")),
    path("staff/regions/", include(home_urls.regions)),
    path("staff/centers/", include("zongzhi.centers.urls")),
    path("staff/cases/", include("zongzhi.cases.urls")),
    path("staff/field/", include("zongzhi.field.urls")),
    path("staff/grid/", include("zongzhi.grid.urls")),
    path("staff/meetings/", include("zongzhi.meetings.urls")),
    path("staff/transfer/", include("zongzhi.transfer.urls")),
    path("staff/dashboards/", include("zongzhi.dashboards.urls")),
    path("api/v1/", api.urls),
    path("open311/v2/", include("zongzhi.integration.open311")),
    path("staff/integration/", include("zongzhi.integration.urls")),
    path("", include("zongzhi.portal.urls")),
]
