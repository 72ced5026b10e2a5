"""A real server process for the benchmark, on the bench database, serving bench.urls.

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


@contextmanager
def serving() -> Iterator[str]:
    """Start the server, wait until it answers, yield its base URL, stop it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Server threads keep their database connections, as in production (ZONGZHI_CONN_MAX_AGE).
    env = {"ZONGZHI_CONN_MAX_AGE": "60", **os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "ZONGZHI_DEBUG": "0"}
    if SERVER == "runserver":
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
