"""The production server: gunicorn with deploy/gunicorn.conf.py, health and readiness, JSON logs with request ids."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.browsing import ROOT, _database_url
from tests.http_client import HttpClient
from zongzhi.cases.tasks import sweep_deadlines_task


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, object]]:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with django_db_blocker.unblock():
        database_url = _database_url()
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ZONGZHI_BIND": f"127.0.0.1:{port}",
        "ZONGZHI_WORKERS": "2",
        "ZONGZHI_LOG_FORMAT": "json",
        "ZONGZHI_ACCESS_LOG": "1",
        "ZONGZHI_DEBUG": "0",
        # Tasks queued by earlier tests wait forever (no worker runs in the suite): readiness is
        # checked with a lag no test run reaches; the lag itself is tested in-process below.
        "ZONGZHI_WORKER_MAX_LAG": "864000",
    }
    gunicorn_bin = str(Path(sys.executable).with_name("gunicorn"))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [gunicorn_bin, "--config", "deploy/gunicorn.conf.py"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    client = HttpClient(base)
    for _ in range(150):
        try:
            if client.request("GET", "/healthz").status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"gunicorn did not start: {log.read_text()}")
    yield {"base": base, "log": log}
    process.terminate()
    process.wait(30)


def test_gunicorn_answers_health_and_readiness(gunicorn: dict[str, object]) -> None:
    client = HttpClient(str(gunicorn["base"]))
    health = client.request("GET", "/healthz")
    assert (health.status, health.json()) == (200, {"ok": True})
    ready = client.request("GET", "/readyz")
    assert ready.status == 200
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and checks["worker"]["ok"]


def test_gunicorn_serves_requests_side_by_side(gunicorn: dict[str, object]) -> None:
    base = str(gunicorn["base"])
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: HttpClient(base).request("GET", "/staff/login/").status, range(16)))
    assert statuses == [200] * 16


def test_each_request_has_an_id_in_the_answer_and_in_a_json_log_line(gunicorn: dict[str, object]) -> None:
    client = HttpClient(str(gunicorn["base"]))
    offered = client.request("GET", "/healthz?who=152501198001011234", headers={"X-Request-ID": "proxy-req-000042"})
    assert offered.headers["x-request-id"] == "proxy-req-000042"
    made = client.request("GET", "/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32
    log = Path(str(gunicorn["log"]))
    for _ in range(50):  # the worker writes its line just after answering
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        mine = [line for line in lines if line.get("request_id") == "proxy-req-000042"]
        if mine:
            break
        time.sleep(0.1)
    assert mine, log.read_text()
    assert mine[0]["path"] == "/healthz" and mine[0]["status"] == 200 and mine[0]["logger"] == "zongzhi.access"
    assert "152501198001011234" not in log.read_text()  # the query string is never logged


@pytest.mark.django_db
def test_readiness_reports_a_worker_that_stopped_picking_up_tasks(client: Client) -> None:
    DBTaskResult.objects.ready().delete()  # tasks earlier tests queued, with no worker running
    assert client.get("/readyz").status_code == 200
    result = sweep_deadlines_task.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=timezone.now() - datetime.timedelta(hours=1))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    worker = answer.json()["checks"]["worker"]
    assert worker["ok"] is False and 3600 <= worker["figure"]["oldest_waiting_seconds"] < 3660
    assert answer.json()["checks"]["database"]["ok"] is True
