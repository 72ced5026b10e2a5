"""Importing residents from XLSX (PostgreSQL only) against its floor, each in a fresh process.

The file: BENCH_IMPORT_ROWS (default 100,000) residents in households of four, made with openpyxl.
Import: `run_import` of the residents kind, as `manage.py import_data` runs it (validation, the
"already present" lookups, the spool, one transaction).
Floor: the same file read with the same reader (`reader.open_table`, read-only openpyxl), the same
stored values made (blind index of the ID and phone; encryption on the way in), and the rows copied
with two COPY statements and one commit into scratch copies of the household and resident tables
(same columns, indexes and constraints). Both run in their own process so each peak RSS is its own.
"""

import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
PREFIX = "HBENCH-"
SCRATCH = ("bench_floor_household", "bench_floor_resident")
HEADERS = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号", "联系电话"]


def measure() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        print("\nimport: skipped, PostgreSQL only (this run is on SQLite)")
        return
    from zongzhi.regions.models import Region

    grids = list(Region.objects.filter(level="grid", code__startswith="152502").values_list("code", flat=True)[:50])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "residents.xlsx"
        started = time.perf_counter()
        _make_file(path, grids)
        print(f"\nimport of residents from XLSX (PostgreSQL), {ROWS:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        print(f"  making the file (openpyxl write-only): {time.perf_counter() - started:.1f} s")
        floor = _child("floor", path)
        first = _child("import", path)
        again = _child("import", path)
        _cleanup()
    print(f"  {'run':<44} {'seconds':>8} {'peak RSS MB':>12} {'x floor':>8}")
    label = "floor: same reader + COPY of the same rows"
    print(f"  {label:<44} {floor['seconds']:8.1f} {floor['peak_mb']:12.0f} {1:8.2f}")
    for label, run in (("import (all new rows)", first), ("import again (all unchanged)", again)):
        print(f"  {label:<44} {run['seconds']:8.1f} {run['peak_mb']:12.0f} {run['seconds'] / floor['seconds']:8.2f}")
    print(f"  first import: {first['report']}; again: {again['report']}")


def _make_file(path: Path, grids: list[str]) -> None:
    from openpyxl import Workbook

    from zongzhi.identity import make_resident_id

    book = Workbook(write_only=True)
    sheet = book.create_sheet("居民")
    sheet.append(HEADERS)
    for i in range(ROWS):
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=i // 900)
        number = make_resident_id("110101", birth, i % 900)  # registered in Beijing: no clash with the demo's people
        relation = "户主" if i % 4 == 0 else "子女"
        home = f"{PREFIX}{i // 4:07d}"
        sheet.append([home, grids[(i // 4) % len(grids)], f"居民{i}", relation, "汉族", number, f"138{i:08d}"])
    book.save(path)


def _child(what: str, path: Path) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # each timed run starts with the WAL flushed
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), what, str(path)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cleanup() -> None:
    from zongzhi.grid.models import Household, Resident

    Resident.objects.filter(household__code__startswith=PREFIX).delete()
    Household.objects.filter(code__startswith=PREFIX).delete()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_import(path: Path) -> dict[str, Any]:
    from zongzhi.access import Scope
    from zongzhi.transfer.engine import run_import
    from zongzhi.transfer.residents import ResidentsImport

    started = time.perf_counter()
    report = run_import(ResidentsImport(), path, scope=Scope.everything(), actor_name="bench")
    seconds = time.perf_counter() - started
    assert report.problem_count == 0, report.problems[:5]
    figures = f"inserted {report.inserted}, updated {report.updated}, unchanged {report.unchanged}"
    return {"seconds": seconds, "peak_mb": _peak_mb(), "report": figures}


def _run_floor(path: Path) -> dict[str, Any]:
    from django.db import connection, transaction

    from zongzhi.grid.models import Resident
    from zongzhi.grid.services import RESIDENT_COLUMNS, phone_index, resident_id_index
    from zongzhi.regions.models import Region
    from zongzhi.transfer.reader import clean_text, compact, open_table
    from zongzhi.transfer.residents import RELATIONS, ResidentsImport

    grids = dict(Region.objects.filter(level="grid").values_list("code", "pk"))
    home_columns = ["id", "code", "village_id", "grid_id", "region_code", "address", "herder"]
    # The encryption any insert of these columns does (the field's own get_prep_value).
    encrypt_id = Resident._meta.get_field("id_number").get_prep_value
    encrypt_phone = Resident._meta.get_field("phone").get_prep_value
    _scratch_tables()
    try:
        started = time.perf_counter()
        homes: dict[str, int] = {}
        home_rows: list[tuple[Any, ...]] = []
        people: list[tuple[Any, ...]] = []
        # One pass over the file; psycopg copies one table at a time, and residents need their households first.
        for row in open_table(path, ResidentsImport.columns).rows:
            v = row.values
            code, grid = compact(v["household"]), compact(v["grid"])
            if code not in homes:
                homes[code] = len(homes) + 1
                home_rows.append((homes[code], code, grids[grid], grids[grid], grid, "", False))
            number, phone = compact(v["id_number"]), compact(v["phone"])
            people.append(
                (homes[code], grid, clean_text(v["name"]), RELATIONS[clean_text(v["relation"])],
                 clean_text(v["ethnicity"]), "zh", encrypt_id(number), resident_id_index(number),
                 encrypt_phone(phone), phone_index(phone), True, True)
            )  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns, rows in ((SCRATCH[0], home_columns, home_rows), (SCRATCH[1], RESIDENT_COLUMNS, people)):
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for item in rows:
                        copy.write_row(item)
        seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH[1]}, {SCRATCH[0]}")
    return {"seconds": seconds, "peak_mb": _peak_mb(), "report": f"{len(homes)} households, {len(people)} residents"}


def _scratch_tables() -> None:
    from django.db import connection

    from zongzhi.grid.models import Household, Resident

    with connection.cursor() as cursor:
        for model, scratch in zip((Household, Resident), SCRATCH, strict=True):
            table = model._meta.db_table
            cursor.execute(f"DROP TABLE IF EXISTS {scratch} CASCADE")
            cursor.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for (definition,) in cursor.fetchall():
                definition = definition.replace(f"REFERENCES {Household._meta.db_table}(", f"REFERENCES {SCRATCH[0]}(")
                cursor.execute(f"ALTER TABLE {scratch} ADD {definition}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
    import django

    django.setup()
    what, file = sys.argv[1], Path(sys.argv[2])
    result = _run_import(file) if what == "import" else _run_floor(file)
    print(json.dumps(result))
