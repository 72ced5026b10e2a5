"""`manage.py partitions [--archive] [--ahead N]`: make the history tables' months ahead; archive old ones.

Run as the tables' owner (the role that runs `migrate`), e.g. daily from cron: see docs/deploy.md.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.ops import partitions


class Command(BaseCommand):
    help = "按月分区：提前创建各历史表的月分区；--archive 归档并删除超过保存期限的月份（PostgreSQL）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archive", action="store_true", help="归档超过保存期限的月份")
        parser.add_argument("--ahead", type=int, default=None, help="提前创建的月数（默认取设置）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not partitions.enabled():
            self.stdout.write("SQLite 不分区：无需处理。")
            return
        if options["ahead"] is not None:
            if options["ahead"] < 0:
                raise CommandError("--ahead 须为不小于 0 的整数")
            settings.PARTITION_MONTHS_AHEAD = options["ahead"]
        try:
            made = partitions.partitions_ensure()
            for name in made["made"]:
                self.stdout.write(f"已创建分区 {name}")
            for name in made["waiting"]:
                self.stdout.write(f"分区 {name} 的数据已在默认分区中，未创建（见 docs/deploy.md）")
            if options["archive"]:
                waiting: list[str] = []
                for done in partitions.partitions_archive_due(waiting=waiting):
                    self.stdout.write(
                        f"已归档 {done.table} {done.month:%Y-%m}：{done.rows} 行 → {done.path}（SHA-256 {done.sha256}）"
                    )
                for reason in waiting:
                    self.stdout.write(reason)
        except partitions.PartitionError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("分区已就绪。")
