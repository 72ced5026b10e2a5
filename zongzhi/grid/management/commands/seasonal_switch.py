"""`manage.py seasonal_switch [--day YYYY-MM-DD] [--county CODE …]`: the seasonal moves of herder households."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.grid.seasons import SwitchFailed, seasonal_switch


class Command(BaseCommand):
    help = "按各旗县市区的转场日历，把牧户移到当季营地的网格（每个旗县市区一个事务，全部成功或全部不变）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=datetime.date.fromisoformat, help="按哪一天转场（默认今天）")
        parser.add_argument("--county", action="append", help="只处理这些旗县市区（区划代码，可重复）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            moved = seasonal_switch(day=options["day"], counties=options["county"])
        except SwitchFailed as failed:
            raise CommandError(f"{failed}（其余已完成：{sum(n for n in failed.moved.values() if n > 0)} 户）") from None
        total = sum(moved.values())
        counties = sum(1 for n in moved.values() if n)
        self.stdout.write(f"季节转场完成：{counties} 个旗县市区共 {total} 户。")
