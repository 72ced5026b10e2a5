"""python manage.py scheduler [--every SECONDS] [--once]: queue the periodic tasks on a clock.

Each tick queues the deadline sweep and the purge of expired import rejects files (see docs/security.md).
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections
from django_tasks_db.models import DBTaskResult

from zongzhi.cases.tasks import sweep_deadlines_task
from zongzhi.transfer.tasks import purge_import_files_task


def _waiting(task: Any = sweep_deadlines_task) -> bool:
    """The task is already queued and not yet picked up (the worker is busy or down)."""
    return DBTaskResult.objects.ready().filter(task_path=task.module_path).exists()


class Command(BaseCommand):
    help = "Every --every seconds, queue the deadline sweep for the task worker (db_worker)."

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
        if _waiting():
            self.stdout.write("上一次期限巡检尚未执行，本次不再排队。")
        else:
            result = sweep_deadlines_task.enqueue()
            self.stdout.write(f"期限巡检已排队：{result.id}")
        if not _waiting(purge_import_files_task):
            purge_import_files_task.enqueue()
        self.stdout.flush()  # the log is a file: show each tick as it happens
