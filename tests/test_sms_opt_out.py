"""A party stops the SMS notices and starts them again: by a reply the gateway passes on to
`POST /api/v1/sms/inbound` (with the gateway's service-account token), or by asking the center's
window, which does it on the SMS page in Chromium. Over the live server; the phone is in no URL.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.api_tokens import bearer, service_token
from tests.browsing import login, shot
from tests.http_client import logged_in
from zongzhi.audit.models import AuditEntry
from zongzhi.outbox.services import sms_opted_out

PHONE = "13947100321"


@pytest.fixture
def committed(django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM beside Playwright's loop
    with django_db_blocker.unblock():
        yield


def test_the_gateway_passes_on_td_and_kt_replies(server: dict[str, str], committed: None) -> None:
    gateway = bearer(server["url"], service_token("tests-sms-gateway", rights=("sms:write",)))
    stopped = gateway.post_json("/api/v1/sms/inbound", {"phone": f"+86 {PHONE}", "text": " td "})
    assert stopped.status == 200, stopped.text
    assert stopped.json() == {"phone": "139****0321", "action": "opted_out"} and sms_opted_out(PHONE)
    chatter = gateway.post_json("/api/v1/sms/inbound", {"phone": PHONE, "text": "谢谢，收到"})
    assert chatter.json()["action"] == "ignored" and sms_opted_out(PHONE)
    back = gateway.post_json("/api/v1/sms/inbound", {"phone": PHONE, "text": "恢复"})
    assert back.json()["action"] == "opted_in" and not sms_opted_out(PHONE)
    again = gateway.post_json("/api/v1/sms/inbound", {"phone": PHONE, "text": "退订"})
    assert again.json()["action"] == "opted_out" and sms_opted_out(PHONE)
    bad = gateway.post_json("/api/v1/sms/inbound", {"phone": "12345", "text": "TD"})
    assert bad.status == 422 and bad.json()["errors"]["phone"] == ["手机号应为 11 位数字。"]
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.CONFIG_CHANGED, target="sms_preference")
    last = entries.order_by("id").last()
    assert last is not None and last.detail == {"phone": "139****0321", "opted_out": True, "via": "reply"}
    assert not any(PHONE in str(e.detail) for e in entries)  # masked in the audit

    # Only the gateway: a system without `sms:write` and a person are refused, in Chinese.
    other = bearer(server["url"], service_token("tests-sms-other", rights=("cases:read",)))
    refused = other.post_json("/api/v1/sms/inbound", {"phone": PHONE, "text": "KT"})
    assert refused.status == 403 and "sms:write" in refused.json()["detail"]
    clerk = logged_in(server["url"], "demo-intake").post_json("/api/v1/sms/inbound", {"phone": PHONE, "text": "KT"})
    assert clerk.status == 403 and "短信网关" in clerk.json()["detail"] and sms_opted_out(PHONE)


@pytest.mark.browser
def test_the_window_stops_and_restarts_a_partys_notices(server: dict[str, str], page: Page, committed: None) -> None:
    phone = "13947100654"
    login(page, server, "demo-intake")
    page.click("text=短信退订")
    page.fill("input[name=phone]", phone)
    page.click("button[value=check]")
    assert "139****0654 正常接收短信通知" in page.inner_text("#sms-state")
    page.fill("input[name=phone]", phone)
    page.click("button[value=opt_out]")
    assert "139****0654 已退订短信通知" in page.inner_text(".messages") and sms_opted_out(phone)
    shot(page, "sms-opt-out")
    assert phone not in page.url
    page.fill("input[name=phone]", "1394710")
    page.click("button[value=opt_out]")
    assert "手机号：手机号应为 11 位数字。" in page.inner_text("form#sms-preference")
    page.fill("input[name=phone]", phone)
    page.click("button[value=opt_in]")
    assert "139****0654 已恢复短信通知" in page.inner_text(".messages") and not sms_opted_out(phone)
    # A grid worker does not take such requests: no link, and the page is not there for them.
    gridworker = logged_in(server["url"], "demo-gridworker")
    assert "短信退订" not in gridworker.get("/staff/").text
    assert gridworker.get("/staff/integration/sms/").status == 403
