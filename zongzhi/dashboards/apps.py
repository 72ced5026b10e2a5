from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "zongzhi.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        # The dashboards follow every case event; the case core does not know they exist.
        from zongzhi.cases import events
        from zongzhi.dashboards import rollups

        events.subscribe(rollups.case_changed)
