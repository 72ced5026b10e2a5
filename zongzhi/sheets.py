"""Spreadsheet and CSV cells written as text, never as formulas (CSV/formula injection).

Every file the platform writes for a spreadsheet program (list exports, the meeting pack, the
import templates and rejects, the statistics tables) goes through `row` (XLSX) or `csv_row` (CSV).
Text that a user typed, such as a case title `=HYPERLINK("http://…")` or a party named `@SUM(…)`,
would otherwise run as a formula when the file is opened: in XLSX such a cell is stored as a string
with Excel's quote prefix (shown as typed, still text when edited); in CSV, which has no cell types,
it gets a leading apostrophe, as spreadsheet programs do for typed text. The import reader strips
that apostrophe again, so an export can be re-imported.
"""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TEXT_PREFIX = "'"


def is_formula_like(value: Any) -> bool:
    """Text that a spreadsheet program would read as a formula (or a DDE command) when opened."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def cell(sheet: Any, value: Any) -> Any:
    """The value for `sheet.append`: itself, or a text cell when it would read as a formula."""
    if not is_formula_like(value):
        return value
    text = WriteOnlyCell(sheet, value=value)
    text.data_type = "s"  # openpyxl types a leading "=" as a formula
    text.quotePrefix = True  # Excel keeps it text when the cell is edited
    return text


def row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row for `sheet.append` (write-only or normal worksheet) with every cell safe."""
    return [cell(sheet, value) for value in values]


def append(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row of values to an openpyxl worksheet, formula-like text written as text."""
    sheet.append(row(sheet, values))


def csv_cell(value: Any) -> Any:
    """A CSV cell: None as empty, formula-like text behind an apostrophe."""
    if value is None:
        return ""
    return CSV_TEXT_PREFIX + value if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for `csv.writer.writerow` with every cell safe: `csv_cell` of each, inlined (an export
    makes millions of cells, and two calls a cell were a fifth of a county's CSV)."""
    return [
        ""
        if value is None
        else CSV_TEXT_PREFIX + value
        if isinstance(value, str) and value.startswith(FORMULA_STARTS)
        else value
        for value in values
    ]


def from_csv_text(value: str) -> str:
    """A cell read back from a CSV: the apostrophe `csv_cell` put before formula-like text removed."""
    if value.startswith(CSV_TEXT_PREFIX) and is_formula_like(value[1:]):
        return value[1:]
    return value
