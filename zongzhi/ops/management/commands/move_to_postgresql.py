"""`manage.py move_to_postgresql PILOT.sqlite3`: the pilot's data into the new PostgreSQL database of DATABASE_URL."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.ops.move import MoveError, move


class Command(BaseCommand):
    help = "把 SQLite 试点数据库整体迁入 DATABASE_URL 指向的新建 PostgreSQL 数据库，并核对行数、审计日志链和看板汇总。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="试点的 SQLite 数据库文件（先停止试点服务）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            moved = move(options["source"])
        except MoveError as error:
            raise CommandError(str(error)) from None
        for problem in moved.problems[:50]:
            self.stderr.write(problem)
        if moved.problems:
            raise CommandError(f"迁入后核对发现 {len(moved.problems)} 处问题。")
        self.stdout.write(
            f"迁入完成并核对无误：{len(moved.counts)} 张表共 {sum(moved.counts.values())} 行，"
            f"审计日志 {moved.audit_entries} 条完整，看板汇总与源表一致。"
        )
