"""Running an import: validate every row first, then write the valid ones in one transaction.

Pass 1 streams the file, validates it chunk by chunk (with the database for "already present"),
writes the rejected rows with their reasons to an XLSX as it goes, and spools the valid rows,
already normalized, to a temporary file. Pass 2 writes the spooled rows inside one transaction:
a cancel, an error or a killed process leaves nothing of the batch, and the natural keys make a
rerun update what is there instead of duplicating it. Memory holds one chunk plus the keys seen
(for duplicates inside the file), whatever the file's size.
"""

import abc
import datetime
import os
import pickle
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import reset_queries, transaction
from django.utils.translation import gettext as _

from zongzhi import sheets
from zongzhi.access import Scope
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.identity import mask_numbers_in_text, mask_phone, mask_resident_id
from zongzhi.transfer.reader import Column, FileProblem, Row, Table, open_table
from zongzhi.transfer.report import Problem, Report

CHUNK = 2000
REASON_HEADER = "问题说明"
ROW_HEADER = "原文件行号"
# Columns holding a resident ID or a phone, masked in the rejects file as on screen.
PERSONAL_COLUMNS: dict[str, Callable[[str], str]] = {
    "id_number": mask_resident_id,
    "party_id": mask_resident_id,
    "phone": mask_phone,
    "party_phone": mask_phone,
}
# Columns of codes (case numbers have 18 digits, like an ID): never taken for personal data.
CODE_COLUMNS = frozenset({"household", "grid", "summer_grid", "winter_grid", "code", "original", "region", "number"})


class Cancelled(Exception):
    """The user asked to stop; raised inside the write transaction so it rolls back."""


@dataclass
class Outcome:
    """A validated row: its problems by column key (empty when valid) and the record to write."""

    row: Row
    problems: list[tuple[str, str]] = field(default_factory=list)
    record: Any = None


@dataclass
class Context:
    """What a kind needs while importing: who, where, and what it has seen so far in the file."""

    scope: Scope
    actor: Any = None
    seen: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, int] = field(default_factory=dict)

    def count(self, label: str, n: int = 1) -> None:
        self.detail[label] = self.detail.get(label, 0) + n


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportKind(abc.ABC):
    """One kind of import: its columns and template, how a chunk is validated and how it is written."""

    name = ""
    label: Any = ""
    columns: list[Column] = []

    @abc.abstractmethod
    def validate(self, rows: list[Row], ctx: Context) -> list[Outcome]:
        """One outcome per row: the normalized record, or the row's problems."""

    @abc.abstractmethod
    def write(self, records: list[Any], ctx: Context) -> Counts:
        """Write the valid records of a chunk (inside the import's transaction) and count them."""


Progress = Callable[[str, int, int | None], None]


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def estimate_rows(path: Path) -> int | None:
    """How many rows the file has, cheaply: the size the XLSX's sheet declares, else its `<row` tags
    counted in the streamed XML (some writers declare none), or the CSV's line count."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True)
            part = book.worksheets[0]._worksheet_path  # type: ignore[union-attr]  # not .max_row: it may scan all
            book.close()
            with zipfile.ZipFile(path) as archive, archive.open(part) as xml:
                head = xml.read(4096)
                if declared := _DIMENSION.search(head):
                    return int(declared.group(1))
                return head.count(b"<row") + sum(c.count(b"<row") for c in iter(lambda: xml.read(1 << 20), b""))
        except Exception:
            return None
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


class _Rejects:
    """The rejected rows with their reasons and source position, streamed into an XLSX (mode 0600).

    Resident IDs and phones are masked (their columns whole, and IDs or mobiles typed elsewhere). The
    file names the row (原文件行号) and, in each reason, the column of each problem: the user fixes
    the original file there, or types the full numbers back into this one, and uploads it again.
    """

    def __init__(self, path: Path | None, table: Table) -> None:
        self.path = path
        self.book: Any = None
        self.sheet: Any = None
        self.headers = [*table.headers, REASON_HEADER, ROW_HEADER]
        self.width = len(table.headers)
        self.masks = {
            position: PERSONAL_COLUMNS[key] for key, position in table.positions.items() if key in PERSONAL_COLUMNS
        }
        self.codes = {position for key, position in table.positions.items() if key in CODE_COLUMNS}

    def add(self, row: Row, reasons: list[str]) -> None:
        if self.path is None:
            return
        if self.book is None:
            from openpyxl import Workbook

            self.book = Workbook(write_only=True)
            self.sheet = self.book.create_sheet(_("退回行"))
            sheets.append(self.sheet, self.headers)
        cells = list(row.raw[: self.width]) + [None] * (self.width - len(row.raw))
        shown = [self._masked(position, value) for position, value in enumerate(cells)]
        sheets.append(self.sheet, [*shown, "；".join(reasons), row.number])

    def _masked(self, position: int, value: Any) -> Any:
        if value is None or isinstance(value, (bool, datetime.date, datetime.datetime, datetime.time)):
            return value
        text = str(value) if not isinstance(value, float) or not value.is_integer() else str(int(value))
        if position in self.masks:
            return self.masks[position](text)
        if position in self.codes:
            return value
        masked = mask_numbers_in_text(text)
        return masked if masked != text else value

    def close(self) -> bool:
        if self.book is None or self.path is None:
            return False
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # a file left there before keeps no wider mode
        with os.fdopen(descriptor, "wb") as out:
            self.book.save(out)
        return True


def _where(kind: ImportKind, table: Table, key: str) -> str:
    letter = table.letter_of(key)
    if letter:
        return f"{letter}列（{table.header_of(key)}）"
    return next((c.header for c in kind.columns if c.key == key), key)  # a column the file does not have


def run_import(
    kind: ImportKind,
    path: Path,
    *,
    scope: Scope,
    actor: Any = None,
    actor_name: str = "",
    file_name: str = "",
    dry_run: bool = False,
    accept_valid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    chunk: int = CHUNK,
) -> Report:
    """Validate the whole file, then (unless dry run or refused) write its valid rows atomically."""
    report = Report(kind=str(kind.label), file_name=file_name or path.name, dry_run=dry_run, accept_valid=accept_valid)
    progress = progress or (lambda phase, done, total: None)
    cancelled = cancelled or (lambda: False)
    ctx = Context(scope=scope, actor=actor)
    try:
        table = open_table(path, kind.columns)
    except FileProblem as problem:
        report.add(Problem(sheet=path.name, row=0, column="", reason=str(problem)))
        return report
    missing = [c.header for c in kind.columns if c.required and c.key not in table.positions]
    if missing:
        reason = _("缺少必填列：%(cols)s。") % {"cols": "、".join(missing)}
        report.add(Problem(sheet=table.sheet, row=table.header_row, column="", reason=reason))
        return report

    total = estimate_rows(path)
    total = max(total - table.header_row, 0) if total else None
    rejects = _Rejects(rejects_path, table)
    with tempfile.TemporaryFile() as spool:
        try:
            for rows in _chunks(table.rows, chunk):
                if cancelled():
                    report.cancelled = True
                    return report
                _check(kind, rows, ctx, table, report, rejects, spool)
                progress("validate", report.rows, total)
                reset_queries()  # with DEBUG on, Django keeps every query's SQL (IN lists of 2,000 keys)
        except FileProblem as problem:
            report.add(Problem(sheet=table.sheet, row=report.rows + table.header_row, column="", reason=str(problem)))
            return report
        finally:
            report.detail = dict(ctx.detail)
            rejects.close()
        if report.valid == 0 or (report.rejected and not accept_valid):
            return report
        try:
            _write(kind, spool, ctx, report, progress, cancelled, actor, actor_name)
        except Cancelled:
            report.cancelled = True
            report.inserted = report.updated = report.unchanged = 0
    return report


def _check(
    kind: ImportKind, rows: list[Row], ctx: Context, table: Table, report: Report, rejects: _Rejects, spool: IO[bytes]
) -> None:
    valid = []
    for outcome in kind.validate(rows, ctx):
        report.rows += 1
        if outcome.problems:
            report.rejected += 1
            for key, reason in outcome.problems:
                column = _where(kind, table, key) if key else ""
                report.add(Problem(sheet=outcome.row.sheet, row=outcome.row.number, column=column, reason=reason))
            rejects.add(
                outcome.row,
                [f"{_where(kind, table, key)}：{reason}" if key else reason for key, reason in outcome.problems],
            )
        else:
            report.valid += 1
            valid.append(outcome.record)
    if valid:
        pickle.dump(valid, spool, protocol=pickle.HIGHEST_PROTOCOL)


def _spooled(spool: IO[bytes]) -> Iterator[list[Any]]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 - our own temporary file, written just before
        except EOFError:
            return


def _write(
    kind: ImportKind,
    spool: IO[bytes],
    ctx: Context,
    report: Report,
    progress: Progress,
    cancelled: Callable[[], bool],
    actor: Any,
    actor_name: str,
) -> None:
    ctx.detail.clear()
    done = 0
    with transaction.atomic():
        for records in _spooled(spool):
            if cancelled():
                raise Cancelled
            counts = kind.write(records, ctx)
            report.inserted += counts.inserted
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            done += len(records)
            progress("write", done, report.valid)
            reset_queries()
        audit_record(
            action=AuditEntry.Action.DATA_IMPORTED,
            actor=actor,
            actor_name=actor_name,
            target=f"import:{kind.name}",
            detail={
                "file": report.file_name,
                "dry_run": report.dry_run,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )
        if report.dry_run:
            # The dry run wrote to learn what would be inserted or updated; none of it stays.
            transaction.set_rollback(True)
    report.detail = dict(ctx.detail)
    report.written = not report.dry_run
