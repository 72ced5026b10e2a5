"""The upload page: templates, a job run by the task, its report and rejected rows, cancel, who may."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.messy_files import person_id, write_xlsx
from zongzhi.grid.models import Household
from zongzhi.transfer.jobs import job_run
from zongzhi.transfer.models import ImportJob

pytestmark = pytest.mark.django_db
HEADERS = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"]
GRID = "152502001001001"


def upload(client, path: Path, **options: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post("/staff/transfer/import/", {"kind": "residents", "file": handle, **options})


def test_every_template_downloads_and_its_example_row_imports(client_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    director = client_as("director")
    for kind in ("residents", "grid_workers", "orgs", "disputes"):
        response = director.get(f"/staff/transfer/import/templates/{kind}.xlsx")
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        sheet = book.worksheets[0]
        headers = [c.value for c in sheet[1]]
        assert all(isinstance(h, str) for h in headers) and any(h.startswith("*") for h in headers)
        assert sheet.cell(row=1, column=1).comment is not None  # the note on the column
        assert book["填写说明"].max_row > len(headers)
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(response.content)
        with path.open("rb") as handle:
            posted = director.post("/staff/transfer/import/", {"kind": kind, "file": handle})
        job = ImportJob.objects.get(pk=int(posted["Location"].rstrip("/").split("/")[-1]))
        report = job_run(job.pk)
        assert report["problems"] == [] and report["inserted"] == 1, (kind, report["problems"])


def test_upload_check_report_and_rejected_rows(client_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    director = client_as("director")
    rows = [
        ["HW-1", GRID, "哈斯", "户主", "蒙古族", person_id(301)],
        ["HW-1", GRID, "", "配偶", "蒙古族", person_id(302)],
    ]
    response = upload(director, write_xlsx(tmp_path / "w.xlsx", HEADERS, rows), accept_valid="on")
    assert response.status_code == 302
    job = ImportJob.objects.latest("id")
    assert director.get(response["Location"]).status_code == 200  # queued: the bar at 0
    job_run(job.pk)
    page = director.get(f"/staff/transfer/import/jobs/{job.pk}/progress/").content.decode()
    assert 'id="inserted">1<' in page and 'id="rejected">1<' in page and "缺少必填项“姓名”" in page
    assert "hx-trigger" not in page  # finished: no more polling
    rejected = director.get(f"/staff/transfer/import/jobs/{job.pk}/rejects.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(rejected.streaming_content))).active  # type: ignore[attr-defined]
    assert [c.value for c in sheet[1]][-2:] == ["问题说明", "原文件行号"]  # type: ignore[index]
    assert Household.objects.get(code="HW-1").residents.count() == 1
    # Someone else's job is not found, as a missing one.
    assert client_as("league").get(f"/staff/transfer/import/jobs/{job.pk}/").status_code == 404


def test_a_cancelled_job_writes_nothing(client_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    director = client_as("director")
    upload(
        director, write_xlsx(tmp_path / "c.xlsx", HEADERS, [["HX-1", GRID, "哈斯", "户主", "蒙古族", person_id(311)]])
    )
    job = ImportJob.objects.latest("id")
    director.post(f"/staff/transfer/import/jobs/{job.pk}/cancel/")
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and not Household.objects.filter(code="HX-1").exists()


def test_only_directors_and_leaders_import(client_as) -> None:  # type: ignore[no-untyped-def]
    assert client_as("liaison").get("/staff/transfer/import/").status_code == 403
    assert client_as("auditor").get("/staff/transfer/import/").status_code == 403
    assert client_as("leader").get("/staff/transfer/import/").status_code == 200


def test_a_finished_import_is_told_in_the_outbox(client_as, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from zongzhi.outbox.models import Event

    director = client_as("director")
    rows = [["HW-9", GRID, "哈斯", "户主", "蒙古族", person_id(309)]]
    assert upload(director, write_xlsx(tmp_path / "o.xlsx", HEADERS, rows)).status_code == 302
    job = ImportJob.objects.latest("id")
    job_run(job.pk)
    told = Event.objects.get(kind="import.finished", data__job=job.pk)
    assert told.data["status"] == "done" and told.data["report"]["inserted"] == 1
    assert told.region_code == "152502"  # the director's jurisdiction
    assert person_id(309) not in str(told.data) and "哈斯" not in str(told.data)
