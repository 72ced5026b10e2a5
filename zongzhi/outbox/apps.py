from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "zongzhi.outbox"
    label = "outbox"

    def ready(self) -> None:
        # Every case event is told outside through the outbox; the case core does not know it exists.
        from zongzhi.cases import events
        from zongzhi.outbox import health, services

        health.outbox_backlog  # noqa: B018 - imported for its readiness check (zongzhi.health)

        events.subscribe_appended(services.case_event_recorded)
