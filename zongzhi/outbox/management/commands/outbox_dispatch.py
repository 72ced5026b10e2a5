"""python manage.py outbox_dispatch [--clock]: publish and send now, without the worker (scripts, ops)."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from zongzhi.outbox.clock import clock_events
from zongzhi.outbox.tasks import dispatch_task


class Command(BaseCommand):
    help = "Publish the outbox, send due webhooks and SMS once; --clock first raises the calendar's events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clock", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        report: dict[str, Any] = {}
        if options["clock"]:
            report["clock"] = clock_events(timezone.localdate())
        report.update(dispatch_task.call())
        self.stdout.write(json.dumps(report, ensure_ascii=False))
