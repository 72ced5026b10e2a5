"""python manage.py scheduler [--every SECONDS] [--once]: queue the periodic tasks on a clock.

Each tick queues the deadline sweep, an audit checkpoint, the outbox's clock and the tasks of
settings.SCHEDULED_TASKS (the idempotency keys' expiry, the purge of expired import rejects files);
the seasonal switch of herder households is queued once a day.
"""

import datetime
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from zongzhi.audit.tasks import audit_checkpoint_task
from zongzhi.cases.tasks import sweep_deadlines_task
from zongzhi.grid.tasks import seasonal_switch_task
from zongzhi.outbox.clock import clock_task


def _switched_today() -> bool:
    """Today's seasonal switch is queued or done already (it runs once a day, the first tick after midnight)."""
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    return DBTaskResult.objects.filter(task_path=seasonal_switch_task.module_path, enqueued_at__gte=midnight).exists()


def _waiting(task: Any) -> bool:
    """The task is already queued and not yet picked up (the worker is busy or down)."""
    return DBTaskResult.objects.ready().filter(task_path=task.module_path).exists()


class Command(BaseCommand):
    help = "Every --every seconds, queue the deadline sweep and an audit checkpoint for the task worker (db_worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=600, help="seconds between sweeps (default 600)")
        parser.add_argument("--once", action="store_true", help="queue one sweep and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        every = max(options["every"], 1)
        next_at = time.monotonic()
        try:
            while True:
                try:
                    self._tick()
                except DatabaseError as error:
                    if options["once"]:
                        raise
                    self.stderr.write(f"期限巡检排队失败，下次再试：{error}")
                if options["once"]:
                    return
                next_at += every
                time.sleep(max(next_at - time.monotonic(), 0))
                close_old_connections()  # after a long sleep: drop a connection the server closed
        except KeyboardInterrupt:
            return

    def _tick(self) -> None:
        # Sweeps are idempotent, but a stopped worker should not come back to a pile of them.
        if _waiting(sweep_deadlines_task):
            self.stdout.write("上一次期限巡检尚未执行，本次不再排队。")
        else:
            result = sweep_deadlines_task.enqueue()
            self.stdout.write(f"期限巡检已排队：{result.id}")
            # The calendar's outbox events (instalments due or overdue, last month's figures), told once each.
            clock_task.enqueue()
        if not _switched_today():
            result = seasonal_switch_task.enqueue()
            self.stdout.write(f"季节转场已排队：{result.id}")
        # A checkpoint records the chain as the worker finds it: one waiting is as good as two.
        if _waiting(audit_checkpoint_task):
            self.stdout.write("上一次审计检查点尚未写入，本次不再排队。")
        else:
            result = audit_checkpoint_task.enqueue()
            self.stdout.write(f"审计检查点已排队：{result.id}")
        # The other periodic tasks, by path (apps above the cases, such as the idempotency keys' expiry).
        for path in settings.SCHEDULED_TASKS:
            task = import_string(path)
            if not _waiting(task):
                self.stdout.write(f"定期任务已排队：{path} {task.enqueue().id}")
        self.stdout.flush()  # the log is a file: show each tick as it happens
