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
- a bare `region_code` counts for the only table of its query block (or of the statement).
- it counts only where it restricts the rows: in a `WHERE` or `ON` clause, with no `OR` beside it at any
  level up to its query block and no `NOT` before it (`region LIKE '15%' OR x` restricts nothing);
- a subquery is a query block of its own: its aliases (Django's `U0`) are resolved there first.
"""

import re
from dataclasses import dataclass
from pathlib import Path

NATIONAL_MD = Path(__file__).resolve().parents[1] / "docs" / "national.md"
_DISTRIBUTED = "### Distributed tables"


def distributed_tables(text: str | None = None) -> dict[str, str]:
    """The case-side tables and the column each is distributed on, read from docs/national.md's table
    "Distributed tables": the declaration and the check are one list, so they cannot drift."""
    text = NATIONAL_MD.read_text(encoding="utf-8") if text is None else text
    lines = text.split(_DISTRIBUTED, 1)[1].lstrip("\n").splitlines()[1:]  # past the heading's own line
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first:]:  # the first table under the heading, to its first line that is not a row
        if not line.startswith("|"):
            break
        rows.append(line)
    tables: dict[str, str] = {}
    for line in rows:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        column = re.fullmatch(r"`(\w+)`", cells[1])
        if column is None:
            continue
        for table in re.findall(r"`(\w+)`", cells[0]):
            tables[table] = column.group(1)
    return tables


# Every case-side table under the check, with the column it is distributed on.
CASE_TABLES: dict[str, str] = distributed_tables()


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
        r"^zongzhi/cases/deadlines\.py:\d+ "
        r"(sweep|_sweep_case|_advance|_overdue|_unsigned|_lapsed_reminders|_unanswered_supervisions)$",
        "the scheduler's sweep (every 10 minutes) looks for overdue cases and unsigned assignments everywhere; "
        "on Citus one fan-out per tick, or one sweep per province prefix",
    ),
    NationalRead(
        "instalment reminders",
        r"^zongzhi/outbox/clock\.py:\d+ (instalment_reminders|instalment_events)$",
        "the daily jobs find the instalments due in three days, or overdue, everywhere; a fan-out once a day",
    ),
    NationalRead(
        "outbox workers",
        r"^zongzhi/outbox/(publishing\.py:\d+ publish|notices\.py:\d+ (_fan_out_window|send_due|next_due|"
        r"_throttled_until)|webhooks\.py:\d+ (fan_out|deliver|subscription_create))$",
        "the publisher numbers the deployment's committed events in one sequence; the SMS and webhook workers "
        "follow that sequence by cursor and work their own queues (the messages due, a subscription's "
        "deliveries, one phone's messages of the last hour): the deployment's queues, not a region's; on "
        "Citus a fan-out per tick merged by `seq`, or one worker per province instance",
    ),
    NationalRead(
        "backup, restore and the move to PostgreSQL",
        r"^zongzhi/ops/(backup|move)\.py:\d+ \w+$",
        "`manage.py backup`, `restore` and `move_to_postgresql` count and copy every table whole: an "
        "operator's job on one deployment's database; at national scale one per province database, or "
        "the cluster's own backup per node",
    ),
    NationalRead(
        "readiness backlog",
        r"^zongzhi/outbox/health\.py:\d+ outbox_backlog$",
        "`/readyz` counts the events not yet sequenced: the deployment's own queue, not a region's; "
        "on Citus a count fanned out to every shard once per probe",
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
    scope: int = -1  # where its query block begins: the `(` of its subquery, -1 for the statement


_SUBQUERY = re.compile(r"\(\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_CLAUSE = re.compile(
    r"\b(WHERE|ON|SET|FROM|JOIN|GROUP\s+BY|ORDER\s+BY|LIMIT|OFFSET|HAVING|RETURNING|SELECT|VALUES|UNION|EXCEPT"
    r"|INTERSECT|WINDOW|USING|FOR\s+UPDATE)\b",
    re.IGNORECASE,
)
_OR = re.compile(r"\bOR\b", re.IGNORECASE)
_NOT_BEFORE = re.compile(r"\bNOT\s*$", re.IGNORECASE)


class _Shape:
    """The parentheses of a statement: which groups hold a position, and which of them are subqueries.

    A predicate restricts its table's rows only if every group between it and its query block is a
    conjunction (no `OR` at that group's own level, no `NOT` before it) and, in the block itself, it
    stands in a `WHERE` or `ON` clause without an `OR` at the block's level: `region LIKE '15%' OR x`
    restricts nothing, nor does `NOT (region = …)`, nor an `UPDATE`'s `SET region_code = …`."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.depth = [0] * (len(sql) + 1)
        self.groups: list[tuple[int, int]] = []  # (open, close) of each balanced pair
        opened: list[int] = []
        level = 0
        for i, char in enumerate(sql):
            if char == "(":
                opened.append(i)
                level += 1
                self.depth[i] = level - 1
                continue
            if char == ")" and opened:
                self.groups.append((opened.pop(), i))
                level -= 1
            self.depth[i] = level
        self.depth[len(sql)] = level
        self.subqueries = {start for start, _end in self.groups if _SUBQUERY.match(sql, start)}

    def chain(self, position: int) -> list[tuple[int, int]]:
        """The groups holding a position, innermost first."""
        return sorted((g for g in self.groups if g[0] < position < g[1]), key=lambda g: -g[0])

    def scope(self, position: int) -> int:
        return next((start for start, _end in self.chain(position) if start in self.subqueries), -1)

    def _level(self, lo: int, hi: int, depth: int) -> str:
        """The statement with all but its text between lo and hi at one depth blanked (positions kept)."""
        return "".join(c if lo <= i < hi and self.depth[i] == depth else " " for i, c in enumerate(self.sql))

    def restricts(self, position: int) -> bool:
        """Does a predicate at this position restrict the rows its query block reads?"""
        at = position
        lo, hi, depth = 0, len(self.sql), 0
        for start, end in self.chain(position):
            if start in self.subqueries:
                lo, hi, depth = start + 1, end, self.depth[start] + 1
                break
            inside = self._level(start + 1, end, self.depth[start] + 1)
            if _OR.search(inside) or _NOT_BEFORE.search(self.sql, 0, start):
                return False
            at = start
        text = self._level(lo, hi, depth)
        clauses = list(_CLAUSE.finditer(text, lo, hi))
        before = [c for c in clauses if c.start() < at]
        if not before or before[-1].group(1).upper() not in {"WHERE", "ON"}:
            return False
        after = next((c.start() for c in clauses if c.start() > at), hi)
        clause = text[before[-1].end() : after]
        return not _OR.search(clause) and not _NOT_BEFORE.search(text, before[-1].end(), at)


def _all_occurrences(sql: str, shape: "_Shape") -> list[Occurrence]:
    found = []
    for match in _OCCURRENCE.finditer(sql):
        table, alias = match.group(1), match.group(2)
        if alias is None or alias.upper() in _KEYWORDS:
            alias = table
        found.append(Occurrence(table, alias, shape.scope(match.start())))
    return found


def occurrences(sql: str) -> list[Occurrence]:
    """The case-side tables a statement reads or changes, each under its alias (its name if none) and
    in the query block (statement or subquery) it is read in."""
    return [t for t in _all_occurrences(sql, _Shape(sql)) if t.table in CASE_TABLES]


def unconstrained(sql: str) -> list[str]:
    """The case-side tables (by alias) of a statement whose region column no predicate restricts."""
    head = sql.lstrip("( ").split(" ", 1)[0].upper()
    if head not in {"SELECT", "UPDATE", "DELETE", "WITH"}:
        return []  # INSERT carries the region code in its values; BEGIN, SAVEPOINT … touch no rows
    shape = _Shape(sql)
    every = _all_occurrences(sql, shape)
    tables = [t for t in every if t.table in CASE_TABLES]
    if not tables:
        return []
    parents = {start: shape.scope(start) for start in shape.subqueries}

    def resolve(alias: str | None, position: int) -> Occurrence | None:
        """The case-side occurrence a column reference at this position names: its alias in its own
        query block or an enclosing one; a bare column, the only table of its block."""
        scope = shape.scope(position)
        while True:
            here = [t for t in every if t.scope == scope]
            if alias is None:
                only = here[0] if len(here) == 1 else None
                if only is not None or scope == -1:
                    return only if only is not None and only.table in CASE_TABLES else None
            else:
                named = [t for t in here if t.alias == alias]
                if named:
                    return named[0] if named[0].table in CASE_TABLES else None
                if scope == -1:
                    return None
            scope = parents.get(scope, -1)

    columns = set(CASE_TABLES[t.table] for t in tables)
    constrained: set[Occurrence] = set()
    edges: list[tuple[Occurrence, Occurrence]] = []
    for column in columns:
        ref = _REF.format(col=re.escape(column))
        comparison = re.compile(ref + _OPERATOR, re.IGNORECASE)
        same_column = re.compile(r"\(?\s*" + ref, re.IGNORECASE)
        for match in comparison.finditer(sql):
            left = resolve(match.group(1), match.start())
            if left is None or not shape.restricts(match.start()):
                continue
            rest = sql[match.end() :]
            other = same_column.match(rest)
            if other is not None:
                right = resolve(other.group(1), match.end())
                if right is not None and match.group(2) == "=":
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
    return sorted({t.alias for t in tables if t not in constrained})


def national_read(caller: str) -> NationalRead | None:
    for read in NATIONAL_READS:
        if re.search(read.caller, caller):
            return read
    return None


# Callers whose statements are not the application's at national scale, each with its reason.
EXEMPT_CALLERS: dict[str, str] = {
    "tests/": "the test's own query (a harness read or an assertion), not the application's",
    "zongzhi/demo/": "the demo seed builds one league on one database; it never runs on a national cluster",
    "manage.py:": "a management command with none of our code on the stack (Django's own, or a test's "
    "`manage.py shell -c` cleanup): our own commands issue their statements from `zongzhi/`",
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

# Why a statement is still on the baseline: each line of it is `<reason>\t<statement>`, the reason one
# of these (mirrored in docs/national.md). A line written by ZONGZHI_SQL_BASELINE_WRITE for a statement
# new to the baseline says `unexplained`, which the check's own test refuses until someone gives it one.
BASELINE_REASONS: dict[str, str] = {
    "jurisdiction-or": "a mobile unit's \"in my prefixes, or I am a member\": none left since 4 Dec (a unit's members "
    "carry the unit's region code, and a user's reads of units are bounded by the range spanning "
    "their scope and their units' codes); a department's or court's \"pushed to my org\" is bounded by "
    "the user's reach since 3 Dec",
    "scoped-outer-subquery": "the outer case query names the scope's prefixes, but its `id IN (SELECT … FROM "
    "cases_x U0 …)` subquery (a work list's, the API's text search on parties) does not repeat them",
    "joins-without-region": "a join on `case_id` or a many-to-many without the region in the join "
    "(`select_related('agreement')`, the related cases, an ordering by the case): it needs a FilteredRelation, "
    "a through model with `region_code` or the region added to the join",
    "by-person-index": "a lookup by a person's ID or phone index or by an account (repeat detection, registry matches "
    "and \"one person, one household\" across the country, a worker's own record by user, a phone's "
    "replay log by client id): a multi-shard read by design; on Citus a lookup table keyed by the "
    "index, or the county prefix where the caller knows it",
    "rollup-fact": "the per-case fact query of the rollups (`_facts_now_and_stored`) filtered by the case "
    "outside its compiled query (the case and its correlated subqueries name the case's code since 4 Dec)",
    "room-bookings": "room bookings by room and time (clash checks, the week's calendar): a room's bookings "
    "carry their cases' codes, which the room's center only bounds by its prefix",
    "numbering": "the next document or household number by its code prefix (`number LIKE …`): the number "
    "starts with a code, but not always the row's own region code",
    "row-by-id": "a case-side row read or changed by its id or its case's id where the caller holds the case but "
    "does not pass its region code down yet (the portal's count of an applicant's added material)",
    "registry-by-id": "the grid registry joined to a household's claiming worker or to a conflict's holder and "
    "claimant, whose codes are their own grids' and need not be the household's (a worker moved by an "
    "import keeps its claims), a household's open conflict (raised in the village it was in) and a "
    "herder's moving days: naming them needs the claimer's code kept with the claim when the worker "
    "moves",
    "field-records": "field records whose region is not the unit's or the visit's: items and cases raised at a unit's "
    "stop (they take the served household's grid at the time), a resident read for a visit's case "
    "through the registry's ordering join",
    "meetings": "dispatch meetings and their agenda items read or changed by id: the meeting's region code "
    "is known and should be named",
    "feed-and-outbox": "a subscription's deliveries read with their events (its delivery log) and an event "
    "read by id: a subscription's events lie in its owner's reach when they were fanned out, which may "
    "since have changed; the outbox workers' own reads are documented national reads since 4 Dec",
}
UNEXPLAINED = "unexplained"


def baseline_lines() -> dict[str, str]:
    """Statements known to lack their region predicate, each with the reason it is still there."""
    if not BASELINE.exists():
        return {}
    found: dict[str, str] = {}
    for line in BASELINE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        reason, _tab, statement = line.partition("\t")
        if not statement:
            reason, statement = UNEXPLAINED, line
        found[statement] = reason
    return found


def baseline() -> set[str]:
    """Statements known to lack their region predicate: debt to remove, one per line."""
    return set(baseline_lines())


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
    statements this run did not issue (a subset run must not drop the debt of the others) and the
    reason of each line already there; a statement new to it is `unexplained` until given one."""
    lines = baseline_lines()
    for violation in found:
        lines.setdefault(violation.statement, UNEXPLAINED)
    header = (
        "# Statements on case-side tables without their region predicate: DEBT, to be removed.\n"
        "# Each line is <reason>TAB<statement>, the reason one of sql_regions.BASELINE_REASONS.\n"
        "# Fix the statement (or document it in NATIONAL_READS) and delete its line.\n"
        "# Regenerate: ZONGZHI_SQL_BASELINE_WRITE=1 make test-pg\n"
    )
    body = "".join(
        f"{reason}\t{statement}\n" for statement, reason in sorted(lines.items(), key=lambda i: (i[1], i[0]))
    )
    BASELINE.write_text(header + body, encoding="utf-8")
