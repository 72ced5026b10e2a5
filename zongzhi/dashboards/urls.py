from django.urls import path

from zongzhi.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:code>/", views.page, name="page"),
    path("<str:code>/wall/", views.wall, name="wall"),
    path("<str:code>/data.json", views.data, name="data"),
    path("<str:code>/map.json", views.map_data, name="map"),
    path("<str:code>/report.xlsx", views.report, name="report"),
]
