"""Upper-level exchange without code: a second Zongzhi (the regional platform) on loopback, with its
own database, receives by webhook every major case of the league and its monthly figures, and shows
them on its exchange page.

Both ends are configuration only: `exchange_source` on the regional platform (who may push, with which
secret) and `webhook_subscribe` here (what to push where). The league's task worker sends.
"""

import datetime
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests import browsing
from tests.browsing import Http
from tests.service_accounts import service_account
from tests.task_worker import task_worker, wait_until
from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import register, who
from zongzhi.cases import services
from zongzhi.outbox.clock import figures_events, month_figures
from zongzhi.outbox.models import Subscription
from zongzhi.regions.models import Region

ROOT = Path(__file__).resolve().parents[1]
SECRET = "regional-shared-secret-0123456789"


def _regional_database() -> str:
    """A database of its own for the regional platform, made empty."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = Path(str(settings["NAME"])).with_name("test-regional.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    name = f"{settings['NAME']}_regional"
    base = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def _manage(database_url: str, *args: str, stdin: str = "") -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "ZONGZHI_DEBUG": "0"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def regional(django_db_blocker) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The regional platform: migrated, its demo logins, the league allowed to push, serving on loopback."""
    with django_db_blocker.unblock():
        database_url = _regional_database()
    _manage(database_url, "migrate", "-v0")
    _manage(database_url, "seed_demo", "--scale", "small")
    _manage(database_url, "exchange_source", "xilingol", stdin=SECRET + "\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "ZONGZHI_DEBUG": "0"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 - our own loopback server
            break
        except OSError:
            time.sleep(0.2)
    yield {"url": url, "database_url": database_url}
    process.terminate()
    process.wait(10)


def _page_as_league(regional: dict[str, str]) -> Http:
    """A session of the regional platform's league leader (not the league instance's one of the same name)."""
    saved = browsing._sessions.pop("demo-league", None)
    try:
        return Http(regional, "demo-league")
    finally:
        browsing._sessions.pop("demo-league", None)
        if saved is not None:
            browsing._sessions["demo-league"] = saved


def test_the_regional_platform_receives_major_cases_and_monthly_figures(
    server: dict[str, str], regional: dict[str, str], django_db_blocker
) -> None:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        platform, _token = service_account("regional-platform", region="152500000000")
        inbound = f"{regional['url']}/exchange/inbound/xilingol"
        out = _manage(
            server["database_url"],
            "webhook_subscribe",
            platform.username,
            inbound,
            "--kinds",
            "case.*,figures.monthly",
            "--major-only",
            "--region",
            "1525",
            "--secret-stdin",
            stdin=SECRET + "\n",
        )
        subscription = Subscription.objects.get(pk=int(out.split()[0]))
        major = in_progress()
        major = services.case_escalate(case=major, actor=who("director"), version=major.version, reason="涉及人数多")
        ordinary = register(title="普通纠纷不上报")
        services.case_accept(case=ordinary, actor=who("intake"), version=ordinary.version)
        # This month's figures, as the clock tells them on the first of next month: no other test tells this
        # month, while last month's may have gone out already (once each) before this subscription existed.
        today = timezone.localdate()
        figures_events(today.replace(day=28) + datetime.timedelta(days=4))
        month = today.replace(day=1)
        league = Region.objects.get(code="152500000000")
        expected_cases = month_figures(league, month)["cases"]

        leader = _page_as_league(regional)

        def shown() -> str:
            answer = leader.get("/staff/integration/exchange/")
            assert answer.status == 200, answer.status
            return answer.text

        with task_worker(server["database_url"]):
            wait_until(lambda: major.number in shown() and f'data-period="{month:%Y-%m}"' in shown(), seconds=120)
        page = shown()
        assert f'data-case="{major.number}"' in page
        assert ordinary.number not in page  # not major: not pushed
        row = page.split(f'data-region="152500000000" data-period="{month:%Y-%m}"', 1)[1].split("</tr>", 1)[0]
        assert f"<td>{expected_cases}</td>" in row
        assert not subscription.deliveries.filter(status="dead").exists()
        repeated = subscription.deliveries.filter(status="delivered").count()
        assert repeated >= 2
        Subscription.objects.filter(pk=subscription.pk).update(active=False)
