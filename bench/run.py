"""make bench: the foundation's read paths against a bare endpoint measured in the same run.

Uses PostgreSQL when one answers at PG_URL (database zongzhi_bench, recreated), else SQLite
(var/bench.sqlite3). Seeds the league, then times each endpoint in-process with Django's test
client (same request machinery as the floor) and prints p50/p95 and the ratio to the floor,
`GET /healthz` (one SELECT 1).
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/zongzhi")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
BENCH_DB = os.environ.get("BENCH_DB", "zongzhi_bench")  # recreated on every run


def _database_url() -> str:
    reachable = subprocess.run([sys.executable, "scripts/pg_reachable.py", PG_URL], cwd=ROOT, capture_output=True)
    if reachable.returncode == 0:
        import psycopg

        base = PG_URL.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        return f"{base}/{BENCH_DB}"
    path = ROOT / "var" / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main() -> None:
    os.environ["DATABASE_URL"] = _database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "zongzhi.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zongzhi.accounts.models import User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", "--scale", "league", stdout=open(os.devnull, "w"))  # noqa: SIM115
    seed_seconds = time.perf_counter() - started
    print(f"database: {connection.vendor}; seed_demo --scale league: {seed_seconds:.1f} s")

    user = User.objects.get(username="demo-league")
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()

    def timed(url: str) -> tuple[float, float]:
        for _ in range(10):
            client.get(url)
        samples = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t) * 1000)
            assert response.status_code in (200, 302), (url, response.status_code)
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]

    floor50, floor95 = timed("/healthz")
    print(f"{'endpoint':<44} {'p50 ms':>8} {'p95 ms':>8} {'x floor p50':>12}")
    print(f"{'GET /healthz (floor)':<44} {floor50:8.2f} {floor95:8.2f} {1:12.1f}")
    for url in (
        "/api/v1/regions/152500000000/children",
        "/api/v1/stats",
        "/api/v1/centers/ZZ-152502",
        "/staff/regions/152500000000/",
        "/staff/regions/152502000000/",
        "/staff/centers/ZZ-152502/",
        "/staff/",
    ):
        p50, p95 = timed(url)
        print(f"{'GET ' + url:<44} {p50:8.2f} {p95:8.2f} {p50 / floor50:12.1f}")

    if os.environ.get("BENCH_SERVING", "1") == "1":  # through gunicorn, as a browser or a department system
        from bench.serving import measure as measure_serving

        measure_serving(client.cookies["sessionid"].value)  # each read against its bare replay

    if os.environ.get("BENCH_LOAD", "1") == "1":  # the personas' mix, 200 users for 5 minutes (BENCH_LOAD_*)
        from bench.load import measure as measure_load

        measure_load()

    from bench.cases import measure

    measure(int(os.environ.get("BENCH_CASES", "200")))

    from bench.audit import measure as measure_audit

    measure_audit(int(os.environ.get("BENCH_AUDIT", "2000")))

    if os.environ.get("BENCH_RESIDENTS", "1") == "1":  # ~1.1 million residents: several minutes
        from bench.residents import measure as measure_residents

        measure_residents()

    if os.environ.get("BENCH_IMPORT", "1") == "1":  # 100,000 residents from XLSX against its floor
        from bench.transfer import measure as measure_import

        measure_import()

    if os.environ.get("BENCH_FIELD_SYNC", "1") == "1":  # the field app: 100 queued records, 20 photos
        from bench.field_sync import measure as measure_field_sync

        measure_field_sync()

    if os.environ.get("BENCH_WEBHOOKS", "1") == "1":  # commit → webhook receipt through the task worker
        from bench.webhooks import measure as measure_webhooks

        measure_webhooks()

    if os.environ.get("BENCH_SLOW_LINKS", "1") == "1":  # portal and grid pages in Chromium on emulated Fast 3G
        from bench.slow_links import measure as measure_slow_links

        measure_slow_links()

    from bench.dashboards import measure as measure_dashboards

    measure_dashboards(client)  # BENCH_DASHBOARD_CASES=10000000 by default: ~45 minutes (load 13, rebuild 31)


if __name__ == "__main__":
    main()
