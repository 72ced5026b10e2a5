"""A file handed out (a visit photo, an import's rejected rows, a finished export), on the page and by
the API alike: the person who may gets it under a name that tells what it is and no uploaded file's
name (which may be a person's), kept by no cache on the way, and one audit entry names who took it."""

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.messy_files import person_id, write_xlsx
from tests.test_case_lifecycle import who
from tests.test_field import PNG, household_in, record
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.grid.models import GridWorker
from zongzhi.transfer.export_jobs import export_job_create, export_job_run
from zongzhi.transfer.jobs import job_create, job_run

HEADERS = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"]


def newest_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.django_db
def test_each_download_is_named_for_what_it_is_kept_by_no_cache_and_audited(
    client_as: Callable[[str], Client], tmp_path: Path
) -> None:
    worker = User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.get(user=worker).grid
    visit = record(
        worker,
        household_in(grid, 87),
        photos=[SimpleUploadedFile("张三家围栏.png", PNG, content_type="image/png")],
        visited_at=timezone.now(),
    )
    photo = visit.photos.get()
    rows = [
        ["HD-1", grid.code, "哈斯", "户主", "蒙古族", person_id(392)],
        ["HD-1", grid.code, "", "配偶", "蒙古族", ""],
    ]
    upload = SimpleUploadedFile("张三户名单.xlsx", write_xlsx(tmp_path / "r.xlsx", HEADERS, rows).read_bytes())
    job = job_create(actor=who("director"), kind="residents", upload=upload, dry_run=False, accept_valid=True)
    job_run(job.pk)
    export = export_job_create(actor=who("director"), list_name="grid_workers", fmt="csv", filters={})
    export_job_run(export.pk)
    day = f"{export.created_at:%Y%m%d}"

    downloads = [
        # (persona, path, shown in the page, the name it is saved under, the audit entry's target)
        (
            "gridworker",
            f"/staff/field/photos/{photo.pk}/",
            True,
            f"走访照片-{photo.pk}.png",
            f"visit:{visit.pk}/photo:{photo.pk}",
        ),
        (
            "gridworker",
            f"/api/v1/visit-photos/{photo.pk}",
            True,
            f"走访照片-{photo.pk}.png",
            f"visit:{visit.pk}/photo:{photo.pk}",
        ),
        (
            "director",
            f"/staff/transfer/import/jobs/{job.pk}/rejects.xlsx",
            False,
            f"导入退回行-{job.pk}.xlsx",
            f"import:{job.pk}/rejects",
        ),
        (
            "director",
            f"/api/v1/imports/{job.pk}/rejects",
            False,
            f"导入退回行-{job.pk}.xlsx",
            f"import:{job.pk}/rejects",
        ),
        (
            "director",
            f"/staff/transfer/exports/{export.pk}/download/",
            False,
            f"网格员-{day}.csv",
            f"export:{export.pk}",
        ),
        ("director", f"/api/v1/exports/{export.pk}/download", False, f"网格员-{day}.csv", f"export:{export.pk}"),
    ]
    for persona, path, inline, name, target in downloads:
        mark = newest_id()
        answer = client_as(persona).get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        disposition = unquote(answer["Content-Disposition"])
        assert disposition.startswith("inline;" if inline else "attachment;"), (path, disposition)
        assert disposition.endswith(name) and "张三" not in disposition, (path, disposition)
        assert answer["Cache-Control"] == "no-store", path
        entries = [(e.action, e.target, e.actor_id) for e in AuditEntry.objects.filter(pk__gt=mark)]
        assert entries == [(AuditEntry.Action.FILE_DOWNLOADED, target, who(persona).pk)], (path, entries)
