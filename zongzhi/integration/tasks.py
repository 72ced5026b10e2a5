"""Background tasks of the integration layer, queued by `manage.py scheduler` (settings.SCHEDULED_TASKS)."""

from typing import Any

from django.utils import timezone
from django_tasks import task

from zongzhi.integration.models import IdempotencyKey


def idempotency_keys_expire() -> int:
    """Forget the Idempotency-Keys past their time (IDEMPOTENCY_KEY_HOURS); the number forgotten."""
    deleted, _by_model = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


@task()
def idempotency_keys_expire_task() -> dict[str, Any]:
    return {"expired": idempotency_keys_expire()}
