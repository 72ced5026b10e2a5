"""Spreadsheets as offices send them, made by the tests: titles above the header, merged cells,
columns in any order under synonyms, full-width digits, stray spaces, empty rows, every date
spelling, CSV in UTF-8, UTF-8 with BOM, GBK and GB18030."""

import csv
import datetime
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from zongzhi.identity import make_resident_id

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９ＸＸ")


def person_id(seq: int, birth: datetime.date = datetime.date(1990, 1, 1), region6: str = "152502") -> str:
    return make_resident_id(region6, birth, seq)


def write_xlsx(
    path: Path,
    headers: list[str],
    rows: list[list[Any]],
    *,
    title: str | None = None,
    blank_rows_above: int = 0,
    group_header: bool = False,
) -> Path:
    """An XLSX with an optional merged title row, blank rows and a merged group-header row above the header."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "居民"
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for _ in range(blank_rows_above):
        sheet.append([])
    if group_header:
        sheet.append(["户信息", None, None, "成员信息"])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        sheet.merge_cells(start_row=row, start_column=4, end_row=row, end_column=len(headers))
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, headers: list[str], rows: list[list[Any]], encoding: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
