"""Every page and endpoint of the foundation × every persona: in jurisdiction, out of it, admins.

Xilinhot staff see Xilinhot and get 404 for Duolun (the same answer as for a missing code); the
grid worker sees only their grid; the league leader sees everything; the three administrators see
their own pages and no business content; without both factors nothing is served.
"""

import re

import pytest
from django.test import Client

from tests.conftest import DUOLUN, XILINHOT, verified_client
from zongzhi.accounts.models import User

GRID_WORKER_GRID = "{grid}"  # filled in per test: the demo grid worker's grid

PAGES = {
    "home": "/staff/",
    "tree": "/staff/regions/",
    "region_in": f"/staff/regions/{XILINHOT}/",
    "region_out": f"/staff/regions/{DUOLUN}/",
    "region_missing": "/staff/regions/152599000000/",
    "children_in": f"/staff/regions/{XILINHOT}/children/",
    "children_out": f"/staff/regions/{DUOLUN}/children/",
    "grid_own": "/staff/regions/{grid}/",
    "center_list": "/staff/centers/",
    "center_in": "/staff/centers/ZZ-152502/",
    "center_out": "/staff/centers/ZZ-152531/",
    "users": "/staff/admin/users/",
    "user_new": "/staff/admin/users/new/",
    "region_new": "/staff/regions/new/",
    "presence_new": "/staff/centers/presences/new/",
    "security": "/staff/security/",
    "audit": "/staff/audit/",
    "api_me": "/api/v1/me",
    "api_regions": "/api/v1/regions",
    "api_region_in": f"/api/v1/regions/{XILINHOT}",
    "api_region_out": f"/api/v1/regions/{DUOLUN}",
    "api_region_missing": "/api/v1/regions/152599000000",
    "api_children_in": f"/api/v1/regions/{XILINHOT}/children",
    "api_grid_own": "/api/v1/regions/{grid}",
    "api_centers": "/api/v1/centers",
    "api_center_in": "/api/v1/centers/ZZ-152502",
    "api_center_out": "/api/v1/centers/ZZ-152531",
    "api_stats": "/api/v1/stats",
}

XILINHOT_STAFF = ["intake", "director", "liaison", "mediator", "leader", "judge"]
ADMINS = ["sysadmin", "secadmin", "auditor"]
ADMIN_PAGES = {
    "users": "sysadmin",
    "user_new": "sysadmin",
    "region_new": "sysadmin",
    "presence_new": "sysadmin",
    "security": "secadmin",
    "audit": "auditor",
}


def expected(persona: str, page: str) -> int:
    if page in ADMIN_PAGES:
        return 200 if ADMIN_PAGES[page] == persona else 403
    if page == "home" or page == "api_me":
        return 200
    if persona in ADMINS:
        return 403
    if page == "tree":
        return 302  # one jurisdiction: straight to it
    if page.endswith("missing"):
        return 404
    if persona == "league":
        return 200
    if persona == "gridworker":
        return (
            200
            if page in ("grid_own", "api_grid_own", "center_list", "api_centers", "api_regions", "api_stats")
            else 404
        )
    if page in ("grid_own", "api_grid_own"):
        return 200  # the grid lies in Xilinhot
    return 404 if page.endswith("_out") else 200


def _url(page: str, grid: str) -> str:
    return PAGES[page].format(grid=grid)


@pytest.fixture
def grid_code(db) -> str:  # type: ignore[no-untyped-def]
    return User.objects.get(username="demo-gridworker").grid_worker.grid.code


@pytest.mark.parametrize("persona", [*XILINHOT_STAFF, "gridworker", "league", *ADMINS])
def test_matrix(persona: str, grid_code: str) -> None:
    client = verified_client(User.objects.get(username=f"demo-{persona}"))
    failures = []
    for page in PAGES:
        status = client.get(_url(page, grid_code)).status_code
        if status != expected(persona, page):
            failures.append(f"{page}: got {status}, expected {expected(persona, page)}")
    assert not failures, f"demo-{persona}: " + "; ".join(failures)


def test_anonymous_is_sent_to_login_and_api_says_401(db, grid_code: str) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for page in PAGES:
        response = client.get(_url(page, grid_code))
        if page.startswith("api_"):
            assert response.status_code == 401, page
        else:
            assert response.status_code == 302, page
            assert response["Location"].startswith("/staff/login/"), page


def test_password_alone_is_not_enough(db, grid_code: str) -> None:  # type: ignore[no-untyped-def]
    """A session logged in without the TOTP factor is treated as anonymous everywhere."""
    client = Client()
    client.force_login(User.objects.get(username="demo-league"))
    for page in PAGES:
        response = client.get(_url(page, grid_code))
        assert response.status_code == (401 if page.startswith("api_") else 302), page


def _without_csrf(html: bytes) -> bytes:
    html = re.sub(rb'"X-CSRFToken": "[^"]*"', b"", html)
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", html)


def test_out_of_jurisdiction_looks_exactly_like_missing(client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as("intake")
    out, missing = client.get(PAGES["region_out"]), client.get(PAGES["region_missing"])
    assert out.status_code == missing.status_code == 404
    assert _without_csrf(out.content) == _without_csrf(missing.content)
    api_out, api_missing = client.get(PAGES["api_region_out"]), client.get(PAGES["api_region_missing"])
    assert api_out.status_code == api_missing.status_code == 404
    assert api_out.json() == api_missing.json()


def test_admin_roles_read_no_business_content(client_as) -> None:  # type: ignore[no-untyped-def]
    for admin in ADMINS:
        home = client_as(admin).get("/staff/").content.decode()
        assert "辖区概况" not in home and "网格员" not in home, admin


def test_openapi_schema_and_docs_page_served_locally(db) -> None:  # type: ignore[no-untyped-def]
    schema = Client().get("/api/v1/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/regions/{code}", "/api/v1/centers/{code}", "/api/v1/stats"} <= set(schema["paths"])
    docs = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_home_pages_show_each_persona_their_own_work(client_as) -> None:  # type: ignore[no-untyped-def]
    assert "锡林浩特市综治中心" in client_as("intake").get("/staff/").content.decode()
    liaison = client_as("liaison").get("/staff/").content.decode()
    assert "锡林浩特市司法局" in liaison and "常驻" in liaison
    assert "我的网格" in client_as("gridworker").get("/staff/").content.decode()
    assert "账号管理" in client_as("sysadmin").get("/staff/").content.decode()
