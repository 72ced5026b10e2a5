"""The league's 1.1 million residents (PostgreSQL only): seeding them against a raw COPY of the same rows,
and resident search by ID and by name against `SELECT 1` round trips, each floor measured in the same run.

Seeding floor: the rows `seed_residents` writes, made by the same code (planning, blind indexes,
encryption through the field), then copied in with two COPY statements and one commit into scratch
copies of the two tables: same columns, indexes and constraints (foreign keys included), nothing else.
Both ratios are printed: seeding / (making the rows + COPY), and seeding / COPY alone.

`make bench` runs it on a fresh database. Alone, on a database that is kept (seeded on the first run,
search timed on every run; the seeding and its floor are timed only when the residents are new):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zongzhi_search python bench/residents.py
"""

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __name__ in ("__main__", "__mp_main__"):  # standalone (and the seeder's worker processes, which re-run it)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
    import django

    django.setup()

from django.db import connection, transaction

from zongzhi.access import Scope
from zongzhi.bulk import field_adapter
from zongzhi.demo.plan import load_reference
from zongzhi.demo.residents import planned_rows, seed_residents
from zongzhi.grid.models import Household, Resident
from zongzhi.grid.selectors import resident_search
from zongzhi.grid.services import HOUSEHOLD_COLUMNS, RESIDENT_COLUMNS

SEED = 2025
QUERIES = 200
SCRATCH = {Household: "bench_floor_household", Resident: "bench_floor_resident"}


def measure() -> None:
    if connection.vendor != "postgresql":
        print("\nresidents: skipped, PostgreSQL only (this run is on SQLite)")
        return
    print("\nresidents (league, PostgreSQL)")
    seconds = _seed()
    if seconds is None:  # the floor's figures are there to be divided into the seeding time
        print("  floor: not measured (no seeding timed in this run)")
    else:
        _floor(seconds)
    _search()


def _checkpoint() -> None:
    # Start each timed write with the WAL flushed, so neither pays for the other's checkpoint.
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def _seed() -> float | None:
    if Resident.objects.exists():
        print("  residents already present: seeding not timed")
        return None
    _checkpoint()
    started = time.perf_counter()
    inserted = seed_residents(scale="league", seed_value=SEED)
    seconds = time.perf_counter() - started
    households = Household.objects.count()
    print(f"  seed_residents --scale league: {inserted:,} residents in {households:,} households, {seconds:.1f} s")
    return seconds


def _floor(seed_seconds: float) -> None:
    pk = dict(Household.objects.values_list("code", "pk"))  # as the seeder reads back after each batch
    adapt_home, adapt_person = _adapters(Household, ["id", *HOUSEHOLD_COLUMNS]), _adapters(Resident, RESIDENT_COLUMNS)
    started = time.perf_counter()
    homes: list[tuple[Any, ...]] = []
    people: list[tuple[Any, ...]] = []
    for batch_homes, batch_people in planned_rows(scale="league", seed_value=SEED):
        homes += (adapt_home((pk[row[0]], *row)) for row in batch_homes)
        people += (adapt_person((pk[row[0]], *row[1:])) for row in batch_people)
    making = time.perf_counter() - started

    _scratch_tables()
    try:
        _checkpoint()
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns, rows in (
                (SCRATCH[Household], ["id", *HOUSEHOLD_COLUMNS], homes),
                (SCRATCH[Resident], RESIDENT_COLUMNS, people),
            ):
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        copying = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH[Resident]}, {SCRATCH[Household]}")
    counted = f"{len(people):,} + {len(homes):,}"
    print(f"  floor: making the same {counted} rows (plan, blind indexes, encryption) {making:.1f} s")
    print(f"  floor: COPY of them into copies of the tables (columns, indexes, constraints) {copying:.1f} s")
    print(f"  ratio seeding / (making + COPY): {seed_seconds / (making + copying):.2f}")
    print(f"  ratio seeding / COPY alone:      {seed_seconds / copying:.2f}")


def _adapters(model: Any, columns: list[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Each value as the seeder's insert (`zongzhi.bulk.insert_rows`) passes it to COPY: ID and phone encrypted."""
    fields = [model._meta.get_field(c.removesuffix("_id") if c.endswith("_id") else c) for c in columns]
    adapters = [field_adapter(f) for f in fields]

    def adapt(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v if a is None or v is None else a(v) for v, a in zip(row, adapters, strict=True))

    return adapt


def _scratch_tables() -> None:
    """Copies of the two tables with their indexes and constraints; the resident's household key points at the copy."""
    with connection.cursor() as cursor:
        for model, scratch in SCRATCH.items():
            table = model._meta.db_table
            cursor.execute(f"DROP TABLE IF EXISTS {scratch} CASCADE")
            cursor.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for (definition,) in cursor.fetchall():
                definition = definition.replace(
                    f"REFERENCES {Household._meta.db_table}(", f"REFERENCES {SCRATCH[Household]}("
                )
                cursor.execute(f"ALTER TABLE {scratch} ADD {definition}")


def _percentiles(run: Callable[[Any], Any], values: list[Any]) -> tuple[float, float]:
    for value in values[:10]:
        run(value)
    samples = []
    for value in values:
        started = time.perf_counter()
        run(value)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def _search() -> None:
    rng = random.Random(SEED)
    low, high = Resident.objects.order_by("id").values_list("id", flat=True)[:1][0], Resident.objects.latest("id").id
    sample: list[tuple[str, str]] = []
    while len([name for name, _id in sample if len(name) == 3]) < QUERIES:
        ids = rng.sample(range(low, high + 1), 500)
        sample += [(r.name, r.id_number) for r in Resident.objects.filter(pk__in=ids).only("name", "id_number")]
    scope = Scope.of_region(load_reference()["league"]["code"], "league")

    def select_one(_value: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def search(q: str) -> None:
        list(resident_search(scope, q))

    floor50, floor95 = _percentiles(select_one, list(range(QUERIES)))
    print(f"  search through grid.selectors.resident_search, league scope, {QUERIES} different queries each")
    print(f"  {'query':<34} {'p50 ms':>8} {'p95 ms':>8} {'x floor p50':>12}")
    print(f"  {'SELECT 1 round trip (floor)':<34} {floor50:8.2f} {floor95:8.2f} {1:12.1f}")
    for label, queries in (
        ("resident ID (blind index)", [number for _name, number in sample[:QUERIES]]),
        ("2-character name prefix", [name[:2] for name, _number in sample[:QUERIES]]),
        ("full 3-character name", [name for name, _number in sample if len(name) == 3][:QUERIES]),
    ):
        p50, p95 = _percentiles(search, queries)
        print(f"  {label:<34} {p50:8.2f} {p95:8.2f} {p50 / floor50:12.1f}")


if __name__ == "__main__":
    # On the database of DATABASE_URL, kept between runs: the league's regions and people are seeded
    # once (seed_demo is idempotent), later runs time the search only.
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--scale", "league", stdout=open(os.devnull, "w"))  # noqa: SIM115
    measure()
