"""Case numbers `{6-digit county code}{yyyymmdd}{4-digit sequence}`, unique under concurrent intake."""

import datetime

from django.db import connection

from zongzhi.cases.models import CaseNumberSequence

_TABLE = CaseNumberSequence._meta.db_table
# One statement that creates or increments the day's counter and returns it: atomic on both
# PostgreSQL (row lock on conflict) and SQLite (one writer at a time), so no two intakes share it.
_NEXT = (
    f"INSERT INTO {_TABLE} (county, day, last) VALUES (%s, %s, 1) "  # noqa: S608
    f"ON CONFLICT (county, day) DO UPDATE SET last = {_TABLE}.last + 1 RETURNING last"
)


def next_case_number(county: str, day: datetime.date) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_NEXT, [county, day])
        sequence = cursor.fetchone()[0]
    if sequence > 9999:
        raise ValueError(f"more than 9999 cases in county {county} on {day}")
    return f"{county}{day:%Y%m%d}{sequence:04d}"
