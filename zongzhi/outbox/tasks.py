"""The outbox's background work, run by the django-tasks database worker (`db_worker`).

`dispatch_task` publishes, fans out and sends (webhooks and SMS); it is queued after each commit that
wrote to the outbox (`dispatch_soon`), and queues itself again for the earliest retry still waiting.
The calendar's own events (instalments due, last month's figures) are raised by `clock.clock_task`.
"""

import datetime
from typing import Any

from django.db import connections
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult, get_date_max

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
    """Whether a dispatch is queued to run by `before` (by now, or as soon as a worker is free, when
    None: the queryset's `ready()`). Sent after every commit that wrote to the outbox, so its SQL is
    written once here instead of built by the ORM each time."""
    db = connections[DBTaskResult.objects.db]
    table, moment = db.ops.quote_name(DBTaskResult._meta.db_table), db.ops.adapt_datetimefield_value
    params: list[Any] = [dispatch_task.module_path, "READY", moment(before or timezone.now())]
    soon = ""
    if before is None:
        soon, params = " OR run_after = %s", [*params, moment(get_date_max())]
    sql = f"SELECT 1 FROM {table} WHERE task_path = %s AND status = %s AND (run_after <= %s{soon}) LIMIT 1"  # noqa: S608 - the task table's name
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _schedule(at: datetime.datetime) -> None:
    at = max(at, timezone.now())
    if not _waiting(before=at):
        dispatch_task.using(run_after=at).enqueue()


def dispatch_soon() -> None:
    """Queue a dispatch now unless one is already waiting to be picked up."""
    if not _waiting():
        dispatch_task.enqueue()
