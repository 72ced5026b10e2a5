# ruff: noqa: S608 - the SQL is built from our own names and generated literals; the size is a parameter
"""Dashboards at 10 million cases: the tallies against the naive GROUP BY over the case table.

PostgreSQL only. `BENCH_DASHBOARD_CASES` cases (default 10,000,000; 0 skips) are generated in one
INSERT … SELECT over generate_series, spread over the league's grids and three years, with the
case table's secondary indexes dropped during the load and built again after it (the trigram
search index is left out: searching is measured elsewhere) and the foreign-key triggers skipped
(every reference is valid by construction). `rollups --rebuild` then computes the
tallies, and both are timed. The dashboard endpoints at league and county scope are measured
through the full request path; the naive figures (the same groupings counted over the case table,
no HTTP) are the comparison.
"""

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Substr, TruncMonth
from django.test import Client

LEAGUE, COUNTY = "152500000000", "152502000000"
STATES = ["closed"] * 16 + ["in_progress", "assigned", "accepted", "registered", "resolved", "unresolved"]
STATES += ["rejected", "withdrawn"]


def _sql_array(values: list[Any]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def generate(total: int) -> float:
    """Insert `total` cases in one statement; returns the seconds taken (load and indexes)."""
    from zongzhi.accounts.models import User
    from zongzhi.cases.models import Case, Category
    from zongzhi.centers.models import Center
    from zongzhi.regions.models import Region

    county_center = {c.region.code[:6]: c.pk for c in Center.objects.filter(level="county").select_related("region")}
    places = [
        (n, pk, code, county_center[code[:6]])
        for n, (pk, code) in enumerate(Region.objects.filter(level="grid").order_by("code").values_list("pk", "code"))
        if code[:6] in county_center
    ]
    categories = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True)) or list(
        Category.objects.values_list("pk", flat=True)
    )
    owner = User.objects.get(username="demo-intake").pk
    table = Case._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
            [table, "%pkey"],
        )
        indexes = [(name, sql) for name, sql in cursor.fetchall() if "number" not in sql]
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            "CREATE TEMP TABLE bench_places (n int PRIMARY KEY, region_id bigint, code text, center_id bigint)"
        )
        cursor.executemany("INSERT INTO bench_places VALUES (%s, %s, %s, %s)", places)
        # The generated rows reference existing regions, centers, categories and a user by construction:
        # the foreign-key triggers are skipped for the load (bench database only).
        cursor.execute("SET session_replication_role = replica")
        # Spread by multiplicative hashing of g, so the columns are not correlated with each other.
        cursor.execute(
            f"""
            INSERT INTO {table} (number, channel, category_id, title, description, region_id, region_code, location,
                amount, people_involved, foreign_related, risk_level, risk_suggested, risk_reasons,
                risk_override_reason, major, state, version, center_id, escalations, owner_id, registered_at,
                due_at, closed_at, outcome, outcome_note, original_number)
            SELECT 'B' || lpad(g::text, 14, '0'),
                ({_sql_array(["window", "grid", "department", "mobile", "portal", "import"])})[1 + ((g * 7) %% 6)::int],
                ({_sql_array(categories)})[1 + ((g * 31) %% {len(categories)})::int],
                '测试纠纷', '批量生成的测试案件', p.region_id, p.code, '',
                CASE WHEN g %% 3 = 0 THEN ((g * 7919) %% 200000)::numeric END, 1 + g %% 5, g %% 97 = 0,
                ({_sql_array(["red", "orange", "yellow", "blue"])})[1 + ((g * 13) %% 4)::int],
                ({_sql_array(["red", "orange", "yellow", "blue"])})[1 + ((g * 13) %% 4)::int],
                '[]', '', g %% 53 = 0, s.state, 1, p.center_id, (g %% 41 = 0)::int, {owner}, r.at,
                r.at + interval '30 days',
                CASE WHEN s.state IN ('closed', 'rejected', 'withdrawn')
                     THEN r.at + ((g %% 60) || ' days')::interval END,
                CASE WHEN s.state = 'closed' THEN (CASE WHEN g %% 5 = 0 THEN 'litigation' ELSE 'agreement' END)
                     ELSE '' END,
                '', ''
            FROM generate_series(1::bigint, %s) g
            JOIN bench_places p ON p.n = (g * 2654435761) %% {len(places)}
            CROSS JOIN LATERAL (SELECT ({_sql_array(STATES)})[1 + ((g * 17) %% {len(STATES)})::int] AS state) s
            CROSS JOIN LATERAL (SELECT now() - ((g * 104729) %% (1095 * 86400)) * interval '1 second' AS at) r
            """,
            [total],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        for _name, sql in indexes:
            if "gin" not in sql.lower():
                cursor.execute(sql)
        cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def naive(code: str, length: int) -> dict[str, Any]:
    """The dashboard's main groupings counted live over the case table (what the tallies replace)."""
    from zongzhi.access import Scope
    from zongzhi.cases.models import Case

    cases = Case.objects.filter(Scope(prefixes=(code[:length],)).q()).order_by()
    return {
        "totals": cases.aggregate(n=Count("id"), amount=Sum("amount")),
        "by_state": list(cases.values("state").annotate(n=Count("id"))),
        "by_category": list(cases.values("category_id").annotate(n=Count("id"))),
        "by_channel": list(cases.values("channel").annotate(n=Count("id"))),
        "monthly": list(cases.annotate(m=TruncMonth("registered_at")).values("m").annotate(n=Count("id"))),
        "children": list(cases.annotate(c=Substr("region_code", 1, length + 2)).values("c").annotate(n=Count("id"))),
    }


def _timed(call: Callable[[], Any], rounds: int) -> tuple[float, float]:
    call()
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def measure(client: Client) -> None:
    from zongzhi.cases.models import Case
    from zongzhi.dashboards import rollups

    total = int(os.environ.get("BENCH_DASHBOARD_CASES", "10000000"))
    if total <= 0 or connection.vendor != "postgresql":
        print("dashboards at scale: skipped (BENCH_DASHBOARD_CASES=0 or not PostgreSQL)")
        return
    seconds = generate(total)
    print(f"generated {total:,} cases (INSERT … SELECT generate_series, indexes rebuilt): {seconds:.1f} s")
    started = time.perf_counter()
    counts = rollups.rebuild()
    print(f"rollups --rebuild over {Case.objects.count():,} cases: {time.perf_counter() - started:.1f} s, {counts}")
    rounds = int(os.environ.get("BENCH_DASHBOARD_ROUNDS", "50"))
    naive_rounds = int(os.environ.get("BENCH_NAIVE_ROUNDS", "5"))
    print(
        f"{'dashboard (rollups) vs naive GROUP BY':<44} {'p50 ms':>8} {'p95 ms':>8} {'naive p50':>10} {'x faster':>9}"
    )
    for scope, code, length in (("league", LEAGUE, 4), ("county", COUNTY, 6)):
        url = f"/staff/dashboards/{code}/data.json"

        def get(url: str = url) -> None:
            assert client.get(url).status_code == 200

        p50, p95 = _timed(get, rounds)

        def count(code: str = code, length: int = length) -> None:
            naive(code, length)

        n50, _n95 = _timed(count, naive_rounds)
        print(f"{'GET ' + url + ' (' + scope + ')':<44} {p50:8.1f} {p95:8.1f} {n50:10.1f} {n50 / p50:9.0f}")
