"""python manage.py export_files: what the scheduler's purge does, at once (docs/transfer.md).

Marks failed the export jobs stuck at 进行中 whose worker stopped (no progress for
EXPORT_STALE_MINUTES), then deletes export files older than EXPORT_FILES_RETENTION_HOURS (audited).
"""

from typing import Any

from django.core.management.base import BaseCommand

from zongzhi.transfer.export_jobs import export_files_purge, export_jobs_recover


class Command(BaseCommand):
    help = "Mark failed the export jobs whose worker died and delete export files past their retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        recovered = export_jobs_recover()
        removed = export_files_purge()
        self.stdout.write(f"中断的导出任务：{recovered} 个已标记为出错；过期导出文件：{removed} 个已删除。")
