"""Does every statement on a case-side table name the region code it is distributed on?

At national scale (docs/national.md) each case-side table is a Citus table distributed on its region
code. A statement that constrains that column (=, IN, LIKE prefix, BETWEEN, a range) can be routed to
the shards holding those regions; one that does not runs on every shard of the country. This module
says which statements are of the second kind: the suite records its SQL templates (`zongzhi.sqlrecord`,
`ZONGZHI_SQL_RECORD`), and the session's end (tests/conftest.py) fails on any such statement that is
neither issued by a documented national aggregate read (NATIONAL_READS), nor by the tests
themselves, nor on the baseline of known debt
(tests/sql_region_baseline.txt).

The statements are Django's (and a few raw ones of ours): columns qualified by table or alias, one
statement per line after `sqlrecord.normalise`. The reading is by regular expressions over that
shape, not a full SQL parser, and it is deliberately simple:
- a table occurrence is `FROM`/`JOIN`/`UPDATE` followed by the table and an optional alias;
- it is constrained if its region column is compared with something other than another column
  (`= %s`, `IN (…)`, `LIKE %s`, `BETWEEN`, `>=`/`<`), or equated with the region column of an
  occurrence that is constrained (a colocated join);
- a bare `region_code` counts for the only table of the statement.
It does not see boolean structure: a region predicate under an `OR` (the jurisdiction's
"inside my prefixes OR pushed to my org") counts as a predicate. That is the known gap of the check.
"""

import re
from dataclasses import dataclass
from pathlib import Path

# Every case-side table under the check, with the column it is distributed on (docs/national.md).
CASE_TABLES: dict[str, str] = {
    "cases_case": "region_code",
    "cases_party": "region_code",
    "cases_caseevent": "region_code",
    "cases_assignment": "region_code",
    "cases_coordinationrequest": "region_code",
    "cases_roombooking": "region_code",
    "cases_mediationsession": "region_code",
    "cases_agreement": "region_code",
    "cases_instalment": "region_code",
    "cases_instalmentpayment": "region_code",
    "cases_courtreferral": "region_code",
    "cases_followup": "region_code",
    "cases_supervision": "region_code",
    "cases_attachment": "region_code",
}


@dataclass(frozen=True)
class NationalRead:
    """Statements allowed to read every shard: those issued by `caller` (a regex on the recorded frame,
    `path:line function`), and why."""

    name: str
    caller: str
    reason: str


# The documented national aggregate reads, mirrored in docs/national.md. Each is a scan over every
# region by design (on Citus a fan-out the coordinator merges, or run once per province prefix), and
# none is on a request a citizen or clerk waits on.
NATIONAL_READS: list[NationalRead] = [
    NationalRead(
        "deadline sweep",
        r"^zongzhi/cases/deadlines\.py:\d+ (sweep|_overdue|_unsigned|_lapsed_reminders|_unanswered_supervisions)$",
        "the scheduler's sweep (every 10 minutes) looks for overdue cases and unsigned assignments everywhere; "
        "on Citus one fan-out per tick, or one sweep per province prefix",
    ),
    NationalRead(
        "instalment reminders",
        r"^zongzhi/outbox/clock\.py:\d+ instalment_reminders$",
        "the daily job finds the instalments due in three days everywhere; a fan-out once a day",
    ),
    NationalRead(
        "rollup rebuild",
        r"^zongzhi/dashboards/rollups\.py:\d+ (rebuild|verify|_facts_source)$",
        "`manage.py rollups --rebuild/--verify` recounts the rollups from the case table: an operator's job, "
        "run per province prefix at national scale",
    ),
]

_KEYWORDS = {
    "WHERE",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "JOIN",
    "ON",
    "SET",
    "GROUP",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "HAVING",
    "UNION",
    "WINDOW",
    "FOR",
    "USING",
    "RETURNING",
    "AS",
    "VALUES",
    "DEFAULT",
    "EXCEPT",
    "INTERSECT",
}
_OCCURRENCE = re.compile(r'\b(?:FROM|JOIN|UPDATE)\s+"?(\w+)"?(?:\s+(?:AS\s+)?"?(\w+)"?)?', re.IGNORECASE)
_REF = r'(?:"?(\w+)"?\s*\.\s*)?"?{col}"?(?:::\w+)?'
_COLUMN = re.compile(r'\(?\s*"?\w+"?\s*\.\s*"?\w+"?')
_OPERATOR = r"\s*(=|>=|<=|>|<|\bIN\b|\bLIKE\b|\bBETWEEN\b)\s*"


@dataclass(frozen=True)
class Occurrence:
    table: str
    alias: str


def occurrences(sql: str) -> list[Occurrence]:
    """The case-side tables a statement reads or changes, each under its alias (its name if none)."""
    found = []
    for match in _OCCURRENCE.finditer(sql):
        table, alias = match.group(1), match.group(2)
        if table not in CASE_TABLES:
            continue
        if alias is None or alias.upper() in _KEYWORDS:
            alias = table
        found.append(Occurrence(table, alias))
    return found


def unconstrained(sql: str) -> list[str]:
    """The case-side tables (by alias) of a statement whose region column no predicate constrains."""
    head = sql.lstrip("( ").split(" ", 1)[0].upper()
    if head not in {"SELECT", "UPDATE", "DELETE", "WITH"}:
        return []  # INSERT carries the region code in its values; BEGIN, SAVEPOINT … touch no rows
    tables = occurrences(sql)
    if not tables:
        return []
    columns = set(CASE_TABLES[t.table] for t in tables)
    constrained: set[str] = set()
    edges: list[tuple[str, str]] = []
    single = tables[0].alias if len({t.alias for t in tables}) == 1 else None
    for column in columns:
        ref = _REF.format(col=re.escape(column))
        comparison = re.compile(ref + _OPERATOR, re.IGNORECASE)
        same_column = re.compile(r"\(?\s*" + ref, re.IGNORECASE)
        for match in comparison.finditer(sql):
            left = match.group(1) or single
            if left is None:
                continue
            rest = sql[match.end() :]
            other = same_column.match(rest)
            right = (other.group(1) or single) if other is not None else None
            if right is not None:
                if match.group(2) == "=":
                    edges.append((left, right))
                continue
            if _COLUMN.match(rest):
                continue  # compared with some other column: no constraint
            constrained.add(left)
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if (a in constrained) != (b in constrained):
                constrained |= {a, b}
                changed = True
    return sorted({t.alias for t in tables if t.alias not in constrained})


def national_read(caller: str) -> NationalRead | None:
    for read in NATIONAL_READS:
        if re.search(read.caller, caller):
            return read
    return None


# Callers whose statements are not the application's at national scale, each with its reason.
EXEMPT_CALLERS: dict[str, str] = {
    "tests/": "the test's own query (a harness read or an assertion), not the application's",
    "zongzhi/demo/": "the demo seed builds one league on one database; it never runs on a national cluster",
}


# Origins that are not the application serving anyone, each with its reason.
EXEMPT_ORIGINS: dict[str, str] = {
    "session setup": "creating the test database (migrations, Django's serialisation of it) and seeding the demo",
    "test tests/test_sql_regions.py::": "the check's own test issues a statement without the predicate on purpose",
}
_MIGRATION = re.compile(r"^zongzhi/\w+/migrations/")


def exempt(where: str, caller: str) -> bool:
    """Not the application's statement: the tests' own, the demo seed's, a migration's or the test setup's.

    A data migration runs once per deployment, as an operator's job: on Citus it may fan out."""
    if any(where.startswith(origin) for origin in EXEMPT_ORIGINS) or _MIGRATION.match(caller):
        return True
    return any(caller.startswith(prefix) for prefix in EXEMPT_CALLERS)


@dataclass(frozen=True)
class Violation:
    statement: str
    tables: tuple[str, ...]
    origins: tuple[str, ...]  # "<where> <- <caller>"


def recorded(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Every recorded statement with where it came from and which frame of ours issued it."""
    statements: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(folder.glob("sql-*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            where, by, statement = line.split("\t", 2)
            statements.setdefault(statement, []).append((where, by))
    return statements


BASELINE = Path(__file__).resolve().parent / "sql_region_baseline.txt"


def baseline() -> set[str]:
    """Statements known to lack their region predicate: debt to remove, one per line."""
    if not BASELINE.exists():
        return set()
    return {line for line in BASELINE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")}


def violations(
    statements: dict[str, list[tuple[str, str]]], known: set[str]
) -> tuple[list[Violation], list[Violation]]:
    """(new, known): the application's statements without their region predicate, off and on the baseline."""
    new: list[Violation] = []
    old: list[Violation] = []
    for statement, seen in sorted(statements.items()):
        ours = sorted({f"{where} <- {by}" for where, by in seen if not exempt(where, by) and not national_read(by)})
        if not ours:
            continue
        tables = unconstrained(statement)
        if not tables:
            continue
        found = Violation(statement, tuple(tables), tuple(ours[:3]))
        (old if statement in known else new).append(found)
    return new, old


def write_baseline(found: list[Violation]) -> None:
    """Rewrite the baseline from what this run found (ZONGZHI_SQL_BASELINE_WRITE=1), keeping lines of
    statements this run did not issue: a subset run must not drop the debt of the others."""
    lines = baseline() | {v.statement for v in found}
    header = (
        "# Statements on case-side tables without their region predicate, known on the day the check began.\n"
        "# DEBT, to be removed: fix the statement (or document it in NATIONAL_READS) and delete its line.\n"
        "# Regenerate: ZONGZHI_SQL_BASELINE_WRITE=1 make test-sql-regions\n"
    )
    BASELINE.write_text(header + "".join(f"{line}\n" for line in sorted(lines)), encoding="utf-8")
