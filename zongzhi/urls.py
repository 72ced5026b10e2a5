"""URL layout: staff pages under /staff/, the JSON API under /api/v1/, the public portal at /."""

from django.urls import include, path

from zongzhi.api import api
from zongzhi.health import healthz, readyz
from zongzhi.home import urls as home_urls

urlpatterns = [
    path("healthz", healthz),
    path("readyz", readyz),
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
    path("", include("zongzhi.portal.urls")),
]
