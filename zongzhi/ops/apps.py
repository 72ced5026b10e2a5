from django.apps import AppConfig

from zongzhi import sqlrecord


class OpsConfig(AppConfig):
    name = "zongzhi.ops"
    verbose_name = "运维"

    def ready(self) -> None:
        # Off unless ZONGZHI_SQL_RECORD is set (the region-predicate check of the tests, docs/national.md).
        sqlrecord.install_from_env()
