from django.apps import AppConfig

from zongzhi.audit import keys  # noqa: F401  (registers the deploy check of the audit keys)


class AuditConfig(AppConfig):
    name = "zongzhi.audit"
    label = "audit"

    def ready(self) -> None:
        # Every case event is an entry of the chain; the case core does not import the audit.
        from zongzhi.audit import services
        from zongzhi.cases import events

        events.observe(services.audit_case_event)
