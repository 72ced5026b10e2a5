"""Import jobs: created from an upload, run by the task worker, polled by the page, cancellable.

Progress and the cancel flag live on the job row. While the import checks the file, the worker
updates the row directly. While it writes (one transaction, so nothing of the batch shows until it
commits), it reports through a second connection on PostgreSQL; SQLite has one writer at a time, so
there the bar moves from "写入" to done at commit, and a cancel is honoured between chunks of checking.
"""

import datetime
import os
import uuid
import zipfile
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.accounts.models import Role
from zongzhi.audit.downloads import audited_download
from zongzhi.outbox.services import import_finished
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.kinds import kind_of
from zongzhi.transfer.models import ImportJob
from zongzhi.xlsx import XLSX

IMPORT_ROLES = frozenset({Role.CENTER_DIRECTOR, Role.LEADER})
MAX_UPLOAD = 200 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv")


def may_import(user: Any) -> bool:
    """Center directors and leaders import into their jurisdiction."""
    return bool(access.roles_of(user) & IMPORT_ROLES) and not access.scope_of(user).is_empty


def import_dir() -> Path:
    """var/imports: uploads waiting for the worker and rejects files, readable by our user only."""
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # also when an older version made it with the default mode
    return path


def _private_file(path: Path) -> IO[bytes]:
    """A new file only its owner can read, from the first byte on (no chmod after the write)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def import_files_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete rejects files (and uploads of jobs that ended) older than IMPORT_FILES_RETENTION_HOURS.

    Run by the scheduler through `purge_import_files_task`; returns how many files went.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.IMPORT_FILES_RETENTION_HOURS)
    removed = 0
    for job in ImportJob.objects.filter(finished_at__lt=cutoff).exclude(rejects_path=""):
        Path(job.rejects_path).unlink(missing_ok=True)
        ImportJob.objects.filter(pk=job.pk).update(rejects_path="")
        removed += 1
    waiting = set(
        ImportJob.objects.filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]).values_list(
            "path", flat=True
        )
    )
    kept = set(ImportJob.objects.exclude(rejects_path="").values_list("rejects_path", flat=True))
    for path in import_dir().iterdir():
        old = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC) < cutoff
        if path.is_file() and old and str(path) not in waiting | kept:
            path.unlink(missing_ok=True)  # left by a failed job or a crashed worker
            removed += 1
    return removed


def _not_a_table(upload: UploadedFile, suffix: str) -> str | None:
    """The file opened as what its name says: an XLSX is a workbook archive, a CSV is text."""
    name = Path(upload.name or "").name
    upload.seek(0)
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(upload) as archive:
                is_workbook = "xl/workbook.xml" in archive.namelist()
        except (zipfile.BadZipFile, OSError):
            is_workbook = False
        upload.seek(0)
        return None if is_workbook else _("文件“%(n)s”不是 XLSX 工作簿（无法按 Excel 文件打开）。") % {"n": name}
    head = upload.read(64 * 1024)
    upload.seek(0)
    if b"\0" in head or head.startswith((b"PK\x03\x04", b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")):
        return _("文件“%(n)s”不是 CSV 文本文件。") % {"n": name}
    return None


def job_create(*, actor: Any, kind: str, upload: UploadedFile, dry_run: bool, accept_valid: bool) -> ImportJob:
    """Keep the upload and queue its import for the worker."""
    errors: dict[str, list[str]] = {}
    if kind_of(kind) is None:
        errors["kind"] = [_("请选择导入类型。")]
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in SUFFIXES:
        errors["file"] = [_("请上传 XLSX 或 CSV 文件（收到“%(s)s”）。") % {"s": suffix or upload.name}]
    elif (upload.size or 0) > MAX_UPLOAD:
        errors["file"] = [_("文件不能超过 200 MB。")]
    elif problem := _not_a_table(upload, suffix):
        errors["file"] = [problem]
    if errors:
        raise ValidationError(errors)
    path = import_dir() / f"{uuid.uuid4().hex}{suffix}"
    with _private_file(path) as out:
        for piece in upload.chunks():
            out.write(piece)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            file_name=Path(upload.name or "").name[:200],
            path=str(path),
            dry_run=dry_run,
            accept_valid=accept_valid,
            created_by=actor,
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    # Imported here: tasks.py wraps job_run below, so a top-level import would be circular.
    from zongzhi.transfer.tasks import import_task

    import_task.enqueue(job_id)


def job_cancel(*, actor: Any, job: ImportJob) -> None:
    """Ask the worker to stop: nothing of the batch is written."""
    if job.created_by_id != actor.pk:
        raise ValidationError(_("只能取消自己上传的导入。"))
    ImportJob.objects.filter(pk=job.pk, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]).update(
        cancel_requested=True
    )


class _JobChannel:
    """Writes progress to the job row and reads its cancel flag, also from inside the write transaction."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.side: Any = None

    def _side_cursor(self) -> Any:
        if self.side is None:
            self.side = connections.create_connection("default")
        return self.side.cursor()

    def progress(self, phase: str, done: int, total: int | None) -> None:
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(phase=phase, done=done, total=total)
        elif connection.vendor == "postgresql":
            with self._side_cursor() as cursor:
                table = ImportJob._meta.db_table
                cursor.execute(
                    f"UPDATE {table} SET phase = %s, done = %s, total = %s WHERE id = %s",  # noqa: S608 - our table
                    [phase, done, total, self.job_id],
                )

    def cancelled(self) -> bool:
        if connection.in_atomic_block and connection.vendor == "postgresql":
            with self._side_cursor() as cursor:
                table = ImportJob._meta.db_table
                cursor.execute(f"SELECT cancel_requested FROM {table} WHERE id = %s", [self.job_id])  # noqa: S608
                row = cursor.fetchone()
                return bool(row and row[0])  # no row: the job is not committed yet (a test's transaction)
        return ImportJob.objects.filter(pk=self.job_id, cancel_requested=True).exists()

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def job_run(job_id: int) -> dict[str, Any]:
    """Run a queued job (the task's body); the report is stored on the job and returned."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    kind = kind_of(job.kind)
    if job.finished or kind is None:
        return {}
    if job.cancel_requested:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
        return {}
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    channel = _JobChannel(job.pk)
    rejects = Path(job.path).with_suffix(".rejects.xlsx")
    try:
        report = run_import(
            kind,
            Path(job.path),
            scope=access.scope_of(job.created_by),
            actor=job.created_by,
            file_name=job.file_name,
            dry_run=job.dry_run,
            accept_valid=job.accept_valid,
            rejects_path=rejects,
            progress=channel.progress,
            cancelled=channel.cancelled,
        )
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    finally:
        channel.close()
    status = ImportJob.Status.CANCELLED if report.cancelled else ImportJob.Status.DONE
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status,
            report=report.as_dict(),
            rejects_path=str(rejects) if rejects.exists() else "",
            finished_at=timezone.now(),
        )
        import_finished(job, status, report.as_dict())
    Path(job.path).unlink(missing_ok=True)
    return report.as_dict()


def rejects_download(*, job: ImportJob, actor: Any, request: HttpRequest) -> FileResponse | None:
    """The rows of the job that were not imported, as XLSX, audited (None when there are none)."""
    path = Path(job.rejects_path) if job.rejects_path else None
    if path is None or not path.is_file():
        return None
    return audited_download(
        opened=path.open("rb"),
        actor=actor,
        request=request,
        target=f"import:{job.pk}/rejects",
        detail={"what": "导入退回行", "kind": job.kind, "file": f"{Path(job.file_name).stem}-退回行.xlsx"},
        filename=f"导入退回行-{job.pk}.xlsx",
        content_type=XLSX,
    )
