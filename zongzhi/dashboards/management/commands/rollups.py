"""`manage.py rollups --verify` recounts the dashboards' tallies; `--rebuild` recomputes them."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.dashboards import rollups


class Command(BaseCommand):
    help = "核对（--verify）或重建（--rebuild）看板汇总表。"

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--verify", action="store_true", help="按源表重新计数，与汇总表不一致时以非零状态退出")
        group.add_argument("--rebuild", action="store_true", help="按源表重建全部汇总表")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["rebuild"]:
            counts = rollups.rebuild()
            self.stdout.write(
                f"汇总表已重建：案件 {counts['facts']}，汇总行 {counts['tallies']}，日汇总行 {counts['days']}"
                f"（{time.perf_counter() - started:.1f} 秒）"
            )
            return
        differences = list(rollups.verify())
        for line in differences[:50]:
            self.stderr.write(line)
        if differences:
            raise CommandError(f"汇总表与源表不一致：{len(differences)} 处差异。请运行 manage.py rollups --rebuild。")
        self.stdout.write(f"汇总表与源表一致（{time.perf_counter() - started:.1f} 秒）。")
