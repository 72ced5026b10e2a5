"""python manage.py import_data KIND FILE [--dry-run] [--accept-valid] [--region CODE]

Prints the same report as the upload page; exits 1 when rows were rejected (or the file could not
be read, or the run was interrupted), 0 when every row was imported (or would be, with --dry-run).
Ctrl-C stops the run; nothing of the batch is written.
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zongzhi.access import Scope
from zongzhi.regions.models import Region
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.kinds import kinds


class Command(BaseCommand):
    help = "批量导入：户和居民、网格员、单位及入驻、历史纠纷（XLSX 或 CSV）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(kinds()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--accept-valid", action="store_true", help="只导入正确的行，其余写入退回文件")
        parser.add_argument("--region", help="只接受该区划之下的行（区划代码）")
        parser.add_argument("--rejects", type=Path, help="退回行 XLSX 的路径（默认 FILE 旁的 *.退回.xlsx）")
        parser.add_argument("--chunk", type=int, default=2000, help=argparse_hidden())

    def handle(self, *args: Any, **options: Any) -> None:
        kind = kinds()[options["kind"]]
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        scope = Scope.everything()
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"未知区划代码 {options['region']}")
            scope = Scope.of_region(region.code, region.level)
        rejects = options["rejects"] or path.with_name(f"{path.stem}.退回.xlsx")
        rejects.unlink(missing_ok=True)
        tty = sys.stderr.isatty()

        def progress(phase: str, done: int, total: int | None) -> None:
            label = "检查" if phase == "validate" else "写入"
            if total:
                filled = min(30, 30 * done // max(total, 1))
                line = f"{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
            else:
                line = f"{label} {done}"
            self.stderr.write(f"\r{line}" if tty else line, ending="" if tty else "\n")
            self.stderr.flush()

        report = run_import(
            kind,
            path,
            scope=scope,
            actor_name="manage.py import_data",
            dry_run=options["dry_run"],
            accept_valid=options["accept_valid"],
            rejects_path=rejects,
            progress=progress,
            chunk=options["chunk"],
        )
        if tty:
            self.stderr.write("")
        for line in report.lines():
            self.stdout.write(line)
        if rejects.exists():
            self.stdout.write(f"退回文件：{rejects}")
        if not report.ok:
            sys.exit(1)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
