"""The channel follows the door: whoever registers a case, where, sets its channel; no one picks it.

The Xilinhot window clerk (demo-intake) registers at the window, 司法局's liaison (demo-liaison) as a
department, the demo grid worker as a grid report; the portal, a grid visit and a 乌日特 stop
(tests/test_field.py) are doors of their own. Each case is due for acceptance within a working day.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.browsing import ROOT
from tests.conftest import verified_client
from zongzhi.accounts.models import User
from zongzhi.cases.calendar import add_working_days
from zongzhi.cases.models import Case
from zongzhi.grid.models import GridWorker

VILLAGE = "152502001001"


def who(name: str) -> User:
    return User.objects.get(username=f"demo-{name}")


def form(region: str = VILLAGE, **extra: str) -> dict[str, str]:
    return {
        "category": "neighbour",
        "region": region,
        "title": "邻里排水纠纷",
        "description": "两户因院墙排水沟走向发生争执，要求调解。",
        "party0_name": "乌日娜",
        "party0_role": "applicant",
        "people_involved": "2",
        **extra,
    }


def register_on_the_page(client: Client, **data: str) -> Case:
    before = set(Case.objects.values_list("pk", flat=True))
    response = client.post(reverse("cases:new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    (case,) = Case.objects.exclude(pk__in=before)
    return case


def body(**extra: Any) -> dict[str, Any]:
    return {
        "category": "neighbour",
        "title": "邻里排水纠纷",
        "description": "两户因院墙排水沟走向发生争执，要求调解。",
        "region": VILLAGE,
        "parties": [{"kind": "person", "role": "applicant", "name": "乌日娜"}],
        **extra,
    }


@pytest.mark.django_db
def test_the_intake_page_has_no_channel_to_choose() -> None:
    page = verified_client(who("intake")).get(reverse("cases:new")).content.decode()
    assert 'name="channel"' not in page
    assert "窗口受理" in page.split('id="channel"')[1][:200]
    department = verified_client(who("liaison")).get(reverse("cases:new")).content.decode()
    assert "部门移送" in department.split('id="channel"')[1][:200]


@pytest.mark.django_db
def test_the_door_sets_the_channel_whatever_the_form_says() -> None:
    window = register_on_the_page(verified_client(who("intake")), **form(channel="portal"))
    assert window.channel == Case.Channel.WINDOW and window.owner == who("intake")
    assert window.due_at == add_working_days(window.registered_at, 1)

    department = register_on_the_page(verified_client(who("liaison")), **form(channel="import"))
    assert department.channel == Case.Channel.DEPARTMENT

    gridworker = User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.get(user=gridworker).grid
    report = register_on_the_page(verified_client(gridworker), **form(region=grid.code, channel="window"))
    assert report.channel == Case.Channel.GRID and report.region_code == grid.code


@pytest.mark.django_db
def test_a_leader_is_no_door() -> None:
    before = Case.objects.count()
    response = verified_client(who("leader")).post(reverse("cases:new"), form())
    assert response.status_code == 403
    assert Case.objects.count() == before


@pytest.mark.django_db
def test_the_api_refuses_a_channel_and_sets_it_from_the_caller() -> None:
    clerk = verified_client(who("intake"))
    before = Case.objects.count()
    refused = clerk.post("/api/v1/cases", body(channel="portal"), content_type="application/json")
    assert refused.status_code == 422
    assert "登记时不能指定" in refused.json()["errors"]["channel"][0]
    assert Case.objects.count() == before
    created = clerk.post("/api/v1/cases", body(), content_type="application/json")
    assert created.status_code == 201 and created.json()["channel"] == "window"
    # The intake body documents no channel.
    schema = clerk.get("/api/v1/openapi.json").json()["components"]["schemas"]["CaseIn"]
    assert "channel" not in schema["properties"]


def _token(server: dict[str, str], org: str) -> str:
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "service_account",
            f"ddl-channel-{org}-{uuid.uuid4().hex[:6]}",
            "--org",
            org,
            "--region",
            "152502",
            "--allow",
            "cases:write",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": server["database_url"]},
    ).stdout.strip()


def _post(server: dict[str, str], token: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - our own local server
        f"{server['url']}/api/v1/cases",
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_over_http_a_department_cannot_claim_the_window(server: dict[str, str]) -> None:
    """Against the running server, as a service account of 司法局 (no transaction of ours)."""
    token = _token(server, "152502-D05")
    status, answer = _post(server, token, body(channel="window", title="接口渠道测试（拒绝）"))
    assert status == 422 and "channel" in answer["errors"], answer
    status, answer = _post(server, token, body(title="接口渠道测试"))
    assert status == 201 and answer["channel"] == "department", answer
