"""/api/v1/imports and /exports: bulk imports (upload, progress, report, rejects file, cancel) and list
exports (a job the worker writes, then the download). A job is its owner's: anyone else gets 404."""

from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, WRITE, Cursor, Id, Limit, file_answer, page_schema, paged
from zongzhi.transfer import export_jobs, jobs, selectors
from zongzhi.transfer.models import ExportJob, ImportJob
from zongzhi.xlsx import XLSX

router = Router(tags=["imports"])
# What each list's export reads, as the permission a service account needs for it.
LIST_RESOURCE = {
    "cases": "cases:read",
    "supervisions": "cases:read",
    "residents": "residents:read",
    "grid_workers": "regions:read",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _importer(request: HttpRequest, permission: str) -> User:
    require_resource(request, permission)
    user = _user(request)
    if not jobs.may_import(user) and not access.system_may(user, permission):
        raise PermissionDenied(_("只有中心主任和政法委领导可以批量导入。"))
    return user


class ImportJobOut(Schema):
    id: int
    kind: str
    file_name: str
    dry_run: bool
    accept_valid: bool
    status: str
    phase: str
    percent: int
    done: int
    total: int | None
    created_at: str
    finished_at: str | None
    report: dict[str, Any] | None
    rejects: bool
    error: str


def _import(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "file_name": job.file_name,
        "dry_run": job.dry_run,
        "accept_valid": job.accept_valid,
        "status": job.status,
        "phase": job.phase,
        "percent": job.percent,
        "done": job.done,
        "total": job.total,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "report": job.report,
        "rejects": bool(job.rejects_path),
        "error": job.error,
    }


def _own_import(user: User, pk: int) -> ImportJob:
    return get_object_or_404(selectors.imports_of(user), pk=pk)


@router.post("/imports", response={201: ImportJobOut, **WRITE})
def import_new(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[str],
    dry_run: Form[bool] = False,
    accept_valid: Form[bool] = False,
) -> Status:
    """Upload an XLSX or CSV of `kind` (residents, grid_workers, orgs, disputes); the worker imports it."""
    user = _importer(request, "imports:write")
    job = jobs.job_create(actor=user, kind=kind, upload=file, dry_run=dry_run, accept_valid=accept_valid)
    return Status(201, _import(job))


@router.get("/imports", response={200: page_schema(ImportJobOut), **READ})
def imports(request: HttpRequest, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """The caller's own imports, newest first."""
    user = _importer(request, "imports:read")
    return paged(selectors.imports_of(user), keys=("-id",), cursor=cursor, limit=limit, show=_import)


@router.get("/imports/{pk}", response={200: ImportJobOut, **READ})
def import_job(request: HttpRequest, pk: Id) -> dict[str, Any]:
    """Progress while it runs (`percent`: checking is the first half, writing the second), then the report."""
    return _import(_own_import(_importer(request, "imports:read"), pk))


@router.post("/imports/{pk}/cancel", response={200: ImportJobOut, **WRITE})
def import_cancel(request: HttpRequest, pk: Id) -> dict[str, Any]:
    """Ask the worker to stop: nothing of the batch is written. A finished job is left as it is."""
    user = _importer(request, "imports:write")
    job = _own_import(user, pk)
    try:
        jobs.job_cancel(actor=user, job=job)
    except OperationalError:  # SQLite while the import holds the write lock: it commits shortly
        raise ValidationError({"__all__": [_("正在写入数据，无法取消，请稍候查看结果。")]}) from None
    return _import(_own_import(user, pk))


@router.get("/imports/{pk}/rejects", response=READ, openapi_extra=file_answer(XLSX))
def import_rejects(request: HttpRequest, pk: Id) -> FileResponse:
    """The rows that were not imported, as XLSX with the reason in the last column (404 when there are none)."""
    user = _importer(request, "imports:read")
    response = jobs.rejects_download(job=_own_import(user, pk), actor=user, request=request)
    if response is None:
        raise Http404
    return response


# ---- exports ------------------------------------------------------------------------------------


class ExportIn(Schema):
    """`list`: cases, residents, grid_workers or supervisions; `format`: xlsx or csv; `filters` as on the list page."""

    list: str
    format: str = "xlsx"
    filters: dict[str, str] = Field(default={}, max_length=20)


class ExportJobOut(Schema):
    id: int
    list: str
    format: str
    filters: dict[str, str]
    status: str
    done: int
    total: int | None
    percent: int
    rows: int | None
    created_at: str
    finished_at: str | None
    download: str | None


def _export(job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "list": job.list_name,
        "format": job.fmt,
        "filters": job.filters,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "rows": job.rows,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "download": f"/api/v1/exports/{job.pk}/download" if job.status == ExportJob.Status.DONE else None,
    }


def _exporter(request: HttpRequest, permission: str) -> User:
    require_resource(request, permission)
    access.business_scope(request.user)
    return _user(request)


def _own_export(user: User, pk: int) -> ExportJob:
    return get_object_or_404(selectors.exports_of(user), pk=pk)


@router.post("/exports", response={202: ExportJobOut, **WRITE}, tags=["exports"])
def export_new(request: HttpRequest, payload: ExportIn) -> Status:
    """Queue an export of a list, read for the caller through the same scope and masks as the pages."""
    user = _exporter(request, "exports:write")
    if payload.list in LIST_RESOURCE:
        require_resource(request, LIST_RESOURCE[payload.list])
    job = export_jobs.export_job_create(actor=user, list_name=payload.list, fmt=payload.format, filters=payload.filters)
    return Status(202, _export(job))


@router.get("/exports", response={200: page_schema(ExportJobOut), **READ}, tags=["exports"])
def exports(request: HttpRequest, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """The caller's own exports, newest first."""
    user = _exporter(request, "exports:read")
    return paged(selectors.exports_of(user), keys=("-id",), cursor=cursor, limit=limit, show=_export)


@router.get("/exports/{pk}", response={200: ExportJobOut, **READ}, tags=["exports"])
def export_job(request: HttpRequest, pk: Id) -> dict[str, Any]:
    return _export(_own_export(_exporter(request, "exports:read"), pk))


@router.get("/exports/{pk}/download", response=READ, tags=["exports"], openapi_extra=file_answer(XLSX, "text/csv"))
def export_download(request: HttpRequest, pk: Id) -> FileResponse:
    """The file once the job is done (404 before)."""
    user = _exporter(request, "exports:read")
    response = export_jobs.export_job_download(job=_own_export(user, pk), actor=user, request=request)
    if response is None:
        raise Http404
    return response
