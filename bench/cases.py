"""Intake, assign and sign-for through the API against the bare endpoints doing the same writes."""

import datetime
import io
import json
import time
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

from zongzhi.identity import make_resident_id


def _token(username: str) -> str:
    out = io.StringIO()
    call_command("issue_token", username, "--name", "bench", stdout=out)
    return out.getvalue().strip()


def _client(username: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {_token(username)}")


VILLAGES: list[str] = []  # Xilinhot's villages: intake spreads over a county, as it does in life


def _body(i: int) -> dict[str, Any]:
    return {
        "category": "neighbour",
        "title": f"相邻关系纠纷{i}",
        "description": f"第{i}号测试：两户因排水沟发生争执。",
        "region": VILLAGES[i % len(VILLAGES)] if VILLAGES else "152502001001",
        "parties": [
            {
                "kind": "person",
                "role": "applicant",
                "name": "巴特尔",
                "id_number": make_resident_id(
                    "152502", datetime.date(1950, 1, 1) + datetime.timedelta(days=i % 18000), i % 1000
                ),
            },
            {"kind": "person", "role": "respondent", "name": "其其格"},
        ],
    }


def _post(client: Client, url: str, data: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url, json.dumps(data), content_type="application/json")
    assert response.status_code in (200, 201), (url, response.status_code, response.content[:300])
    return response.json()


def measure(rounds: int) -> None:
    from zongzhi.regions.models import Region

    VILLAGES[:] = Region.objects.filter(level="village", code__startswith="152502").values_list("code", flat=True)
    with override_settings(ROOT_URLCONF="bench.urls"):
        clerk, director, liaison = _client("demo-intake"), _client("demo-director"), _client("demo-liaison")

        def platform_flow(i: int) -> None:
            case = _post(clerk, "/api/v1/cases", _body(i))
            n, v = case["number"], case["version"]
            v = _post(clerk, f"/api/v1/cases/{n}/actions/accept", {"version": v})["version"]
            v = _post(director, f"/api/v1/cases/{n}/actions/assign", {"version": v, "lead": "152502-D05"})["version"]
            _post(liaison, f"/api/v1/cases/{n}/actions/sign_for", {"version": v})

        def bare_flow(i: int) -> None:
            n = _post(clerk, "/bench/bare/intake", _body(i))["number"]
            _post(clerk, f"/bench/bare/{n}/accept", {})
            _post(clerk, f"/bench/bare/{n}/assign", {})
            _post(liaison, f"/bench/bare/{n}/sign_for", {})

        results = {}
        for name, flow in (("bare", bare_flow), ("platform", platform_flow)):
            for i in range(5):
                flow(100_000 + i)
            started = time.perf_counter()
            for i in range(rounds):
                flow(i + (0 if name == "bare" else 50_000))
            results[name] = rounds / (time.perf_counter() - started)
        ratio = results["platform"] / results["bare"]
        print(f"\ncase writes ({rounds} cases: intake → accept → assign → sign_for through the API)")
        print(f"  bare endpoints (same inserts/updates, no rules): {results['bare']:7.1f} cases/s")
        print(f"  platform API (services, checks, events):          {results['platform']:7.1f} cases/s")
        print(f"  ratio platform / bare: {ratio:.2f}  (target ≥ 0.5)")
