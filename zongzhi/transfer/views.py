"""Import pages: templates to download, the upload, the job with its progress bar, report and cancel."""

from pathlib import Path
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
from zongzhi.transfer import exports, jobs
from zongzhi.transfer.kinds import kind_of, kinds
from zongzhi.transfer.models import ImportJob
from zongzhi.transfer.report import Report
from zongzhi.transfer.templates import template_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    job = _own_job(request, pk)
    path = Path(job.rejects_path) if job.rejects_path else None
    if path is None or not path.is_file():
        return render(request, "404.html", status=404)
    name = f"{Path(job.file_name).stem}-退回行.xlsx"
    audit_record(
        action=AuditEntry.Action.FILE_DOWNLOADED,
        actor=acting_user(request),
        target=f"import:{job.pk}/rejects",
        request=request,
        detail={"what": "导入退回行", "kind": job.kind, "file": name},
    )
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=XLSX)


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
