"""The task worker (`manage.py db_worker`) as a real process on the test database, for a while."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Fast retries so a test sees a delivery fail, time out, fail again and recover in seconds.
QUICK = {
    "ZONGZHI_WEBHOOK_TIMEOUT": "1",
    "ZONGZHI_WEBHOOK_BACKOFF": "0.2",
    "ZONGZHI_WEBHOOK_BACKOFF_MAX": "1",
    "ZONGZHI_SMS_BACKOFF": "0.2",
    "ZONGZHI_SMS_QUIET_HOURS": "0-0",
}


@contextmanager
def task_worker(database_url: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    settings = {**os.environ, "DATABASE_URL": database_url, "ZONGZHI_DEBUG": "0", **QUICK, **env}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=settings,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(20)


def wait_until(done: Callable[[], bool], seconds: float = 90) -> bool:
    """Poll until `done()` (a bound on waiting, not a timed assertion: the test asserts what arrived)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.2)
    return done()
