"""Every list of the API answers in a fixed number of queries whatever `limit` is, and pages by cursor."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import XILINHOT, verified_client
from tests.test_api_platform import household_in
from zongzhi.accounts.models import User
from zongzhi.grid.models import GridWorker

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
