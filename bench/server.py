"""A real server process for the benchmark, on the bench database, serving bench.urls; and the start
of a benchmark run alone (`python bench/x.py`): its database, migrated and seeded.

BENCH_SERVER=gunicorn (the default: the production server, deploy/gunicorn.conf.py, its workers and
threads from ZONGZHI_WORKERS / ZONGZHI_THREADS) or runserver (Django's development server).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")


def start(*, sqlite: str | None, scale: str, seeded_user: str) -> None:
    """Django on DATABASE_URL, else on PostgreSQL's bench database (recreated) when `sqlite` is None or
    on `var/<sqlite>` (recreated); migrated, and seeded at `scale` unless `seeded_user` is there."""
    if not os.environ.get("DATABASE_URL"):
        from bench.run import _database_url

        os.environ["DATABASE_URL"] = _database_url() if sqlite is None else _fresh_sqlite(sqlite)
    os.environ["DJANGO_SETTINGS_MODULE"] = "zongzhi.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from zongzhi.accounts.models import User

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username=seeded_user).exists():
        call_command("seed_demo", "--scale", scale, stdout=open(os.devnull, "w"))  # noqa: SIM115


def _fresh_sqlite(name: str) -> str:
    path = ROOT / "var" / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


@contextmanager
def serving(extra_env: dict[str, str] | None = None, server: str = SERVER) -> Iterator[str]:
    """Start the server (`extra_env` added to its environment), wait until it answers, yield its base
    URL, stop it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Server threads keep their database connections, as in production (ZONGZHI_CONN_MAX_AGE).
    env = {
        "ZONGZHI_CONN_MAX_AGE": "60",
        "ZONGZHI_ACCESS_LOG": "0",
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "ZONGZHI_DEBUG": "0",
        **(extra_env or {}),
    }
    if server == "runserver":
        argv = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    else:
        argv = [str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py"]
        env["ZONGZHI_BIND"] = f"127.0.0.1:{port}"
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        # Up to two minutes: on a loaded shared machine gunicorn's workers take a while to import Django.
        deadline = time.monotonic() + float(os.environ.get("BENCH_SERVER_START_SECONDS", "120"))
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 - our own local server
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the benchmark server did not start: {argv}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(60)
