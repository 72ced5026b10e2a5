# ruff: noqa: S608 - the SQL is built from our own table and column names; values are parameters
"""Keeping the rollups: one case's change applied as a difference, a full rebuild, and a recount.

What a case contributes is computed by one query (`fact_values`) from the source tables: the case
row, its agreement and instalments, follow-ups and supervisions. The services call
`case_changed` inside their transaction (every change to a case is followed by its timeline event,
and `events.record` calls it), which recomputes the case's fact, compares it with the stored one
and adds the difference to the tallies of the case's region and every region above it.
`rebuild` recomputes everything in SQL; `verify` recounts from the source tables and lists every
tally that differs.

化解成功 (settled) and 化解不成 (failed) count closed cases by their outcome: a case resolved but not
yet closed counts in neither, so in any period 化解成功 + 化解不成 ≤ 已结案 (the facts add up the
same way at every level). Changing this definition needs `manage.py rollups --rebuild` once.

Overdue means: still open and supervised since it fell due (the deadline sweep issues a 提示函 as
soon as a case passes its `due_at`), so the figure follows the sweep and is the same on a recount.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case as When_,
)
from django.db.models import (
    Count,
    DateField,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from zongzhi.cases.models import OPEN_STATES, Agreement, Assignment, Case, FollowUp, Instalment, State, Supervision
from zongzhi.dashboards.models import AMOUNTS, MEASURES, ORG_MEASURES, CaseFact, DayTally, OrgTally, Tally
from zongzhi.regions import codes

TallyKey = tuple[str, datetime.date, int, str]  # region code of the case, month, category, state
ZERO = Decimal("0.00")
SETTLED = (Case.Outcome.AGREEMENT, Case.Outcome.RESOLVED_OTHER)
FAILED = tuple(o for o in Case.Outcome.values if o not in SETTLED)
LEAD_STATUSES = (Assignment.Status.PENDING, Assignment.Status.SIGNED, Assignment.Status.DONE)


class DaysBetween(Func):
    """Whole days from the second date to the first (both already local dates)."""

    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def _flag(*conditions: Any, **lookups: Any) -> When_:
    return When_(When(Q(*conditions, **lookups), then=Value(1)), default=Value(0), output_field=IntegerField())


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("case").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _annotations() -> dict[str, Any]:
    tz = timezone.get_current_timezone()
    day = TruncDate("registered_at", tzinfo=tz)
    closed_day = TruncDate("closed_at", tzinfo=tz)
    own = {"case": OuterRef("pk"), "region_code": OuterRef("region_code")}  # a case's rows share its code
    supervisions = Supervision.objects.filter(**own)
    follow_ups = FollowUp.objects.filter(**own)
    agreement = Agreement.objects.filter(**own)
    paid = (
        Instalment.objects.filter(agreement__case=OuterRef("pk"), region_code=OuterRef("region_code"))
        .filter(agreement__region_code=OuterRef("region_code"))
        .order_by()
        .values("agreement__case")
        .annotate(s=Sum("paid_amount"))
        .values("s")
    )
    lead = Assignment.objects.filter(**own, role=Assignment.Role.LEAD, status__in=LEAD_STATUSES).order_by("-id")
    money = {"output_field": Case._meta.get_field("amount")}
    measures: dict[str, Any] = {
        "cases": Value(1, output_field=IntegerField()),
        "major": _flag(major=True),
        "foreign_related": _flag(foreign_related=True),
        "escalated": _flag(escalations__gt=0),
        "overdue": _flag(
            Exists(supervisions.filter(issued_at__gte=OuterRef("due_at"))),
            state__in=OPEN_STATES,
        ),
        "supervised": _flag(Exists(supervisions)),
        "supervisions": _count(supervisions),
        "supervisions_open": _count(supervisions.filter(status=Supervision.Status.OPEN)),
        "agreements": _flag(Exists(agreement)),
        "satisfied": _count(follow_ups.filter(satisfaction=FollowUp.Satisfaction.SATISFIED)),
        "basically": _count(follow_ups.filter(satisfaction=FollowUp.Satisfaction.BASICALLY)),
        "dissatisfied": _count(follow_ups.filter(satisfaction=FollowUp.Satisfaction.DISSATISFIED)),
        "closed": _flag(state=State.CLOSED),
        "close_days": When_(
            When(state=State.CLOSED, then=DaysBetween(closed_day, day)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        # Counted among the closed cases only, so that 化解成功 never exceeds 已结案 in any period.
        "settled": _flag(state=State.CLOSED, outcome__in=SETTLED),
        "failed": _flag(state=State.CLOSED, outcome__in=FAILED),
        **{f"ch_{c}": _flag(channel=c) for c in Case.Channel.values},
        **{f"risk_{r}": _flag(risk_level=r) for r in Case.Risk.values},
        **{f"at_{level}": _flag(center__level=level) for level in ("league", "county", "township", "village")},
        "amount_involved": Coalesce("amount", Value(ZERO), **money),
        "amount_agreed": Coalesce(Subquery(agreement.values("amount")[:1]), Value(ZERO), **money),
        "amount_recovered": Coalesce(Subquery(paid), Value(ZERO), **money),
    }
    assert tuple(measures) == MEASURES, "the facts query and the Measures model must list the same figures"
    return {
        "k_month": Cast(TruncMonth(day, output_field=DateField()), DateField()),  # PostgreSQL truncates to a timestamp
        "k_day": day,
        "k_closed_day": When_(When(state=State.CLOSED, then=closed_day), default=None, output_field=DateField()),
        "k_org": Subquery(lead.values("org_id")[:1]),
        "k_org_region": Coalesce(Subquery(lead.values("org__region_code")[:1]), Value("")),
        **{f"m_{name}": expression for name, expression in measures.items()},
    }


FACT_KEYS = ("case_id", "region_code", "category_id", "state", "month", "day", "closed_day", "org_id", "org_region")
FACT_COLUMNS = (*FACT_KEYS, *MEASURES)


def fact_values(cases: QuerySet[Case]) -> QuerySet:
    """One row per case: its keys and measures, computed from the source tables."""
    annotations = _annotations()
    return cases.order_by().annotate(**annotations).values("id", "region_code", "category_id", "state", *annotations)


_FACT_SQL: dict[str, tuple[str, list[Any]]] = {}
_CASE_ID, _CASE_CODE = -20250101, "<the case's region code>"  # stand-ins for one case's id and code


def _one_case_facts() -> tuple[str, list[Any], int, int]:
    """The facts query of one case, compiled once per process (the ORM's compilation of it costs far
    more than running it): its SQL, its parameters, and where among them the case's id and region
    code go. The case is filtered inside, so the query names the case's region code."""
    compiled, compiled_params = fact_values(
        Case.objects.filter(pk=_CASE_ID, region_code=_CASE_CODE)
    ).query.sql_with_params()
    params = list(compiled_params)
    return compiled, params, params.index(_CASE_ID), params.index(_CASE_CODE)


def _for_case(params: list[Any], at_id: int, at_code: int, case_id: int, region_code: str) -> list[Any]:
    """The compiled parameters with the case's id and region code in place of the stand-ins."""
    filled = list(params)
    filled[at_id], filled[at_code] = case_id, region_code
    return filled


def _one_fact(case_id: int) -> dict[str, Any] | None:
    """The fact of one case, by the facts query compiled once per process (the ORM's compilation of
    this query costs far more than running it)."""
    if connection.vendor not in _FACT_SQL:
        compiled, compiled_params = fact_values(Case.objects.all()).query.sql_with_params()
        _FACT_SQL[connection.vendor] = (f"SELECT * FROM ({compiled}) f WHERE f.id = %s", list(compiled_params))
    sql, params = _FACT_SQL[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, case_id])
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    return _fact_from_row(dict(zip(names, row, strict=True))) if row else None


def _date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])  # SQLite answers text


def _fact_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A facts query row under the CaseFact column names."""
    fact = {"case_id": row["id"], "region_code": row["region_code"], "category_id": row["category_id"]}
    fact.update(state=row["state"], month=_date(row["k_month"]), day=_date(row["k_day"]))
    fact["closed_day"] = _date(row["k_closed_day"])
    fact.update(org_id=row["k_org"], org_region=row["k_org_region"])
    fact.update({name: row[f"m_{name}"] for name in MEASURES})
    for name in AMOUNTS:
        fact[name] = Decimal(str(fact[name])).quantize(ZERO)
    return fact


def nodes_of(region_code: str) -> list[tuple[str, str]]:
    """(node, parent) for the region of a case and every region above it, top first."""
    found: list[tuple[str, str]] = []
    parent = ""
    for level in codes.LEVELS:
        length = codes.PREFIX_LENGTH[level]
        previous = codes.PREFIX_LENGTH[codes.LEVELS[codes.LEVELS.index(level) - 1]] if level != codes.LEAGUE else 2
        if len(region_code) < length or not region_code[previous:length].strip("0"):
            break  # the case sits at the level above (no village, no grid)
        node = codes.full_code(region_code[:length])
        found.append((node, parent))
        parent = node
    return found


# ---- one case changed -------------------------------------------------------------------------


def case_changed(case_id: int, region_code: str | None = None) -> None:
    """Bring the tallies up to date with one case (call inside the transaction that changed it); with its
    region code, its recomputed and its stored fact are read in one statement."""
    if region_code:
        new, stored = _facts_now_and_stored(case_id, region_code)
    else:
        new = _one_fact(case_id)
        stored = _stored_fact(case_id, new["region_code"] if new is not None else None)
    if new == stored:
        return
    tally: dict[TallyKey, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    days: dict[tuple[str, datetime.date], list[int]] = defaultdict(lambda: [0, 0])
    orgs: dict[tuple[int, str, datetime.date], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(ORG_MEASURES, 0))
    for fact, sign in ((stored, -1), (new, 1)):
        if fact is None:
            continue
        key = (fact["region_code"], fact["month"], fact["category_id"], fact["state"])
        for name in MEASURES:
            tally[key][name] += sign * fact[name]
        if fact["org_id"] is not None:
            org_key = (fact["org_id"], fact["org_region"], fact["month"])
            for name in ORG_MEASURES:
                orgs[org_key][name] += sign * fact[name]
        days[(fact["region_code"], fact["day"])][0] += sign
        if fact["closed_day"] is not None:
            days[(fact["region_code"], fact["closed_day"])][1] += sign
    _add_to_tallies({k: v for k, v in tally.items() if any(v.values())})
    _add_to_days({k: v for k, v in days.items() if any(v)})
    _add_to_orgs({k: v for k, v in orgs.items() if any(v.values())})
    table = CaseFact._meta.db_table
    with connection.cursor() as cursor:
        if new is None:
            cursor.execute(f"DELETE FROM {table} WHERE case_id = %s", [case_id])
            return
        # One statement whether the case had a fact or not (a round trip less on every change).
        values = [_param(new[c]) for c in FACT_COLUMNS]
        placeholders = ", ".join(["%s"] * len(FACT_COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in FACT_COLUMNS if c != "case_id")
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(FACT_COLUMNS)}) VALUES ({placeholders}) "
            f"ON CONFLICT (case_id) DO UPDATE SET {updates}",
            values,
        )


_BOTH_SQL: dict[str, tuple[str, list[Any], int, int]] = {}


def _facts_now_and_stored(case_id: int, region_code: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The case's fact recomputed from the source tables and the one stored (locked until the end of the
    transaction on PostgreSQL, as `_stored_fact`), in one round trip; either is None when missing."""
    if connection.vendor not in _BOTH_SQL:
        compiled, compiled_params, at_id, at_code = _one_case_facts()
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        stored = ", ".join(f"{c} AS s_{c}" for c in FACT_COLUMNS)
        sql = (
            f"WITH s AS (SELECT {stored} FROM {CaseFact._meta.db_table} WHERE case_id = %s AND region_code = %s{lock}) "
            f"SELECT f.*, s.* FROM (SELECT 1 AS one) o LEFT JOIN ({compiled}) f ON 1 = 1 LEFT JOIN s ON 1 = 1"
        )
        _BOTH_SQL[connection.vendor] = (sql, compiled_params, at_id, at_code)
    sql, params, at_id, at_code = _BOTH_SQL[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_id, region_code, *_for_case(params, at_id, at_code, case_id, region_code)])
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    values = dict(zip(names, row, strict=True))
    new = _fact_from_row(values) if values["id"] is not None else None
    if values["s_case_id"] is None:
        return new, None
    return new, _stored_from_row(tuple(values[f"s_{c}"] for c in FACT_COLUMNS))


def _stored_from_row(row: tuple[Any, ...]) -> dict[str, Any]:
    fact = dict(zip(FACT_COLUMNS, row, strict=True))
    for name in ("month", "day", "closed_day"):
        fact[name] = _date(fact[name])
    for name in AMOUNTS:
        fact[name] = Decimal(str(fact[name])).quantize(ZERO)
    return fact


def _stored_fact(case_id: int, region_code: str | None = None) -> dict[str, Any] | None:
    """The case's stored fact, locked until the end of the transaction (PostgreSQL). With the case's
    region code (a case never changes region, so its fact carries the same) the read names its shard."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    params: list[int | str] = [case_id]
    region = ""
    if region_code:
        region = " AND region_code = %s"
        params.append(region_code)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(FACT_COLUMNS)} FROM {CaseFact._meta.db_table} WHERE case_id = %s{region}{lock}", params
        )
        row = cursor.fetchone()
    return None if row is None else _stored_from_row(row)


def _add_to_tallies(deltas: dict[TallyKey, dict[str, Any]]) -> None:
    if not deltas:
        return
    table = Tally._meta.db_table
    columns = ("node", "parent", "month", "category_id", "state", *MEASURES)
    rows: list[Any] = []
    for (region_code, month, category_id, state), measures in deltas.items():
        for node, parent in nodes_of(region_code):
            rows.append((node, parent, month, category_id, state, *(measures[m] for m in MEASURES)))
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([placeholders] * len(rows))} "
        f"ON CONFLICT (node, month, category_id, state) DO UPDATE SET "
        + ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURES)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(v) for row in rows for v in row])


def _add_to_days(deltas: dict[tuple[str, datetime.date], list[int]]) -> None:
    if not deltas:
        return
    table = DayTally._meta.db_table
    rows = [
        (node, day, registered, closed)
        for (region_code, day), (registered, closed) in deltas.items()
        for node, _parent in nodes_of(region_code)
    ]
    sql = (
        f"INSERT INTO {table} (node, day, registered, closed) VALUES {', '.join(['(%s, %s, %s, %s)'] * len(rows))} "
        f"ON CONFLICT (node, day) DO UPDATE SET registered = {table}.registered + excluded.registered, "
        f"closed = {table}.closed + excluded.closed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(v) for row in rows for v in row])


def _add_to_orgs(deltas: dict[tuple[int, str, datetime.date], dict[str, Any]]) -> None:
    if not deltas:
        return
    table = OrgTally._meta.db_table
    rows = [(org, region, month, *(m[n] for n in ORG_MEASURES)) for (org, region, month), m in deltas.items()]
    placeholders = "(" + ", ".join(["%s"] * (3 + len(ORG_MEASURES))) + ")"
    sql = (
        f"INSERT INTO {table} (org_id, region_code, month, {', '.join(ORG_MEASURES)}) "
        f"VALUES {', '.join([placeholders] * len(rows))} ON CONFLICT (org_id, month) DO UPDATE SET "
        + ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in ORG_MEASURES)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(v) for row in rows for v in row])


def _org_sql(source_sql: str) -> str:
    sums = ", ".join(f"SUM(f.{m})" for m in ORG_MEASURES)
    return (
        f"SELECT f.org_id, f.org_region, f.month, {sums} FROM {source_sql} f "
        "WHERE f.org_id IS NOT NULL GROUP BY f.org_id, f.org_region, f.month"
    )


def _param(value: Any) -> Any:
    return connection.ops.adapt_datefield_value(value) if isinstance(value, datetime.date) else value


# ---- rebuild and verify -------------------------------------------------------------------------


def _level_sql(level: str, source: str) -> tuple[str, str, str]:
    """(node, parent, condition) SQL expressions placing the facts of `source` at one level."""
    length = codes.PREFIX_LENGTH[level]
    index = codes.LEVELS.index(level)
    previous = codes.PREFIX_LENGTH[codes.LEVELS[index - 1]] if index else 2

    def node_at(n: int) -> str:
        return (
            f"{source}.region_code"
            if n == codes.CODE_MAX
            else f"SUBSTR({source}.region_code, 1, {n}) || '{'0' * (12 - n)}'"
        )

    node = node_at(length)
    parent = node_at(previous) if index else "''"
    condition = (
        f"LENGTH({source}.region_code) >= {length} "
        f"AND SUBSTR({source}.region_code, {previous + 1}, {length - previous}) <> '{'0' * (length - previous)}'"
    )
    return node, parent, condition


def _tally_sql(source_sql: str) -> str:
    """SELECT the tallies of every level from a facts source (a table, or a CTE of the recount)."""
    parts = []
    sums = ", ".join(f"SUM(f.{m})" for m in MEASURES)
    for level in codes.LEVELS:
        node, parent, condition = _level_sql(level, "f")
        parts.append(
            f"SELECT {node} AS node, {parent} AS parent, f.month, f.category_id, f.state, {sums} "
            f"FROM {source_sql} f WHERE {condition} GROUP BY {node}, "
            + ("" if parent == "''" else f"{parent}, ")
            + "f.month, f.category_id, f.state"
        )
    return " UNION ALL ".join(parts)


def _day_sql(source_sql: str) -> str:
    parts = []
    for level in codes.LEVELS:
        node, _parent, condition = _level_sql(level, "f")
        parts.append(
            f"SELECT {node} AS node, f.day AS day, 1 AS registered, 0 AS closed FROM {source_sql} f WHERE {condition} "
            f"UNION ALL SELECT {node}, f.closed_day, 0, 1 FROM {source_sql} f "
            f"WHERE {condition} AND f.closed_day IS NOT NULL"
        )
    inner = " UNION ALL ".join(parts)
    return f"SELECT node, day, SUM(registered), SUM(closed) FROM ({inner}) d GROUP BY node, day"


def _facts_source() -> tuple[str, list[Any]]:
    """The facts recomputed from the source tables, as a subquery with the CaseFact column names."""
    sql, params = fact_values(Case.objects.all()).query.sql_with_params()
    renamed = ["id AS case_id", "region_code", "category_id", "state", "k_month AS month", "k_day AS day"]
    renamed += ["k_closed_day AS closed_day", "k_org AS org_id", "k_org_region AS org_region"]
    renamed += [f"m_{m} AS {m}" for m in MEASURES]
    return f"(SELECT {', '.join(renamed)} FROM ({sql}) raw)", list(params)


def rebuild() -> dict[str, int]:
    """Recompute every fact and tally from the source tables (one transaction)."""
    source, params = _facts_source()
    fact_table, tally_table, day_table = CaseFact._meta.db_table, Tally._meta.db_table, DayTally._meta.db_table
    tally_columns = ", ".join(("node", "parent", "month", "category_id", "state", *MEASURES))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")  # group millions of facts in memory, not on disk
        org_table = OrgTally._meta.db_table
        for table in (fact_table, tally_table, day_table, org_table):
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"INSERT INTO {fact_table} ({', '.join(FACT_COLUMNS)}) SELECT {', '.join(FACT_COLUMNS)} FROM {source} s",
            params,
        )
        cursor.execute(f"INSERT INTO {tally_table} ({tally_columns}) {_tally_sql(fact_table)}")
        cursor.execute(f"INSERT INTO {day_table} (node, day, registered, closed) {_day_sql(fact_table)}")
        columns = ", ".join(ORG_MEASURES)
        cursor.execute(f"INSERT INTO {org_table} (org_id, region_code, month, {columns}) {_org_sql(fact_table)}")
        if connection.vendor == "postgresql":
            # Fresh planner statistics for the reloaded tables: with the old ones a dashboard at a
            # million cases took a sequential plan and ran five times slower.
            cursor.execute(f"ANALYZE {fact_table}, {tally_table}, {day_table}, {org_table}")
    counts = {"facts": CaseFact.objects.count(), "tallies": Tally.objects.count(), "days": DayTally.objects.count()}
    return counts | {"orgs": OrgTally.objects.count()}


def _normal(rows: Iterable[tuple[Any, ...]], keys: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows keyed by their first `keys` columns, all-zero rows left out, values made comparable."""
    found = {}
    for row in rows:
        values = tuple(Decimal(str(v or 0)).quantize(ZERO) for v in row[keys:])
        if any(values):
            found[tuple(str(k) for k in row[:keys])] = values
    return found


def verify() -> Iterator[str]:
    """Every difference between the stored tallies and a recount from the source tables."""
    source, params = _facts_source()
    names = ("node", "month", "category_id", "state")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH src AS {source} SELECT * FROM ({_tally_sql('src')}) t", params)
        expected = _normal((r[:1] + r[2:] for r in cursor.fetchall()), 4)  # without the parent column
        cursor.execute(f"SELECT node, month, category_id, state, {', '.join(MEASURES)} FROM {Tally._meta.db_table}")
        stored = _normal(cursor.fetchall(), 4)
    yield from _differences("tally", names, MEASURES, expected, stored)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH src AS {source} {_day_sql('src')}", params)
        expected_days = _normal(cursor.fetchall(), 2)
        cursor.execute(f"SELECT node, day, registered, closed FROM {DayTally._meta.db_table}")
        stored_days = _normal(cursor.fetchall(), 2)
    yield from _differences("day", ("node", "day"), ("registered", "closed"), expected_days, stored_days)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH src AS {source} {_org_sql('src')}", params)
        expected_orgs = _normal((r[:1] + r[2:] for r in cursor.fetchall()), 2)  # without the org's region
        cursor.execute(f"SELECT org_id, month, {', '.join(ORG_MEASURES)} FROM {OrgTally._meta.db_table}")
        stored_orgs = _normal(cursor.fetchall(), 2)
    yield from _differences("org", ("org", "month"), ORG_MEASURES, expected_orgs, stored_orgs)


def _differences(
    what: str,
    names: tuple[str, ...],
    measures: tuple[str, ...],
    expected: dict[tuple[Any, ...], tuple[Any, ...]],
    stored: dict[tuple[Any, ...], tuple[Any, ...]],
) -> Iterator[str]:
    zero = tuple(ZERO for _m in measures)
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key, zero), stored.get(key, zero)
        if want != have:
            where = " ".join(f"{n}={k}" for n, k in zip(names, key, strict=True))
            diffs = ", ".join(f"{m}: {h} ≠ {w}" for m, w, h in zip(measures, want, have, strict=True) if w != h)
            yield f"{what} {where}: {diffs}"
