from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "zongzhi.ops"
    verbose_name = "运维"
