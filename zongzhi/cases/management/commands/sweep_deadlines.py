"""python manage.py sweep_deadlines [--json] [--enqueue]"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from zongzhi.cases.deadlines import SweepReport, sweep
from zongzhi.cases.tasks import sweep_deadlines_task

STAGE_NAMES = {
    "sign_for_reminders": "签收超期提示函",
    "overdue_reminders": "办理超期提示函",
    "supervisions": "督办单",
    "letters": "督办函",
    "escalations": "上提",
}


class Command(BaseCommand):
    help = "Issue what is due on late cases now (reminders, supervision, letters, escalation) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="the report as one JSON object")
        parser.add_argument("--enqueue", action="store_true", help="queue the sweep for the task worker instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = sweep_deadlines_task.enqueue()
            self.stdout.write(f"已加入后台任务队列：{result.id}")
            return
        report = sweep()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self._print(report)
        if report.errors:
            raise CommandError(f"{len(report.errors)} 件案件处理失败，下次巡检将重试。")

    def _print(self, report: SweepReport) -> None:
        self.stdout.write(f"期限巡检 {timezone.localtime(report.now):%Y-%m-%d %H:%M:%S}")
        for stage, name in STAGE_NAMES.items():
            numbers = getattr(report, stage)
            self.stdout.write(f"{name}：{len(numbers)}" + (f"（{'、'.join(numbers)}）" if numbers else ""))
        for number, why in report.not_escalated.items():
            self.stdout.write(f"未上提 {number}：{why}")
        for number, message in report.errors.items():
            self.stderr.write(f"失败 {number}：{message}")
