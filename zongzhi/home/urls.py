"""Routes of the pages above the apps. The region browser shares the `regions` namespace with the
regions app's own page (adding a region), so templates keep reversing `regions:detail` and the rest."""

from django.urls import path

from zongzhi.home import open_days, views
from zongzhi.regions import views as region_views

urlpatterns = [
    path("", views.home, name="home"),
    path("open-days/", open_days.open_days, name="open_days"),
    path("open-days/<int:pk>/", open_days.open_day_bookings, name="open_day_bookings"),
]

regions = (
    [
        path("", views.region_tree, name="tree"),
        path("new/", region_views.region_new, name="new"),
        path("<str:code>/", views.region_detail, name="detail"),
        path("<str:code>/children/", views.region_children_rows, name="children"),
    ],
    "regions",
)
