"""Reads from a real PostgreSQL streaming replica: a second cluster made with pg_basebackup from the
test server, on loopback, and a live server process reading its dashboards and lists from it.

Replay on the replica is paused to make it visibly behind: a case written meanwhile is missing from
the lists of someone who did not write it (their reads come from the replica), present for the one
who wrote it (read your writes: the primary), present for everyone once replay resumes, and still
served when the replica is stopped (the primary takes over).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest

from tests.browsing import ROOT, _database_url
from tests.http_client import HttpClient, logged_in
from zongzhi.accounts.models import Jurisdiction

PG_BIN = Path("/usr/lib/postgresql") / (
    os.listdir("/usr/lib/postgresql")[0] if Path("/usr/lib/postgresql").exists() else ""
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=300)


def _unavailable(reason: str) -> None:
    if os.environ.get("ZONGZHI_REQUIRE_PG") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        primary = _database_url()
    if not primary.startswith("postgres"):
        pytest.skip("a streaming replica is a PostgreSQL feature; this run is on SQLite")
    try:
        psycopg.connect("host=127.0.0.1 port=5432 user=postgres replication=true", connect_timeout=3).close()
    except psycopg.OperationalError as error:
        _unavailable(
            f"the local PostgreSQL refuses replication over loopback (scripts/pg_allow_replication.sh): {error}"
        )
    data = Path(tempfile.mkdtemp(prefix="zongzhi-replica-"))
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    port = _free_port()
    for _ in range(3):  # a database created or dropped meanwhile by another run on this server ends a copy
        copied = _as_postgres(
            str(PG_BIN / "bin/pg_basebackup"), "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
            "-D", str(data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        if copied.returncode == 0:
            break
    if copied.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        _unavailable(f"pg_basebackup failed: {copied.stderr}")
    (data / "postgresql.conf").write_text(
        f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{data}'\n"
        "hot_standby = on\nhot_standby_feedback = on\n"
    )
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")
    for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
        shutil.chown(data / name, "postgres", "postgres")
    started = _as_postgres(str(PG_BIN / "bin/pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "start")
    assert started.returncode == 0, started.stderr + (data / "log").read_text()
    replica_url = primary.replace(":5432/", f":{port}/")
    try:
        yield {"primary": primary, "url": replica_url, "data": data}
    finally:
        _as_postgres(str(PG_BIN / "bin/pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def served(replica: dict[str, Any]) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": replica["primary"], "DATABASE_REPLICA_URL": replica["url"],
           "ZONGZHI_DEBUG": "0", "ZONGZHI_REPLICA_RETRY_SECONDS": "2"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            HttpClient(base).request("GET", "/healthz")
            break
        except OSError:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(10)


def _on_replica(replica: dict[str, Any], statement: str) -> Any:
    with psycopg.connect(replica["url"], autocommit=True) as conn:
        return conn.execute(statement).fetchone()[0]  # type: ignore[index]


def _caught_up(replica: dict[str, Any]) -> None:
    with psycopg.connect(replica["primary"], autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    for _ in range(200):
        if _on_replica(replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def _listed(client: HttpClient, title: str) -> int:
    answer = client.request("GET", "/api/v1/cases?" + urlencode({"q": title}))
    assert answer.status == 200, answer.text
    return int(answer.json()["count"])


def _intake(title: str) -> dict[str, Any]:
    return {
        "category": "labour",
        "title": title,
        "description": "某合作社拖欠牧工工资，经村委会协调未果。",
        "region": "152502001001",
        "parties": [{"kind": "person", "role": "applicant", "name": "巴特尔", "phone": "13947900123"}],
    }


def test_lists_read_from_the_replica_and_writers_read_their_writes(
    replica: dict[str, Any], served: str, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        leader, clerk = logged_in(served, "demo-leader"), logged_in(served, "demo-intake")
        region = Jurisdiction.objects.filter(user__username="demo-leader").values_list("region__code", flat=True)[0]
    title = f"复制延迟{uuid.uuid4().hex[:6]}"
    _caught_up(replica)  # the sessions just written are on the replica too
    _on_replica(replica, "SELECT pg_wal_replay_pause()")
    try:
        made = clerk.request(
            "POST", "/api/v1/cases", json.dumps(_intake(title)).encode(), {"Content-Type": "application/json"}
        )
        assert made.status == 201, made.text
        assert "zz_wal" in clerk.cookies  # the primary's position after the write
        assert _listed(leader, title) == 0  # the leader's list comes from the paused replica
        assert _listed(clerk, title) == 1  # the writer reads its own write (from the primary)
        assert leader.request("GET", f"/staff/dashboards/{region}/data.json").status == 200
    finally:
        _on_replica(replica, "SELECT pg_wal_replay_resume()")
    _caught_up(replica)
    assert _listed(leader, title) == 1


def test_the_platform_keeps_working_when_the_replica_is_down(
    replica: dict[str, Any], served: str, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        leader = logged_in(served, "demo-leader")
    _caught_up(replica)
    before = _listed(leader, "")
    stopped = _as_postgres(str(PG_BIN / "bin/pg_ctl"), "-D", str(replica["data"]), "-m", "fast", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert _listed(leader, "") == before  # read from the primary now
    assert leader.request("GET", "/api/v1/stats").status == 200
    restarted = _as_postgres(
        str(PG_BIN / "bin/pg_ctl"), "-D", str(replica["data"]), "-l", str(replica["data"] / "log"), "-w", "start"
    )
    assert restarted.returncode == 0, restarted.stderr
