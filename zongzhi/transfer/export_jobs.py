"""Export jobs (API): the list, format and filters are kept, the task worker writes the file, its owner downloads it.

The file is the same masked export as the list pages give (IDs 6 + 4, phones 3 + 4), read for the owner
through the scoped selectors, kept under var/exports readable by the server only, and audited when written.
"""

import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.audit.downloads import audited_download
from zongzhi.transfer.exports import LISTS, export_count, export_write
from zongzhi.transfer.models import ExportJob
from zongzhi.xlsx import XLSX

FORMATS = ("xlsx", "csv")
FILTERS = ("q", "state", "category", "risk", "channel", "region", "queue", "status")


def export_dir() -> Path:
    """var/exports: the files the worker wrote, readable by our user only."""
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # also when an older version made it with the default mode
    return path


def export_file(job: ExportJob) -> Path | None:
    """The job's file, provided it is one of ours under var/exports (never a path from elsewhere)."""
    if not job.path:
        return None
    path = Path(job.path)
    if path.parent.resolve() != export_dir().resolve() or not path.is_file():
        return None
    return path


def export_job_create(*, actor: Any, list_name: str, fmt: str, filters: dict[str, str]) -> ExportJob:
    """Queue the export of a list with the page's filters (`q`, `state`, `region` …) for the worker."""
    errors: dict[str, list[str]] = {}
    if list_name not in LISTS:
        errors["list"] = [_("未知列表“%(l)s”，可选：%(c)s。") % {"l": list_name[:30], "c": "、".join(LISTS)}]
    if fmt not in FORMATS:
        errors["format"] = [_("格式应为 xlsx 或 csv。")]
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        errors["filters"] = [_("未知筛选条件：%(f)s。") % {"f": "、".join(u[:30] for u in unknown[:5])}]
    if any(len(str(v)) > 100 for v in filters.values()):
        errors["filters"] = [_("筛选条件最多 100 个字。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        job = ExportJob.objects.create(
            list_name=list_name, fmt=fmt, filters={k: str(v) for k, v in filters.items()}, created_by=actor
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    # Imported here: tasks.py wraps export_job_run below, so a top-level import would be circular.
    from zongzhi.transfer.tasks import export_task

    export_task.enqueue(job_id)


def export_job_run(job_id: int) -> int:
    """Write a queued export's file (the task's body), reporting progress on the job; returns its row count."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    params = QueryDict(mutable=True)
    params.update(job.filters)
    total = export_count(actor=job.created_by, name=job.list_name, params=params)
    # Claimed by one worker only: a second run of the same task finds it no longer queued.
    claimed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, total=total, done=0
    )
    if not claimed:
        return job.rows or 0
    path = export_dir() / f"{uuid.uuid4().hex}.{job.fmt}"

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=done)

    try:
        # Created 0600 from the first byte on, never readable by another user.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            count = export_write(
                actor=job.created_by, name=job.list_name, fmt=job.fmt, params=params, out=out, progress=progress
            )
    except Exception as error:
        path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, rows=count, done=count, path=str(path), finished_at=timezone.now()
    )
    return count


def export_job_download(*, job: ExportJob, actor: Any, request: HttpRequest) -> FileResponse | None:
    """The job's file once it is written, audited (None before)."""
    path = export_file(job)
    if job.status != ExportJob.Status.DONE or path is None:
        return None
    return audited_download(
        opened=path.open("rb"),
        actor=actor,
        request=request,
        target=f"export:{job.pk}",
        detail={"what": "导出文件", "list": job.list_name, "format": job.fmt, "rows": job.rows},
        filename=f"{LISTS[job.list_name].title}-{job.created_at:%Y%m%d}.{job.fmt}",
        content_type=XLSX if job.fmt == "xlsx" else "text/csv; charset=utf-8",
    )
