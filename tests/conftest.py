"""Shared fixtures: the league demo seeded once per run, and the demo personas.

The personas are the demo logins of `seed_demo` (Xilinhot unless said otherwise):
intake (窗口受理员), director, liaison, mediator, gridworker (one grid), leader, judge, league
(盟 leader, whole league), and the three administrators sysadmin, secadmin, auditor.
"""

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import sql_regions
from tests.replay import Mark, replay_problems
from zongzhi import sqlrecord
from zongzhi.accounts.models import User
from zongzhi.demo.seed import seed

T = TypeVar("T")
DEMO_PASSWORD = "Zongzhi-Demo-2025"
XILINHOT = "152502000000"
DUOLUN = "152531000000"


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Create the test database and seed the whole league once.

    Always created, even when only browser tests (which hold no `db` fixture) are selected.
    Each `db` test then runs in a transaction rolled back after it. The audit checkpoints of this
    database go to a directory of its own (for the server and command processes too): those of an
    earlier run describe a database that is gone.
    """
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    checkpoints = tmp_path_factory.mktemp("audit-checkpoints")
    os.environ["ZONGZHI_AUDIT_CHECKPOINT_DIR"] = str(checkpoints)
    settings.AUDIT_CHECKPOINT_DIR = checkpoints

    with django_db_blocker.unblock(), sqlrecord.labelled("session setup (migrations, demo seed)"):
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})  # type: ignore[arg-type]
        seed(scale="league", seed_value=2025)
    yield
    with django_db_blocker.unblock():
        _end_other_sessions()
        teardown_databases(config, verbosity=0)


def _end_other_sessions() -> None:
    """On PostgreSQL, end what still holds the test database (a server process's or a worker thread's
    connection that has not closed yet), or dropping it fails and the whole run with it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def replay_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that reaches the database, the cases it created or changed replay through the table.

    Tests in a rolled-back transaction are checked inside it; tests on committed data (browser tests,
    races) after they end, from a thread of their own (Playwright's event loop runs in this one, where
    Django refuses the ORM). Only the cases written since the test began are read, so the check is cheap.
    """
    names = set(request.fixturenames)
    in_transaction = bool({"db", "transactional_db"} & names) or request.node.get_closest_marker("django_db")
    if not in_transaction and "django_db_setup" not in names:
        yield  # no database at all
        return
    if in_transaction:
        request.getfixturevalue("db")  # set up first, so it is torn down (rolled back) after the check
    run = (lambda work: work()) if in_transaction else _in_a_thread
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        mark = run(Mark.now)
    yield
    with blocker.unblock():
        problems = run(lambda: replay_problems(mark.cases_since()))
    if problems:
        lines = "\n".join(str(p) for p in problems[:20])
        pytest.fail(f"timelines that do not replay through the transition table:\n{lines}")


def _in_a_thread(work: Callable[[], T]) -> T:
    def body() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(body).result()


def totp_code(device: TOTPDevice, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def persona(db) -> Callable[[str], User]:  # type: ignore[no-untyped-def]
    def get(name: str) -> User:
        return User.objects.get(username=f"demo-{name}")

    return get


def verified_client(user: User) -> Client:
    """A client whose session passed both factors, as the login view leaves it."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def client_as(db) -> Callable[[str], Client]:  # type: ignore[no-untyped-def]
    def make(name: str) -> Client:
        return verified_client(User.objects.get(username=f"demo-{name}"))

    return make


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With ZONGZHI_SQL_RECORD set (`make test-pg`: the whole suite), fail on the application's statements that
    touch a case-side table without its region code, unless they are documented national reads or on
    the baseline of known debt (tests/sql_regions.py, docs/national.md)."""
    folder = os.environ.get(sqlrecord.ENV)
    if not folder or hasattr(session.config, "workerinput"):
        return
    statements = sql_regions.recorded(Path(folder))
    new, known = sql_regions.violations(statements, sql_regions.baseline())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    write(
        f"\nsql regions: {len(statements)} statements recorded in {folder}; {len(known)} without their region"
        f" predicate are on the baseline ({sql_regions.BASELINE.name}, debt), {len(new)} are new"
    )
    if os.environ.get("ZONGZHI_SQL_BASELINE_WRITE") == "1":
        sql_regions.write_baseline([*new, *known])
        write(f"sql regions: baseline rewritten with {len(new) + len(known)} statements")
        return
    for found in new:
        write(f"\nNO REGION PREDICATE on {', '.join(found.tables)}:\n  {found.statement}")
        for where in found.origins:
            write(f"    from {where}")
    if new:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# The browser machinery (one server process per test session, Chromium, logging in) for every
# browser test module.
from tests.browsing import browser, page, server  # noqa: E402,F401
