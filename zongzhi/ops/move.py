"""Moving a SQLite pilot into PostgreSQL: every row of every table, as stored, then checked.

The target is a new PostgreSQL database: `move_to_postgresql` migrates it, removes what the
migrations themselves put there (content types, the default taxonomy …: the pilot's own rows take
their place, with their ids), copies each table with COPY inside one transaction (foreign keys are
deferred, so the order of tables does not matter), moves every sequence past the largest id, and
commits. Values are copied as stored, not through the models: encrypted columns stay the same
ciphertext, the audit chain the same entries. Then it compares the row count of every table
with the pilot's, walks the audit chain and recounts the dashboards' tallies in the new database.

It is a copy of the database, like `pg_restore`, not a change to any case: no event, no audit
entry of a business action is written; one audit entry records the move itself.
"""

import datetime
import decimal
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction
from psycopg import sql
from psycopg.types.json import Jsonb

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record, audit_verify
from zongzhi.dashboards import rollups


class MoveError(Exception):
    """A move that cannot go on; the message says why, in Chinese."""


@dataclass(frozen=True)
class Moved:
    counts: dict[str, int]
    audit_entries: int
    problems: list[str]


def _aware(value: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)  # Django keeps UTC in SQLite


def _converter(field: models.Field) -> Callable[[Any], Any] | None:  # type: ignore[type-arg]
    """How a value SQLite returns becomes the value PostgreSQL's column takes (None: as it is)."""
    kind = field.get_internal_type()
    if kind == "BooleanField":
        return bool
    if kind == "DateTimeField":
        return _aware
    if kind == "DateField":
        return datetime.date.fromisoformat
    if kind == "TimeField":
        return datetime.time.fromisoformat
    if kind == "DecimalField":
        places = field.decimal_places  # type: ignore[attr-defined]
        return lambda v: round(decimal.Decimal(str(v)), places)
    if kind == "UUIDField":
        return lambda v: uuid.UUID(str(v))
    if kind == "JSONField":
        return lambda v: Jsonb(json.loads(v))
    if kind == "DurationField":
        return lambda v: datetime.timedelta(microseconds=v)
    return None


def _models() -> list[type[models.Model]]:
    """Every table of the platform, the many-to-many links' own tables included (a case's related cases,
    a station's households, an org's domains …), which `get_models()` leaves out by default."""
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def _rows(pilot: sqlite3.Connection, model: type[models.Model]) -> Iterator[list[Any]]:
    fields = model._meta.concrete_fields
    converters = [_converter(f) for f in fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    cursor = pilot.execute(f'SELECT {columns} FROM "{model._meta.db_table}"')  # noqa: S608 - our own tables
    while batch := cursor.fetchmany(5000):
        for row in batch:
            yield [v if v is None or c is None else c(v) for v, c in zip(row, converters, strict=True)]


def _count_sqlite(pilot: sqlite3.Connection, table: str) -> int:
    return pilot.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - our own tables


def _count_here(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return cursor.fetchone()[0]


def move(source: Path, *, actor_name: str = "move_to_postgresql") -> Moved:
    """Copy the SQLite pilot database at `source` into this server's new PostgreSQL database."""
    if connection.vendor != "postgresql":
        raise MoveError("目标数据库必须是 PostgreSQL：请把 DATABASE_URL 设为新建的 PostgreSQL 数据库。")
    if not source.is_file():
        raise MoveError(f"找不到试点数据库文件：{source}")
    pilot = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        applied = {tuple(r) for r in pilot.execute("SELECT app, name FROM django_migrations")}
    except sqlite3.DatabaseError as error:
        raise MoveError(f"{source} 不是平台的 SQLite 数据库：{error}") from None
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        here = {tuple(r) for r in cursor.fetchall()}
    if missing := sorted(here - applied):
        raise MoveError(f"试点数据库缺少迁移 {missing[0][0]}.{missing[0][1]} 等：请先在试点上运行 manage.py migrate。")
    all_models = _models()
    if _count_here(AuditEntry._meta.db_table) or _count_here("cases_case"):
        raise MoveError("目标数据库已有数据：只能迁入新建的空数据库。")
    counts = {m._meta.db_table: _count_sqlite(pilot, m._meta.db_table) for m in all_models}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for model in all_models:  # what the migrations seeded gives way to the pilot's own rows
            if model is not AuditEntry and _count_here(model._meta.db_table):
                cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(model._meta.db_table)))
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        for model in all_models:
            if not counts[model._meta.db_table]:
                continue
            columns = sql.SQL(", ").join(sql.Identifier(f.column) for f in model._meta.concrete_fields)
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(model._meta.db_table), columns)
            with raw.copy(statement) as copy:
                for row in _rows(pilot, model):
                    copy.write_row(row)
        for statement in connection.ops.sequence_reset_sql(no_style(), all_models):
            cursor.execute(statement)
    pilot.close()
    problems = []
    for table, expected in counts.items():
        if (found := _count_here(table)) != expected:
            problems.append(f"表 {table}：试点 {expected} 行，迁入后 {found} 行")
    verified = audit_verify()  # the chain as copied; `audit_verify` compares it with the checkpoints
    problems.extend(f"审计日志：{b.message}" for b in verified.chain_breaks)
    checked = verified.checked
    problems.extend(rollups.verify())
    if not problems:
        audit_record(action=AuditEntry.Action.DATA_MOVED, actor_name=actor_name, target=str(source.name), detail=counts)
    return Moved(counts, checked, problems)
