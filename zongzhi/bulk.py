"""Raw bulk inserts of tuples, for loads too big for model instances (demo data, imports).

COPY on PostgreSQL, batched executemany on SQLite. Each value is adapted by its field, as the ORM
would: encrypted columns are encrypted, dates, decimals and JSON go through the backend's adapters.
"""

import functools
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models

from zongzhi.crypto import EncryptedTextField

SQLITE_BATCH = 2000


def field_adapter(field: Any) -> Callable[[Any], Any] | None:
    """How a value of the field becomes a query parameter: the backend's own adapters, called directly."""
    ops = connection.ops
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value  # encrypts
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return functools.partial(
            ops.adapt_decimalfield_value, max_digits=field.max_digits, decimal_places=field.decimal_places
        )
    if isinstance(field, models.JSONField):
        return functools.partial(ops.adapt_json_value, encoder=field.encoder)
    return None  # text, numbers, booleans and keys go as they are


def insert_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert `rows` (tuples in the order of `columns`; a foreign key as `<name>_id`) into the model's table."""
    ops = connection.ops
    adapters = [
        field_adapter(model._meta.get_field(c.removesuffix("_id") if c.endswith("_id") else c)) for c in columns
    ]
    table, names = ops.quote_name(model._meta.db_table), ", ".join(ops.quote_name(c) for c in columns)
    adapted = (
        tuple(v if adapt is None or v is None else adapt(v) for v, adapt in zip(row, adapters, strict=True))
        for row in rows
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in adapted:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - our names
        while batch := list(itertools.islice(adapted, SQLITE_BATCH)):
            cursor.executemany(sql, batch)
