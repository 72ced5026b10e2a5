"""`manage.py backup DIR`: a consistent backup of the database and attachments with a manifest."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库和附件到一个新目录（含清单：各表行数、审计日志末条、密钥指纹）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="新建或空的备份目录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup(options["folder"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"备份完成：{options['folder']}（{manifest['vendor']}，{len(manifest['counts'])} 张表共 {rows} 行，"
            f"{len(manifest['files']) - 1} 个附件文件，审计日志末条 {manifest['audit_head']['id']}）"
        )
