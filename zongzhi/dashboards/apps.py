from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "zongzhi.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py is loaded before the models are (Django's rule for ready()).
        from zongzhi.cases import hooks
        from zongzhi.dashboards import rollups

        hooks.on_case_changed(rollups.case_changed)
