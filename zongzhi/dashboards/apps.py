from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "zongzhi.dashboards"
    label = "dashboards"
