"""A county's residents exported as a background job (PostgreSQL only), CSV and XLSX, against floors
measured in the same run.

`python bench/exports.py` with DATABASE_URL pointing at a PostgreSQL database. When Xilinhot's
residents are not there yet it seeds them (`seed_demo --scale small`, then its ~262,000 residents;
about ten minutes), else it reuses them. The Xilinhot director (`demo-director`, scope 152502) asks
for the export; each run is `export_job_run`, the body of the worker's task (scoped read, masking,
the file under var/exports, progress updates, the audit entry), in a fresh process for its own peak RSS
(the job's forked worker processes, `ZONGZHI_EXPORT_PROCESSES`, default one a core, not counted in it).

Floors, same rows, same run: `COPY (SELECT … the same joined columns, same order) TO STDOUT` into a
file (the database's own fastest way out, tokens still encrypted), and decrypting the two encrypted
columns of every row in one process (the crypto no export can skip; `crypto.decryptor()`, the keyring
read once).
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COUNTY = "152502"  # 锡林浩特市, the league's largest county (26.3 × 10,000 people in the reference)
ACTOR = "demo-director"
FORMATS = os.environ.get("BENCH_EXPORT_FORMATS", "csv,xlsx").split(",")


def main() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        print("exports: PostgreSQL only (set DATABASE_URL)")
        return
    _seed()
    from zongzhi.grid.models import Resident

    rows = Resident.objects.filter(region_code__startswith=COUNTY).count()
    print(f"export of a county's residents (PostgreSQL), 锡林浩特市 ({COUNTY}), {rows:,} rows, as {ACTOR}", flush=True)
    from django.conf import settings

    print(f"  worker processes of a job: {settings.EXPORT_PROCESSES}; load {os.getloadavg()[0]:.1f}", flush=True)
    copy_seconds = _copy_floor()
    decrypt_seconds = _decrypt_floor()
    floor = copy_seconds + decrypt_seconds
    print(f"  {'run':<52} {'seconds':>8} {'rows/s':>9} {'MB':>6} {'RSS MB':>7} {'x COPY':>7} {'x floors':>8}")
    print(f"  {'floor: COPY (SELECT the same columns) TO a file':<52} {copy_seconds:8.2f} {rows / copy_seconds:9,.0f}")
    label = "floor: decrypting both columns of every row"
    print(f"  {label:<52} {decrypt_seconds:8.2f} {rows / decrypt_seconds:9,.0f}")
    for fmt in FORMATS:
        run = _child(fmt)
        assert run["rows"] == rows, (run["rows"], rows)
        label = f"export job, {fmt} (scoped, masked, audited, file)"
        print(
            f"  {label:<52} {run['seconds']:8.2f} {rows / run['seconds']:9,.0f} {run['bytes'] / 1e6:6.1f}"
            f" {run['peak_mb']:7.0f} {run['seconds'] / copy_seconds:7.1f} {run['seconds'] / floor:8.2f}",
            flush=True,
        )


def _seed() -> None:
    from django.core.management import call_command

    from zongzhi.grid.models import Resident

    if Resident.objects.filter(region_code__startswith=COUNTY).exists():
        return
    print("seeding: seed_demo --scale small, then Xilinhot's residents (once; reused by later runs)")
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--scale", "small", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from zongzhi.demo.residents import seed_residents

    seed_residents(scale="small", seed_value=2025)


SELECT = """
SELECT h.code, g.name, r.region_code, h.address, r.name, r.relation, r.ethnicity, r.language,
       r.id_number, r.phone, r.registered, r.living, h.claimed_by_id IS NOT NULL
FROM grid_resident r JOIN grid_household h ON h.id = r.household_id JOIN regions_region g ON g.id = h.grid_id
WHERE r.region_code >= %s AND r.region_code < %s
ORDER BY r.region_code, r.household_id, r.id
"""


def _copy_floor() -> float:
    import tempfile

    from django.db import connection

    with connection.cursor() as cursor, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        query = cursor.mogrify(SELECT, [COUNTY, COUNTY + "\uffff"])
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
            for block in copy:
                out.write(block)
        return time.perf_counter() - started


def _decrypt_floor() -> float:
    from django.db import connection

    from zongzhi.crypto import decryptor

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM grid_resident WHERE region_code >= %s AND region_code < %s",
            [COUNTY, COUNTY + "\uffff"],
        )
        tokens = cursor.fetchall()
    started = time.perf_counter()
    decrypt = decryptor()
    for number, phone in tokens:
        decrypt(number)
        if phone:
            decrypt(phone)
    return time.perf_counter() - started


def _child(fmt: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "run", fmt], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(fmt: str) -> dict[str, Any]:
    from zongzhi.accounts.models import User
    from zongzhi.transfer.export_jobs import export_job_run
    from zongzhi.transfer.models import ExportJob

    actor = User.objects.get(username=ACTOR)
    job = ExportJob.objects.create(list_name="residents", fmt=fmt, filters={"region": COUNTY}, created_by=actor)
    started = time.perf_counter()
    count = export_job_run(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    path = Path(job.path)
    size = path.stat().st_size
    path.unlink()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rows": count, "bytes": size, "peak_mb": peak}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
    import django

    django.setup()
    if sys.argv[1:2] == ["run"]:
        print(json.dumps(_run(sys.argv[2])))
    else:
        main()
