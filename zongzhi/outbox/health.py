"""The outbox's readiness figure (`/readyz`): events waiting to be published, deliveries waiting to be sent."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from zongzhi.health import readiness_check
from zongzhi.outbox.models import Delivery, Event


@readiness_check("outbox")
def outbox_backlog() -> tuple[bool, Any]:
    """Ready while no committed event has waited longer than OUTBOX_MAX_LAG to be published."""
    stale = Event.objects.filter(seq__isnull=True, at__lt=timezone.now() - settings.OUTBOX_MAX_LAG).count()
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING).count()
    return stale == 0, {"unpublished_late": stale, "deliveries_pending": pending}
