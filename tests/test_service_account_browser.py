"""The security administrator manages a service account in Chromium: create, grant, issue, use, rotate, revoke.

The token shown once on the page is then used by a department system's HTTP client against the same
server; the page shows its last use. No ORM here (Playwright's event loop runs in this thread).
"""

import json
import uuid

import pytest
from playwright.sync_api import Page

from tests.browsing import Http, login, shot
from tests.http_client import HttpClient

pytestmark = pytest.mark.browser


def _case(title: str) -> dict:  # type: ignore[type-arg]
    return {
        "category": "neighbour",
        "title": title,
        "description": "两户因排水沟发生争执（服务账号页面测试）。",
        "region": "152502001001",
        "parties": [{"kind": "person", "role": "applicant", "name": "巴特尔"}],
    }


def _call(server: dict[str, str], token: str, method: str = "GET", data: dict | None = None) -> int:  # type: ignore[type-arg]
    client = HttpClient(server["url"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(data).encode() if data is not None else b""
    return client.request(method, "/api/v1/cases", body, headers).status


def test_the_security_administrator_runs_a_service_account(page: Page, server: dict[str, str]) -> None:
    name = f"司法局业务系统-{uuid.uuid4().hex[:6]}"
    login(page, server, "demo-secadmin")
    page.click("nav >> text=服务账号")
    page.click("text=新建服务账号")
    page.fill("#id_name", name)
    page.fill("#id_org_code", "152502-D05")
    page.fill("#id_region_codes", "152502")
    page.check("input[name=permissions][value='cases:read']")
    page.check("input[name=permissions][value='cases:write']")
    page.click("#account-form button")
    page.wait_for_selector("text=已创建，请签发令牌")
    assert "矛盾纠纷（读取）" in page.locator("#granted").inner_text()
    detail = page.url
    assert "锡林浩特市" in page.locator(".card").first.inner_text()

    page.fill("#id_days", "30")
    page.click("#token-form button")
    first = page.locator("#token-value").inner_text().strip()
    assert first.startswith("zzs_") and len(first) > 40
    shot(page, "service-account-token")
    assert _call(server, first, "POST", _case("页面签发的令牌登记")) == 201

    page.goto(detail)  # the detail page again: the token is no longer shown, its last use is
    assert page.locator("#token-value").count() == 0
    row = page.locator(f"#tokens tr[data-prefix='{first[:12]}']")
    assert "有效" in row.inner_text() and "—" not in row.locator("td").nth(3).inner_text()

    row.locator("button[name=rotate]").click()
    second = page.locator("#token-value").inner_text().strip()
    assert second != first and "仍可使用" in page.locator("#new-token").inner_text()
    assert _call(server, first) == 200 and _call(server, second) == 200  # the grace period

    page.locator(f"#tokens tr[data-prefix='{first[:12]}'] button[name=revoke]").click()
    page.wait_for_selector("text=已吊销，立即失效")
    assert _call(server, first) == 401 and _call(server, second) == 200

    page.uncheck("#id_active")
    page.click("#edit-form button")
    page.wait_for_selector("text=已保存")
    assert _call(server, second) == 401  # a deactivated account's tokens stop
    page.click("text=返回服务账号列表")
    listed = page.locator("#service-accounts").inner_text()
    assert name in listed and "停用" in listed
    shot(page, "service-account-list")


def test_bad_input_names_the_field_and_others_are_refused(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-secadmin")
    page.goto(f"{server['url']}/staff/integration/accounts/new/")
    page.fill("#id_name", "带 空格")
    page.fill("#id_org_code", "152502-NOPE")
    page.fill("#id_region_codes", "152599")
    page.click("#account-form button")
    errors = page.locator(".error").all_inner_texts()
    assert "所属单位代码：单位代码“152502-NOPE”不存在。" in errors, errors
    assert "辖区区划代码：区划代码“152599”不存在。" in errors, errors
    sysadmin = Http(server, "demo-sysadmin")
    assert sysadmin.get("/staff/integration/accounts/").status == 403
