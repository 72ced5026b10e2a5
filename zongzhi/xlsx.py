"""A streamed one-sheet XLSX writer for the list exports: rows go straight into the zip as XML.

openpyxl's write-only mode builds an element per cell and serializes it through et_xmlfile (pure
Python without lxml): about 2,000 rows of 13 columns a second here, so a county's 262,000 residents
took minutes. This writes the same kind of file (inline strings, one sheet, a header row) with one
string join a row. Cells follow `zongzhi.sheets`: formula-like text is a string cell with Excel's
quote prefix (style 1), never a formula; characters XML cannot hold (control characters) are dropped.
"""

import datetime
import decimal
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any
from xml.sax.saxutils import quoteattr

from zongzhi.sheets import FORMULA_STARTS

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XLSX = f"{SHEET_TYPE}.sheet"  # the media type of the file

CONTENT_TYPES = (
    HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{SHEET_TYPE}.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    HEAD + f'<Relationships xmlns="{PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    HEAD + f'<Relationships xmlns="{PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/></Relationships>'
)
# Style 0 the default, style 1 the quote prefix (text that would read as a formula stays text when edited).
STYLES = (
    HEAD + f'<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# Escaped for XML text; the control characters XML 1.0 forbids are dropped (openpyxl refuses them).
_TEXT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{chr(c): None for c in range(32) if chr(c) not in "\t\n\r"}}
)
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
ROWS_PER_WRITE = 1000


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMNS = [_column(i) for i in range(26)]  # A … Z, extended when a row is wider


def _cell(ref: str, value: Any) -> str:
    if value.__class__ is str:  # most cells: checked first
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    elif isinstance(value, int | float | decimal.Decimal):
        return f'<c r="{ref}"><v>{value}</v></c>'
    elif isinstance(value, datetime.date):
        text = value.isoformat()
    else:
        text = str(value)
    style = ' s="1"' if text.startswith(FORMULA_STARTS) else ""
    if _SPECIAL.search(text) is not None:
        text = text.translate(_TEXT)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{text}</t></is></c>'


def rows_xml(rows: Iterable[Iterable[Any]], first: int) -> str:
    """The `<row>` elements of `rows`, numbered from `first` (1 is the header row).

    A pure function of its rows: the export's worker processes render their chunks with it."""
    parts = []
    for number, values in enumerate(rows, start=first):
        values = tuple(values)
        while len(_COLUMNS) < len(values):
            _COLUMNS.append(_column(len(_COLUMNS)))
        cells = "".join(_cell(f"{_COLUMNS[i]}{number}", v) for i, v in enumerate(values))
        parts.append(f'<row r="{number}">{cells}</row>')
    return "".join(parts)


def write_xlsx_blocks(out: IO[bytes], title: str, headers: Iterable[Any], blocks: Iterable[tuple[bytes, int]]) -> int:
    """Write one sheet named `title`: the header row, then each block of rendered rows (`rows_xml`
    encoded, numbered on from 2, and how many rows it holds) in order; returns the rows written."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr(
            "xl/workbook.xml",
            HEAD + f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
            f'<sheet name={quoteattr(title[:31])} sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/styles.xml", STYLES)
        count = 0
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'{HEAD}<worksheet xmlns="{MAIN}"><sheetData>{rows_xml([headers], 1)}'.encode())
            for block, rows in blocks:
                sheet.write(block)
                count += rows
            sheet.write(b"</sheetData></worksheet>")
    return count


def write_xlsx(out: IO[bytes], title: str, headers: Iterable[Any], rows: Iterable[Iterable[Any]]) -> int:
    """Write one sheet named `title` (header row, then `rows`) into `out`; returns the rows written."""
    return write_xlsx_blocks(out, title, headers, _blocks(rows))


def _blocks(rows: Iterable[Iterable[Any]]) -> Iterator[tuple[bytes, int]]:
    first = 2
    for chunk in _batched(rows):
        yield rows_xml(chunk, first).encode(), len(chunk)
        first += len(chunk)


def _batched(rows: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, ROWS_PER_WRITE)):
        yield chunk
