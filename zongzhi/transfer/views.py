"""Import pages (templates, the upload, the job with its progress bar, report and cancel) and exports:
the small lists straight away, large ones as a job the worker writes, followed on its page."""

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.forms import flash_errors
from zongzhi.transfer import export_jobs, exports, jobs, selectors
from zongzhi.transfer.kinds import kind_of, kinds
from zongzhi.transfer.models import ExportJob, ImportJob
from zongzhi.transfer.report import Report
from zongzhi.transfer.templates import template_xlsx
from zongzhi.xlsx import XLSX


def _own_job(request: HttpRequest, pk: int) -> ImportJob:
    # Another user's job answers 404, the same as a missing one.
    return get_object_or_404(ImportJob, pk=pk, created_by=acting_user(request))


@staff_page(jobs.may_import)
def upload(request: HttpRequest) -> HttpResponse:
    """Choose a kind, upload a file, and follow the import on its job page."""
    user = acting_user(request)
    if request.method == "POST" and "file" not in request.FILES:
        messages.error(request, _("请选择要上传的文件。"))
    elif request.method == "POST":
        try:
            job = jobs.job_create(
                actor=user,
                kind=request.POST.get("kind", ""),
                upload=cast(UploadedFile, request.FILES["file"]),
                dry_run=request.POST.get("dry_run") == "on",
                accept_valid=request.POST.get("accept_valid") == "on",
            )
        except ValidationError as error:
            flash_errors(request, error)
        else:
            return redirect("transfer:job", pk=job.pk)
    recent = ImportJob.objects.filter(created_by=user)[:10]
    return render(request, "transfer/upload.html", {"kinds": kinds().values(), "recent": recent})


@staff_page(jobs.may_import)
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    found = kind_of(kind)
    if found is None:
        return render(request, "404.html", status=404)
    audit_record(
        action=AuditEntry.Action.FILE_DOWNLOADED,
        actor=acting_user(request),
        target=f"import_template:{kind}",
        request=request,
        detail={"what": "导入模板", "kind": kind},
    )
    response = HttpResponse(template_xlsx(found), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{kind}-template.xlsx"
    return response


def _context(job: ImportJob) -> dict:
    report = Report.from_dict(job.report) if job.report else None
    return {"job": job, "report": report, "kind": kind_of(job.kind)}


@staff_page(jobs.may_import)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "transfer/job.html", _context(_own_job(request, pk)))


@staff_page(jobs.may_import)
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled by htmx while the job runs) or, once it ended, the report."""
    return render(request, "transfer/_progress.html", _context(_own_job(request, pk)))


@require_POST
@staff_page(jobs.may_import)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    try:
        jobs.job_cancel(actor=acting_user(request), job=job)
    except ValidationError as error:
        flash_errors(request, error)
    except OperationalError:  # SQLite while the import holds the write lock: it commits shortly
        messages.error(request, _("正在写入数据，无法取消，请稍候查看结果。"))
    else:
        messages.info(request, _("已请求取消：本次导入不会写入任何数据。"))
    return redirect("transfer:job", pk=job.pk)


@staff_page(jobs.may_import)
def job_rejects(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    response = jobs.rejects_download(job=_own_job(request, pk), actor=acting_user(request), request=request)
    return response or render(request, "404.html", status=404)


@staff_page(access.may_read_business)
def export(request: HttpRequest, name: str, fmt: str) -> HttpResponse | FileResponse:
    """A list as on screen (its filters in the query string), scoped to the user, masked, audited."""
    if name not in exports.LISTS or fmt not in ("xlsx", "csv"):
        return render(request, "404.html", status=404)
    out, _count = exports.export_list(
        actor=acting_user(request), name=name, fmt=fmt, params=request.GET, request=request
    )
    filename = f"{exports.LISTS[name].title}-{timezone.localdate():%Y%m%d}.{fmt}"
    content_type = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    return FileResponse(out, as_attachment=True, filename=filename, content_type=content_type)


# ---- exports as background jobs (large lists: a county's residents) ---------------------------------


def _own_export(request: HttpRequest, pk: int) -> ExportJob:
    # Another user's job answers 404, the same as a missing one.
    return get_object_or_404(selectors.exports_of(acting_user(request)), pk=pk)


@staff_page(access.may_read_business)
def export_jobs_page(request: HttpRequest) -> HttpResponse:
    """The user's exports (GET) or a new one (POST: list, format and the list's filters), written by the worker."""
    user = acting_user(request)
    if request.method == "POST":
        filters = {k: v for k in export_jobs.FILTERS if (v := request.POST.get(k, "").strip())}
        try:
            job = export_jobs.export_job_create(
                actor=user, list_name=request.POST.get("list", ""), fmt=request.POST.get("format", ""), filters=filters
            )
        except ValidationError as error:
            flash_errors(request, error)
        else:
            return redirect("transfer:export_job", pk=job.pk)
    recent = selectors.exports_of(user)[:20]
    return render(request, "transfer/exports.html", {"recent": recent, "lists": exports.LISTS})


@staff_page(access.may_read_business)
def export_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_export(request, pk)
    return render(request, "transfer/export_job.html", {"job": job, "title": exports.LISTS[job.list_name].title})


@staff_page(access.may_read_business)
def export_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled by htmx while the worker writes) or, once written, the download."""
    return render(request, "transfer/_export_progress.html", {"job": _own_export(request, pk)})


@staff_page(access.may_read_business)
def export_job_download(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    response = export_jobs.export_job_download(
        job=_own_export(request, pk), actor=acting_user(request), request=request
    )
    return response or render(request, "404.html", status=404)
