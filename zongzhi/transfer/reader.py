"""Reading spreadsheets as offices keep them: XLSX or CSV (UTF-8, UTF-8 with BOM, GBK/GB18030).

Rows are streamed (openpyxl read-only mode; CSV line by line), so memory stays flat whatever the
file's size. The header row is found among the first rows (titles, merged cells and blank rows
above it are skipped) and columns are matched by their header name or a common synonym, in any
order. Cell values are cleaned here (full-width folded, stray spaces removed); what a value means
is decided by the kind's validation.
"""

import codecs
import csv
import datetime
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from zongzhi import sheets

HEADER_SEARCH_ROWS = 10  # the header is among the first rows; titles and notes may sit above it
SNIFF_BYTES = 256 * 1024
EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial day 0 in Excel's 1900 date system (after its 1900 leap bug)


class FileProblem(Exception):
    """The file as a whole cannot be read (unknown format, undecodable text, no header row)."""


@dataclass(frozen=True)
class Column:
    """One column a kind understands: its key, template header, synonyms, whether required, a note."""

    key: str
    header: str
    synonyms: tuple[str, ...] = ()
    required: bool = False
    note: str = ""
    example: str = ""


@dataclass
class Row:
    """A data row: where it is in the file and its cleaned values by column key (missing → "")."""

    sheet: str
    number: int  # 1-based, as the spreadsheet program shows it
    values: dict[str, Any]
    raw: tuple[Any, ...]


@dataclass
class Table:
    """An opened file: the header found, which column is where, and the rows after the header."""

    sheet: str
    header_row: int
    headers: tuple[str, ...]
    positions: dict[str, int]  # column key -> 0-based position in the file
    rows: Iterator[Row]

    def header_of(self, key: str) -> str:
        position = self.positions.get(key)
        return self.headers[position] if position is not None else key

    def letter_of(self, key: str) -> str:
        position = self.positions.get(key)
        return column_letter(position) if position is not None else ""


def column_letter(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as the spreadsheet program names it."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_SPACES = re.compile(r"\s+")
_HEADER_NOISE = re.compile(r"[*＊※]|[(（【\[][^)）】\]]*[)）】\]]|[:：]$")


def clean_text(value: Any) -> str:
    """A cell as text: full-width letters and digits folded (NFKC), runs of spaces made one, ends trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    text = unicodedata.normalize("NFKC", str(value)).replace("\u3000", " ")
    return _SPACES.sub(" ", text).strip()


def header_key(value: Any) -> str:
    """A header cell compared loosely: no spaces, no required marks or notes in brackets, no colon."""
    text = _SPACES.sub("", clean_text(value))
    return _HEADER_NOISE.sub("", text).lower()


def _decode_csv(path: Path) -> tuple[str, str]:
    """The file's encoding (utf-8-sig, utf-8 or gb18030, which covers GBK) and the sniffed delimiter."""
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"  # a superset of GBK and GB2312, as Excel in China saves "CSV"
    text = sample.decode(encoding, errors="ignore")
    first_lines = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    counts = {d: first_lines.count(d) for d in (",", "\t", ";", "，")}
    delimiter = max(counts, key=lambda d: counts[d])
    return encoding, delimiter if counts[delimiter] else ","


def _csv_rows(path: Path) -> Iterator[tuple[str, int, tuple[Any, ...]]]:
    encoding, delimiter = _decode_csv(path)
    with path.open("r", encoding=encoding, newline="") as handle:
        try:
            for number, cells in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
                yield path.stem, number, tuple(sheets.from_csv_text(c) for c in cells)
        except UnicodeDecodeError as error:
            raise FileProblem(
                _("文件编码无法识别（第 %(pos)d 字节附近）：请另存为 UTF-8 或 GBK 编码的 CSV，或 XLSX。")
                % {"pos": error.start}
            ) from error


_DIMENSION_REF = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([^"]+)"')


def _declared_size(self: Any) -> None:
    """The sheet's declared size, read from the head of its XML.

    Replaces openpyxl's `ReadOnlyWorksheet._get_size` (3.1.5), which looks for <dimension> among
    *end* events and so parses a sheet that declares none (openpyxl's own write-only files, some
    exporters) to its last row before the first row is read: 200 s for a million rows. <dimension>
    comes before <sheetData>, so the head is enough.
    """
    from openpyxl.utils.cell import range_boundaries

    with self._get_source() as source:
        head = source.read(65536).split(b"<sheetData", 1)[0]
    found = _DIMENSION_REF.search(head)
    if found is not None:
        ref = found.group(1).decode()
        try:
            bounds = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        except ValueError:
            return
        self._min_column, self._min_row, self._max_column, self._max_row = bounds


def _patch_openpyxl() -> None:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _declared_size  # type: ignore[method-assign]


_patch_openpyxl()


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[str, int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zip, XML or format errors: all mean "not a workbook we can read"
        raise FileProblem(_("无法读取 XLSX 文件：%(error)s") % {"error": error}) from error
    try:
        worksheet = book[sheet] if sheet else book.worksheets[0]
        # A file saved by some tools declares a wrong size; reset it so every row is read.
        worksheet.reset_dimensions()
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield worksheet.title, number, tuple(cells)
    finally:
        book.close()


def raw_rows(path: Path, sheet: str | None = None) -> Iterator[tuple[str, int, tuple[Any, ...]]]:
    """(sheet, row number, cell values) of every row, empty rows included, streamed."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv_rows(path)
    raise FileProblem(_("不支持的文件类型“%(suffix)s”：请上传 XLSX 或 CSV 文件。") % {"suffix": suffix or "?"})


def _match(headers: tuple[Any, ...], columns: list[Column]) -> dict[str, int]:
    names: dict[str, str] = {}
    for column in columns:
        for name in (column.header, *column.synonyms):
            names.setdefault(header_key(name), column.key)
    positions: dict[str, int] = {}
    for position, cell in enumerate(headers):
        key = names.get(header_key(cell))
        if key is not None and key not in positions:
            positions[key] = position
    return positions


def open_table(path: Path, columns: list[Column], sheet: str | None = None) -> Table:
    """Find the header row among the first rows and return the table's rows as they stream."""
    stream = raw_rows(path, sheet)
    looked: list[tuple[str, int, tuple[Any, ...]]] = []
    best: tuple[int, int] | None = None  # (matched columns, index in looked)
    for item in stream:
        looked.append(item)
        matched = len(_match(item[2], columns))
        if matched and (best is None or matched > best[0]):
            best = (matched, len(looked) - 1)
        if len(looked) >= HEADER_SEARCH_ROWS:
            break
    if best is None or best[0] < min(2, len(columns)):
        wanted = "、".join(c.header for c in columns if c.required)
        raise FileProblem(
            _("前 %(n)d 行中找不到表头：应有“%(wanted)s”等列。") % {"n": HEADER_SEARCH_ROWS, "wanted": wanted}
        )
    sheet_name, header_row, header_cells = looked[best[1]]
    headers = tuple(_SPACES.sub(" ", str(c)).strip() if c is not None else "" for c in header_cells)  # as spelled
    positions = _match(header_cells, columns)

    def rows() -> Iterator[Row]:
        def pending() -> Iterator[tuple[str, int, tuple[Any, ...]]]:
            yield from looked[best[1] + 1 :]
            yield from stream

        for name, number, cells in pending():
            if not any(clean_text(c) for c in cells):
                continue  # empty rows, as offices leave them between blocks
            values = {key: cells[pos] if pos < len(cells) else None for key, pos in positions.items()}
            yield Row(sheet=name, number=number, values=values, raw=cells)

    return Table(sheet=sheet_name, header_row=header_row, headers=headers, positions=positions, rows=rows())


# Values


_DATE = re.compile(r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: Any) -> datetime.date | None:
    """A date from a cell: an Excel date or serial number, 2025年3月5日, 2025.3.5, 2025/03/05, 2025-03-05,
    20250305. None when empty; ValueError when it is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's serial range (to 9999-12-31)
            return EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise ValueError(value)
    text = clean_text(value)
    if not text:
        return None
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        if re.fullmatch(r"\d{1,5}(\.\d+)?", text):  # a serial number that came through a CSV
            return parse_date(float(text))
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return datetime.date(year, month, day)


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "无", "不是"}


def parse_bool(value: Any, default: bool) -> bool:
    """是/否, Y/N, 1/0, √/× as a boolean; empty is the default; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def compact(value: Any) -> str:
    """A code or number cell without any spaces (IDs, phones, region codes)."""
    return clean_text(value).replace(" ", "")
