"""Exports of the lists: the filters on screen, only the user's jurisdiction, masked numbers, audited."""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.messy_files import person_id, write_csv
from zongzhi.access import Scope
from zongzhi.audit.models import AuditEntry
from zongzhi.grid.models import Resident
from zongzhi.regions.models import Region
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.export_jobs import export_dir, export_job_run
from zongzhi.transfer.models import ExportJob
from zongzhi.transfer.residents import ResidentsImport

pytestmark = pytest.mark.django_db
# IDs, credit codes and passports alike; a number too short to keep its ends is all stars.
MASKED_ID = re.compile(r"^([0-9A-Z]{6}\*+[0-9A-Z]{4}|\*+)$")


def xlsx_rows(response) -> list[tuple]:  # type: ignore[no-untyped-def]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(book.worksheets[0].values)


def csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM, so Excel opens the Chinese correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_cases_export_has_the_filters_on_screen_scope_and_masks(client_as) -> None:  # type: ignore[no-untyped-def]
    director = client_as("director")
    page = director.get("/staff/cases/?state=closed").content.decode()
    shown = int(re.search(r"共 (\d+) 条", page).group(1))  # type: ignore[union-attr]
    assert 'href="/staff/transfer/export/cases.xlsx?state=closed"' in page
    rows = xlsx_rows(director.get("/staff/transfer/export/cases.xlsx?state=closed"))
    assert rows[0][0] == "案件编号" and len(rows) - 1 == shown > 0
    assert {r[8] for r in rows[1:]} == {"已结案"}
    assert all(r[6].startswith("152502") for r in rows[1:])  # Xilinhot's director: Xilinhot's cases
    numbers = re.findall(r"（([^）]*)）", "".join(r[16] or "" for r in rows[1:]))
    assert numbers and all(MASKED_ID.match(n) for n in numbers), [n for n in numbers if not MASKED_ID.match(n)]
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.DATA_EXPORTED).latest("id")
    assert entry.actor_name == "demo-director" and entry.detail == {
        "format": "xlsx",
        "filters": {"state": "closed"},
        "rows": shown,
    }


def test_residents_export_is_scoped_and_masked(client_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    headers = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号", "联系电话"]
    duolun = Region.objects.filter(level="grid", code__startswith="152531").order_by("code")[0]
    rows = [
        ["HEXP-1", "152502001001001", "乌兰", "户主", "蒙古族", person_id(501), "13812345678"],
        ["HEXP-2", duolun.code, "李娜", "户主", "汉族", person_id(502, region6="152531"), "13900001111"],
    ]
    assert (
        run_import(
            ResidentsImport(), write_csv(tmp_path / "r.csv", headers, rows, "utf-8"), scope=Scope.everything()
        ).inserted
        == 2
    )
    data = csv_rows(client_as("director").get("/staff/transfer/export/residents.csv"))
    assert data[0][:5] == ["户编号", "所在网格", "区划代码", "住址", "姓名"]
    mine = [r for r in data[1:] if r[0].startswith("HEXP-")]
    assert [r[4] for r in mine] == ["乌兰"]  # 多伦县's resident is not in the Xilinhot director's export
    assert mine[0][8] == person_id(501)[:6] + "********" + person_id(501)[-4:] and mine[0][9] == "138****5678"
    everything = "".join(",".join(r) for r in data)
    assert person_id(501) not in everything and "13812345678" not in everything
    league = csv_rows(client_as("league").get("/staff/transfer/export/residents.csv?region=152531"))
    assert [r[4] for r in league[1:] if r[0].startswith("HEXP-")] == ["李娜"]


def test_grid_workers_and_supervision_items(client_as) -> None:  # type: ignore[no-untyped-def]
    director, league = client_as("director"), client_as("league")
    workers = xlsx_rows(director.get("/staff/transfer/export/grid_workers.xlsx"))
    assert len(workers) > 1 and all(r[3].startswith("152502") for r in workers[1:])
    duolun = xlsx_rows(league.get("/staff/transfer/export/grid_workers.xlsx?region=152531"))
    assert len(duolun) > 1 and all(r[3].startswith("152531") for r in duolun[1:])
    items = csv_rows(league.get("/staff/transfer/export/supervisions.csv?status=open"))
    assert items[0][:3] == ["文号", "文书", "案件编号"] and len(items) > 1
    assert {r[9] for r in items[1:]} == {"督办中"} or len({r[9] for r in items[1:]}) == 1


def test_who_may_export(client_as) -> None:  # type: ignore[no-untyped-def]
    assert client_as("auditor").get("/staff/transfer/export/cases.xlsx").status_code == 403
    assert client_as("director").get("/staff/transfer/export/secrets.xlsx").status_code == 404
    assert client_as("director").get("/staff/transfer/export/cases.pdf").status_code == 404


def test_a_countys_residents_export_as_a_job_with_progress_then_its_file(client_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The county page asks for a background export; the job page shows its progress until the worker
    # has written it, then the download: every resident of the director's county, masked, audited.
    headers = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号", "联系电话"]
    duolun = Region.objects.filter(level="grid", code__startswith="152531").order_by("code")[0]
    people = [
        ["HJOB-1", "152502001001001", "乌兰", "户主", "蒙古族", person_id(511), "13812345678"],
        ["HJOB-1", "152502001001001", "=巴特尔", "子女", "蒙古族", person_id(512), ""],
        ["HJOB-2", duolun.code, "李娜", "户主", "汉族", person_id(513, region6="152531"), "13900001111"],
    ]
    run_import(ResidentsImport(), write_csv(tmp_path / "r.csv", headers, people, "utf-8"), scope=Scope.everything())
    director = client_as("director")
    page = director.get("/staff/regions/152502000000/").content.decode()
    assert 'id="export-residents"' in page and 'name="region" value="152502"' in page
    answer = director.post("/staff/transfer/exports/", {"list": "residents", "format": "xlsx", "region": "152502"})
    job = ExportJob.objects.filter(created_by__username="demo-director").latest("id")
    assert answer.status_code == 302 and answer["Location"] == f"/staff/transfer/exports/{job.pk}/"
    waiting = director.get(f"/staff/transfer/exports/{job.pk}/").content.decode()
    assert "排队中" in waiting and f'hx-get="/staff/transfer/exports/{job.pk}/progress/"' in waiting
    assert director.get(f"/staff/transfer/exports/{job.pk}/download/").status_code == 404  # not written yet
    assert client_as("leader").get(f"/staff/transfer/exports/{job.pk}/").status_code == 404  # the owner's only

    expected = Resident.objects.filter(region_code__startswith="152502").count()
    assert export_job_run(job.pk) == expected > 0  # what the worker's task runs
    job.refresh_from_db()
    path = Path(job.path)
    assert path.parent == export_dir() and path.stat().st_mode & 0o777 == 0o600
    done = director.get(f"/staff/transfer/exports/{job.pk}/progress/").content.decode()
    assert "hx-get" not in done and "100%" in done
    assert f'id="done">{expected}<' in done and f'id="total">{expected}<' in done
    rows = xlsx_rows(director.get(f"/staff/transfer/exports/{job.pk}/download/"))
    assert rows[0][8] == "身份证号" and len(rows) - 1 == expected == job.rows
    assert all(MASKED_ID.match(r[8]) for r in rows[1:])
    assert all(re.fullmatch(r"\d{3}\*+\d{4}|\**", r[9] or "") for r in rows[1:])
    assert [r[4] for r in rows[1:] if r[0] == "HJOB-1"] == ["乌兰", "=巴特尔"] and "李娜" not in {r[4] for r in rows}
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.DATA_EXPORTED).latest("id")
    assert entry.detail == {"format": "xlsx", "filters": {"region": "152502"}, "rows": expected}


def test_an_export_job_asked_for_wrongly_names_the_field(client_as) -> None:  # type: ignore[no-untyped-def]
    director = client_as("director")
    answer = director.post("/staff/transfer/exports/", {"list": "secrets", "format": "pdf"}, follow=True)
    text = answer.content.decode()
    assert answer.status_code == 200 and "未知列表" in text and "格式应为 xlsx 或 csv" in text
    assert not ExportJob.objects.filter(list_name="secrets").exists()
