"""The outbox's background work, run by the django-tasks database worker (`db_worker`).

`dispatch_task` publishes, fans out and sends (webhooks and SMS); it is queued after each commit that
wrote to the outbox (`dispatch_soon`), and queues itself again for the earliest retry still waiting.
The calendar's own events (instalments due, last month's figures) are raised by `clock.clock_task`.
"""

import datetime
from typing import Any

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from zongzhi.outbox import notices, webhooks
from zongzhi.outbox.models import Subscription
from zongzhi.outbox.publishing import publish


@task()
def dispatch_task() -> dict[str, Any]:
    """Publish, fan out and send whatever is due; the counts are the task's result."""
    report: dict[str, Any] = {"published": 0, "deliveries": 0, "delivered": 0, "failed": 0, "dead": 0}
    while True:
        published = publish()
        report["published"] += published
        fanned = 0
        for subscription in Subscription.objects.filter(active=True).select_related("user"):
            fanned += webhooks.fan_out(subscription)
            for key, n in webhooks.deliver(subscription).items():
                report[key] += n
        report["deliveries"] += fanned
        report["sms"] = notices.fan_out() + report.get("sms", 0)
        for key, n in notices.send_due().items():
            report[f"sms_{key}"] = report.get(f"sms_{key}", 0) + n
        if not published and not fanned:
            break
    later = [t for t in (webhooks.next_due(), notices.next_due()) if t is not None]
    if later:
        _schedule(min(later))
    return report


def _waiting(before: datetime.datetime | None = None) -> bool:
    rows = DBTaskResult.objects.filter(task_path=dispatch_task.module_path, status="READY")
    if before is None:
        return rows.ready().exists()
    return rows.filter(run_after__lte=before).exists()


def _schedule(at: datetime.datetime) -> None:
    at = max(at, timezone.now())
    if not _waiting(before=at):
        dispatch_task.using(run_after=at).enqueue()


def dispatch_soon() -> None:
    """Queue a dispatch now unless one is already waiting to be picked up."""
    if not _waiting():
        dispatch_task.enqueue()
