"""Intake and transitions through a real server process against bare endpoints behind the same server.

The server: bench/server.py (gunicorn by default, BENCH_SERVER=runserver for Django's own).
Each case goes intake → accept → assign → sign_for. The department system (a service account of
Xilinhot's 司法局, bearer token, no cookie) registers the case and signs for it; the township
center's director (a session with its CSRF token: accepting and assigning stay with people) accepts
and assigns it. The bare endpoints (bench/urls.py) do the same inserts and updates behind the same
server, authentication and JSON parsing, without rules, checks or typed events (the audit entry of
each service-account call, written by the middleware, is common to both). Sequential requests, a
new connection each, as tests/http_client makes them; the ratio is of the medians per step and of
cases per second over the whole flow. The runs are interleaved case by case, so that a shared
machine's changing load falls on all of them alike. The third run sends an Idempotency-Key with
every POST, to show what remembering the answers costs.
"""

import datetime
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.core.management import call_command

from bench.server import SERVER, serving

if TYPE_CHECKING:
    from tests.http_client import HttpClient

TOWNSHIP = "152502001"  # one township of Xilinhot: its center's director accepts and assigns
LEAD = "152502-D05"  # 司法局, the department system's own org: it signs for what it is assigned
VILLAGES: list[str] = []
STEPS = ("intake", "accept", "assign", "sign_for")
# Each run's applicants are new people: without it a second run on the same database registers the same
# ID numbers again, and every intake finds (and loads) the earlier run's cases as repeats.
RUN = random.randrange(18000)


def _body(i: int) -> dict[str, Any]:
    from zongzhi.identity import make_resident_id

    return {
        "category": "neighbour",
        "title": f"相邻关系纠纷{i}",
        "description": f"第{i}号测试：两户因排水沟发生争执，{uuid.uuid4().hex[:8]}。",
        "region": VILLAGES[i % len(VILLAGES)],
        "parties": [
            {
                "kind": "person",
                "role": "applicant",
                "name": "巴特尔",
                "id_number": make_resident_id(
                    "152502", datetime.date(1950, 1, 1) + datetime.timedelta(days=(RUN + i) % 18000), i % 1000
                ),
            },
            {"kind": "person", "role": "respondent", "name": "其其格"},
        ],
    }


class Caller:
    """One caller's HTTP client: a bearer token, or a session with its CSRF token."""

    def __init__(self, client: "HttpClient", token: str = "", idempotent: bool = False) -> None:
        self.client, self.token, self.idempotent = client, token, idempotent

    def post(self, path: str, data: dict[str, Any]) -> tuple[dict[str, Any], float]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        started = time.perf_counter()
        answer = self.client.request("POST", path, json.dumps(data).encode(), headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status in (200, 201), (path, answer.status, answer.text[:300])
        return answer.json(), elapsed


def _director_session(url: str) -> "HttpClient":
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.http_client import logged_in
    from zongzhi.accounts.models import User

    director = User.objects.get(username=f"director-{TOWNSHIP}")
    TOTPDevice.objects.get_or_create(user=director, confirmed=True, defaults={"name": "bench"})
    return logged_in(url, director.username)


def _service_token() -> str:
    out = io.StringIO()
    call_command(
        "service_account",
        f"bench-司法局-{uuid.uuid4().hex[:6]}",
        "--org",
        LEAD,
        "--region",
        "152502",
        "--allow",
        "cases:read,cases:write",
        stdout=out,
    )
    return out.getvalue().strip()


def _flows(system: Caller, director: Caller) -> dict[str, Callable[[int, dict[str, list[float]]], None]]:
    def platform(i: int, times: dict[str, list[float]]) -> None:
        case, t = system.post("/api/v1/cases", _body(i))
        times["intake"].append(t)
        n, v = case["number"], case["version"]
        answer, t = director.post(f"/api/v1/cases/{n}/actions/accept", {"version": v})
        times["accept"].append(t)
        answer, t = director.post(f"/api/v1/cases/{n}/actions/assign", {"version": answer["version"], "lead": LEAD})
        times["assign"].append(t)
        _answer, t = system.post(f"/api/v1/cases/{n}/actions/sign_for", {"version": answer["version"]})
        times["sign_for"].append(t)

    def bare(i: int, times: dict[str, list[float]]) -> None:
        case, t = system.post("/bench/bare/intake", _body(i))
        times["intake"].append(t)
        n = case["number"]
        for step, caller in (("accept", director), ("assign", director), ("sign_for", system)):
            _answer, t = caller.post(f"/bench/bare/{n}/{step}", {})
            times[step].append(t)

    return {"bare": bare, "platform": platform}


def measure(rounds: int) -> None:
    from tests.http_client import HttpClient
    from zongzhi.regions.models import Region

    VILLAGES[:] = Region.objects.filter(level="village", code__startswith=TOWNSHIP).values_list("code", flat=True)
    token = _service_token()
    labels = ("bare", "platform", "platform + Idempotency-Key")
    times: dict[str, dict[str, list[float]]] = {label: {s: [] for s in STEPS} for label in labels}
    elapsed = dict.fromkeys(labels, 0.0)
    with serving() as url:
        session = _director_session(url)
        runs = {
            "bare": (Caller(HttpClient(url), token), Caller(session)),
            "platform": (Caller(HttpClient(url), token), Caller(session)),
            "platform + Idempotency-Key": (Caller(HttpClient(url), token, True), Caller(session, idempotent=True)),
        }
        flows = {label: _flows(*callers)["bare" if label == "bare" else "platform"] for label, callers in runs.items()}
        for i in range(5):  # warm every worker's imports and caches
            for n, label in enumerate(labels):
                flows[label](900_000 + n * 10 + i, {s: [] for s in STEPS})
        # Interleaved, case by case: on a shared machine the load drifts, and each run sees the same drift.
        for i in range(rounds):
            for n, label in enumerate(labels):
                started = time.perf_counter()
                flows[label](n * 100_000 + i, times[label])
                elapsed[label] += time.perf_counter() - started
    results = {
        label: (rounds / elapsed[label], {s: statistics.median(times[label][s]) for s in STEPS}) for label in labels
    }
    bare_rate, bare_steps = results["bare"]
    print(f"\ncase writes through a real server, {SERVER} ({rounds} cases each: intake → accept → assign → sign_for)")
    print("  intake and sign_for: a department system's bearer token; accept and assign: a director's session + CSRF")
    print(f"  {'run':<28} {'cases/s':>8} {'ratio':>6}  " + "  ".join(f"{s + ' p50 ms':>16}" for s in STEPS))
    for label, (rate, steps) in results.items():
        cells = "  ".join(f"{steps[s]:8.2f} ({steps[s] / bare_steps[s]:4.2f}x)" for s in STEPS)
        print(f"  {label:<28} {rate:8.1f} {rate / bare_rate:6.2f}  {cells}")
    print("  ratio = platform cases/s ÷ bare cases/s (target ≥ 0.5); (…x) = step p50 ÷ bare step p50")


def count_statements(show: str = "") -> dict[str, dict[str, int]]:
    """The statements each step sends, per run, captured in-process (Django's test client through the same
    URLs, middleware and services; CaptureQueriesContext). `show`: a step whose platform statements to print.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zongzhi.accounts.models import User
    from zongzhi.regions.models import Region

    VILLAGES[:] = Region.objects.filter(level="village", code__startswith=TOWNSHIP).values_list("code", flat=True)
    token = _service_token()
    director = User.objects.get(username=f"director-{TOWNSHIP}")
    TOTPDevice.objects.get_or_create(user=director, confirmed=True, defaults={"name": "bench"})
    counts: dict[str, dict[str, int]] = {}
    with override_settings(ROOT_URLCONF="bench.urls"):
        system, people = Client(HTTP_AUTHORIZATION=f"Bearer {token}"), Client()
        people.force_login(director)
        session = people.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=director, confirmed=True).persistent_id
        session.save()

        def post(client: Client, run: str, step: str, path: str, data: dict[str, Any]) -> dict[str, Any]:
            with CaptureQueriesContext(connection) as captured:
                answer = client.post(path, json.dumps(data), content_type="application/json")
            assert answer.status_code in (200, 201), (path, answer.status_code, answer.content[:300])
            counts.setdefault(run, {})[step] = len(captured)
            if run == "platform" and step == show and counting:
                for query in captured.captured_queries:
                    print(query["sql"][:400])
            return answer.json()  # type: ignore[no-any-return]

        counting = False
        for round_ in range(2):  # the first warms the caches; the second is counted
            counting = round_ == 1
            i = 800_000 + round_
            n = post(system, "bare", "intake", "/bench/bare/intake", _body(i))["number"]
            for step, client in (("accept", people), ("assign", people), ("sign_for", system)):
                post(client, "bare", step, f"/bench/bare/{n}/{step}", {})
            case = post(system, "platform", "intake", "/api/v1/cases", _body(i + 10))
            n, v = case["number"], case["version"]
            v = post(people, "platform", "accept", f"/api/v1/cases/{n}/actions/accept", {"version": v})["version"]
            v = post(people, "platform", "assign", f"/api/v1/cases/{n}/actions/assign", {"version": v, "lead": LEAD})[
                "version"
            ]
            post(system, "platform", "sign_for", f"/api/v1/cases/{n}/actions/sign_for", {"version": v})
    print(f"statements per step ({connection.vendor})")
    for run, steps in counts.items():
        print(f"  {run:<10} " + "  ".join(f"{s} {steps[s]:3d}" for s in STEPS) + f"  total {sum(steps.values())}")
    return counts


def main() -> None:
    """Alone: `python bench/cases.py` on DATABASE_URL (seeded at BENCH_SCALE, small by default, if it has
    no township director), BENCH_CASES cases per run (60 by default)."""
    from bench.server import start

    start(sqlite=None, scale=os.environ.get("BENCH_SCALE", "small"), seeded_user=f"director-{TOWNSHIP}")
    if len(sys.argv) > 1 and sys.argv[1] == "--statements":
        count_statements(sys.argv[2] if len(sys.argv) > 2 else "")
        return
    measure(int(os.environ.get("BENCH_CASES", "60")))


if __name__ == "__main__":
    main()
