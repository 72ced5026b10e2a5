"""Every list of the API answers in a fixed number of queries whatever `limit` is, and pages by cursor."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import XILINHOT, verified_client
from tests.test_api_platform import household_in
from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker, Resident
from zongzhi.identity import make_resident_id

# (persona, list) with at least 8 rows for that persona (households and residents are made by the test).
LISTS = [
    ("director", "/api/v1/cases"),
    ("director", "/api/v1/centers"),
    ("director", "/api/v1/orgs"),
    ("director", f"/api/v1/regions/{XILINHOT}/children"),
    ("league", "/api/v1/centers?level=township"),
    ("director", "/api/v1/households"),
    ("gridworker", "/api/v1/residents"),
]


def _count(client: Client, path: str, limit: int) -> tuple[int, Any]:
    joiner = "&" if "?" in path else "?"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{path}{joiner}limit={limit}")
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.json()


@pytest.mark.parametrize(("persona", "path"), LISTS)
def test_a_list_takes_the_same_queries_for_2_rows_as_for_8(db, persona: str, path: str) -> None:  # type: ignore[no-untyped-def]
    grid = GridWorker.objects.select_related("grid__parent").get(user__username="demo-gridworker").grid
    for n in range(9):
        household_in(grid, 10 + n)
    client = verified_client(User.objects.get(username=f"demo-{persona}"))
    _count(client, path, 1)  # the session and the user are read and cached once
    small, two = _count(client, path, 2)
    large, eight = _count(client, path, 8)
    assert len(two["results"]) == 2 and len(eight["results"]) == 8 and eight["next"], path
    assert small == large, f"{path}: {small} queries for 2 rows, {large} for 8"
    assert eight["results"][:2] == two["results"]


def test_residents_of_a_common_name_page_by_name_each_once(db) -> None:  # type: ignore[no-untyped-def]
    """Many residents called 巴特尔 (and 巴特尔 with more after it): page after page of two, by name in
    code-point order then registration, every one of them exactly once and no one else."""
    user = User.objects.get(username="demo-gridworker")
    grid = GridWorker.objects.select_related("grid__parent").get(user=user).grid
    household = household_in(grid, 40)  # its head is 巴特尔40
    for n, name in enumerate(["巴特尔", "巴特尔", "巴特", "巴特尔", "巴特尔0", "巴特尔", "乌兰巴特尔"]):
        grid_services.resident_add(
            actor=user,
            household=household,
            name=name,
            relation="child",
            ethnicity="蒙古族",
            language="mn",
            id_number=make_resident_id(grid.code[:6], datetime.date(1990, 1, 1 + n), 700 + n),
        )
    named = Resident.objects.filter(access.scope_of(user).q(), name__startswith="巴特尔")
    expected = [r.pk for r in sorted(named, key=lambda r: (r.name, r.pk))]
    assert len(expected) >= 6

    client = verified_client(user)
    seen: list[int] = []
    cursor, pages = "", 0
    while True:
        query: dict[str, str | int] = {"name": "巴特尔", "limit": 2, "cursor": cursor}
        answer = client.get("/api/v1/residents", query)
        assert answer.status_code == 200, answer.content[:300]
        page = answer.json()
        seen += [r["id"] for r in page["results"]]
        pages += 1
        if not page["next"]:
            break
        cursor = page["next"]
    assert seen == expected and pages == (len(expected) + 1) // 2
