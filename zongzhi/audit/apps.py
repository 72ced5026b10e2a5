from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "zongzhi.audit"
    label = "audit"
