"""Spreadsheet formula injection: cases whose title and party name start with `=`, `+`, `-`, `@`,
residents named so, an import whose rejected rows hold such text. Every export downloaded over
real HTTP from the live server (cases and residents as XLSX and CSV, the supervisions list, the
meeting pack, the import template and rejects, the dashboard report) opens in openpyxl with no
formula cell, and in the CSVs such cells carry the apostrophe."""

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from tests import persona_day
from tests.http_client import HttpClient
from zongzhi import sheets

PAYLOADS = ['=HYPERLINK("http://evil.example/","点此查看")', "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd"]


def formula_cells(content: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(content))
    return [
        f"{sheet.title}!{cell.coordinate}={cell.value!r}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def xlsx_texts(content: bytes) -> set[str]:
    book = load_workbook(io.BytesIO(content))
    return {str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value is not None}


def csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


@pytest.fixture(scope="module")
def people(server: dict[str, str], django_db_blocker) -> dict[str, HttpClient]:  # type: ignore[no-untyped-def]
    return {p: persona_day.staff(server, f"demo-{p}") for p in ("intake", "director", "gridworker")}


def test_no_export_holds_a_live_formula(  # type: ignore[no-untyped-def]
    server: dict[str, str], people: dict[str, HttpClient], django_db_blocker
) -> None:
    from zongzhi.grid.models import GridWorker

    day = persona_day.Day()
    clerk, director, worker = people["intake"], people["director"], people["gridworker"]
    for text in PAYLOADS:
        persona_day.intake(day, clerk, title=text, party=text, major=True)
    with django_db_blocker.unblock():
        grid = GridWorker.objects.get(user__username="demo-gridworker").grid.code
    code = persona_day.household(day, worker, grid, '=HYPERLINK("http://evil.example/")嘎查')
    for text in PAYLOADS:
        persona_day.resident(day, worker, code, text)

    village = persona_day.VILLAGE
    cases_xlsx = day.download(director, "cases.xlsx", f"/staff/transfer/export/cases.xlsx?region={village}")
    cases_csv = day.download(director, "cases.csv", f"/staff/transfer/export/cases.csv?region={village}")
    residents_xlsx = day.download(director, "residents.xlsx", f"/staff/transfer/export/residents.xlsx?region={grid}")
    residents_csv = day.download(director, "residents.csv", f"/staff/transfer/export/residents.csv?region={grid}")
    day.download(director, "supervisions.xlsx", f"/staff/transfer/export/supervisions.xlsx?region={village}")
    day.download(director, "template.xlsx", "/staff/transfer/import/templates/residents.xlsx")
    pack = persona_day.meeting_pack(day, director)
    rejects = persona_day.import_with_rejects(day, director, grid, PAYLOADS, server)
    month = datetime.date.today().strftime("%Y-%m")
    day.download(director, "report.xlsx", f"/staff/dashboards/{persona_day.XILINHOT}/report.xlsx?period={month}")

    for name, content in day.downloads.items():
        if name.endswith(".xlsx"):
            assert formula_cells(content) == [], name
    # The text is there, as text: titles and names in the lists, the pack's agenda, the rejected rows.
    for text in PAYLOADS:
        assert text in xlsx_texts(cases_xlsx) and text in xlsx_texts(residents_xlsx) and text in xlsx_texts(pack)
        assert "'" + text in csv_cells(cases_csv) and "'" + text in csv_cells(residents_csv)
    rejected = xlsx_texts(rejects)
    assert PAYLOADS[1] in rejected and PAYLOADS[3] in rejected  # the odd rows were refused
    # The cells are marked as text for the spreadsheet program too (quote prefix).
    book = load_workbook(io.BytesIO(cases_xlsx))
    marked = [c for row in book.worksheets[0].iter_rows() for c in row if c.value in PAYLOADS]
    assert marked and all(c.quotePrefix and c.data_type == "s" for c in marked)


def test_the_helper_covers_tab_and_carriage_return() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert sheets.csv_cell(start + "x") == "'" + start + "x"
        assert sheets.from_csv_text("'" + start + "x") == start + "x"
    assert sheets.csv_cell(-5) == -5 and sheets.csv_cell("巴特尔") == "巴特尔" and sheets.csv_cell(None) == ""
    assert sheets.from_csv_text("'巴特尔") == "'巴特尔"  # an apostrophe the writer did not add stays
