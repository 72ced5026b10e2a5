"""`manage.py restore DIR`: restore a backup into an empty database, then check it."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "把备份恢复到空数据库和空附件目录，然后核对各表行数、审计日志链和看板汇总。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="manage.py backup 写出的目录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restored = restore(options["folder"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        for problem in restored.problems[:50]:
            self.stderr.write(problem)
        if restored.problems:
            raise CommandError(f"恢复后核对发现 {len(restored.problems)} 处问题。")
        self.stdout.write(
            f"恢复完成并核对无误：{len(restored.counts)} 张表共 {sum(restored.counts.values())} 行，"
            f"审计日志 {restored.audit_entries} 条完整，看板汇总与源表一致。"
        )
