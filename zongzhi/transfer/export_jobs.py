"""Export jobs (API): the list, format and filters are kept, the task worker writes the file, its owner downloads it.

The file is the same masked export as the list pages give (IDs 6 + 4, phones 3 + 4), read for the owner
through the scoped selectors, kept under var/exports readable by the server only, and audited when written.
"""

import datetime
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi.audit.downloads import audited_download
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
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
    """Write a queued export's file (the task's body), reporting progress on the job; returns its row count.

    A large list is decrypted and rendered by EXPORT_PROCESSES forked processes (`exports.export_write`)."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    params = QueryDict(mutable=True)
    params.update(job.filters)
    total = export_count(actor=job.created_by, name=job.list_name, params=params)
    path = export_dir() / f"{uuid.uuid4().hex}.{job.fmt}"
    # Claimed by one worker only: a second run of the same task finds it no longer queued. The path
    # is kept from the start, so that a job whose worker died has its partial file removed.
    claimed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, total=total, done=0, path=str(path), heartbeat_at=timezone.now()
    )
    if not claimed:
        return job.rows or 0
    running = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING)

    def progress(done: int) -> None:
        # Called between two chunks' reads, none of them open (`exports._keyset`): on SQLite too the
        # write never meets a read snapshot older than another connection's commit.
        running.update(done=done, heartbeat_at=timezone.now())

    processes = settings.EXPORT_PROCESSES if total >= settings.EXPORT_PARALLEL_ROWS else 1
    try:
        # Created 0600 from the first byte on, never readable by another user.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            count = export_write(
                actor=job.created_by,
                name=job.list_name,
                fmt=job.fmt,
                params=params,
                out=out,
                progress=progress,
                processes=processes,
            )
    except Exception as error:
        path.unlink(missing_ok=True)
        running.update(
            status=ExportJob.Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            reason=_("导出出错，请重新导出或联系系统管理员。"),
            path="",
            finished_at=timezone.now(),
        )
        raise
    if not running.update(status=ExportJob.Status.DONE, rows=count, done=count, finished_at=timezone.now()):
        path.unlink(missing_ok=True)  # given up on meanwhile (marked failed as stale): no file behind it
    return count


def export_jobs_recover(*, now: datetime.datetime | None = None) -> int:
    """Mark failed the running jobs whose worker stopped (no progress for EXPORT_STALE_MINUTES); returns how many.

    Failed, not queued again: a worker that died on a job (killed, out of memory) would die on it
    again, and the owner sees at once why and asks again when it suits them. The partial file goes."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES)
    stale = ExportJob.objects.filter(status=ExportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    reason = _("导出中断：后台任务超过 %(m)d 分钟没有进展（任务进程已停止），请重新导出。") % {
        "m": settings.EXPORT_STALE_MINUTES
    }
    recovered = 0
    for job in stale:
        if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
            status=ExportJob.Status.FAILED, error="stale: no heartbeat", reason=reason, path="", finished_at=now
        ):
            if (path := export_file(job)) is not None:
                path.unlink(missing_ok=True)
            recovered += 1
    return recovered


def export_files_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete export files older than EXPORT_FILES_RETENTION_HOURS (and files no job owns); audited.

    Run by the scheduler through `purge_export_files_task`, or `manage.py export_files`. The job stays
    in its owner's list, saying that its file went; returns how many files were deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.EXPORT_FILES_RETENTION_HOURS)
    reason = _("文件已超过保留期限（%(h)d 小时）被删除，请重新导出。") % {"h": settings.EXPORT_FILES_RETENTION_HOURS}
    purged: list[int] = []
    for job in ExportJob.objects.filter(status=ExportJob.Status.DONE, finished_at__lt=cutoff).exclude(path=""):
        if (path := export_file(job)) is not None:
            path.unlink(missing_ok=True)
        purged.append(job.pk)
    ExportJob.objects.filter(pk__in=purged).update(path="", reason=reason)  # one statement for the whole run
    owned = set(ExportJob.objects.exclude(path="").values_list("path", flat=True))
    strays = 0
    for path in export_dir().iterdir():
        old = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC) < cutoff
        if path.is_file() and old and str(path) not in owned:
            path.unlink(missing_ok=True)  # left by a worker that died before its job was marked
            strays += 1
    if purged or strays:
        audit_record(
            action=AuditEntry.Action.FILES_PURGED,
            actor_name="system",
            target="var/exports",
            detail={
                "what": "导出文件",
                "retention_hours": settings.EXPORT_FILES_RETENTION_HOURS,
                "jobs": purged,
                "strays": strays,
            },
        )
    return len(purged) + strays


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
