"""The two-administrator credential reset in a real Chromium: one asks, another confirms, the target
replaces the temporary password at the next login.

The system administrator asks on the credential-reset page for an audit administrator's password
to be reset; its own request offers it no way to confirm it (refused when posted); the security
administrator, in another browser, confirms and reads the temporary password once; the auditor logs
in with it and both factors and must choose a password of their own before any page opens.
"""

import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, Page

from tests.browsing import login, shot
from tests.conftest import DEMO_PASSWORD, _in_a_thread, totp_code
from zongzhi.accounts import services
from zongzhi.accounts.models import CredentialReset, Role, User
from zongzhi.audit.models import AuditEntry

pytestmark = pytest.mark.browser
T = TypeVar("T")
OWN_PASSWORD = "Audit-Steppe-Own-2026"


@pytest.fixture
def orm(django_db_blocker) -> Iterator[Callable[[Callable[[], T]], T]]:  # type: ignore[no-untyped-def]
    """Run ORM work on the committed data, off Playwright's event-loop thread."""
    with django_db_blocker.unblock():
        yield _in_a_thread


def new_auditor() -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = services.user_create(
        actor=None, username=f"t-auditor-{uuid.uuid4().hex[:6]}", full_name="审计员", password=DEMO_PASSWORD
    )
    services.membership_grant(actor=None, user=user, role=Role.AUDIT_ADMIN, cli=True)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user.username


def current_code(username: str) -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return totp_code(TOTPDevice.objects.get(user__username=username, confirmed=True))


def test_two_administrators_reset_an_auditors_password_in_the_browser(
    page: Page, browser: Browser, server: dict[str, str], orm: Callable
) -> None:
    url = server["url"]
    target = orm(new_auditor)
    login(page, server, "demo-sysadmin")
    page.click("nav >> text=凭据重置")
    page.wait_for_url("**/staff/credential-resets/")
    page.fill("#id_username", target)
    page.select_option("#id_kind", "password")
    page.fill("#id_reason", "本人遗忘密码，已当面核实身份")
    page.click("#reset-request button[type=submit]")
    page.wait_for_url("**/staff/credential-resets/*/")
    assert page.locator("#reset-state").inner_text() == "待复核"
    shot(page, "credential-reset-requested")
    # The requester is offered no confirmation; posted anyway, it is refused and audited.
    assert page.locator("#confirm").count() == 0 and page.locator("#needs-second").is_visible()
    page.evaluate(
        """async () => {
        const form = new FormData(); form.append('confirm', '1');
        form.append('csrfmiddlewaretoken', document.querySelector('[name=csrfmiddlewaretoken]').value);
        window.refusal = await (await fetch(location.pathname, {method: 'POST', body: form})).text();
    }"""
    )
    assert "申请人不能复核自己的申请" in page.evaluate("window.refusal")
    reset_pk = orm(lambda: CredentialReset.objects.get(target__username=target).pk)
    assert orm(lambda: User.objects.get(username=target).check_password(DEMO_PASSWORD))

    second = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        confirmer = second.new_page()
        login(confirmer, server, "demo-secadmin")
        confirmer.goto(f"{url}/staff/credential-resets/")
        confirmer.click(f"a[href='/staff/credential-resets/{reset_pk}/']")
        confirmer.click("#confirm")
        temporary = confirmer.locator("#temporary-password").inner_text()
        assert len(temporary) == 19 and temporary.count("-") == 3
        assert confirmer.locator("#reset-state").inner_text() == "已复核并重置"
        shot(confirmer, "credential-reset-confirmed")
        confirmer.goto(confirmer.url)  # a fresh GET (reloading would post the confirmation again: refused)
        assert confirmer.locator("#temporary-password").count() == 0  # shown once
    finally:
        second.close()

    third = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        auditor = third.new_page()
        auditor.goto(f"{url}/staff/login/")
        auditor.fill("#id_username", target)
        auditor.fill("#id_password", temporary)
        auditor.click("button[type=submit]")
        auditor.wait_for_url("**/staff/login/totp/")
        auditor.fill("#id_token", orm(lambda: current_code(target)))
        auditor.click("button[type=submit]")
        auditor.wait_for_url("**/staff/login/password/")
        shot(auditor, "credential-reset-new-password")
        auditor.fill("#id_password", OWN_PASSWORD)
        auditor.fill("#id_again", OWN_PASSWORD + "x")
        auditor.click("button[type=submit]")
        assert "两次输入的新密码不一致" in auditor.locator("main").inner_text()
        auditor.fill("#id_password", OWN_PASSWORD)
        auditor.fill("#id_again", OWN_PASSWORD)
        auditor.click("button[type=submit]")
        auditor.wait_for_url(f"{url}/staff/")
        auditor.click("nav >> text=审计日志")
        auditor.fill("input[name=who]", target)
        auditor.click("text=查询")
        log = auditor.locator("table").inner_text()
        assert "申请重置凭据" in log and "复核并重置凭据" in log and "本人修改密码" in log and temporary not in log
        shot(auditor, "credential-reset-audit")
    finally:
        third.close()
    actions = orm(
        lambda: list(
            AuditEntry.objects.filter(target=target)
            .exclude(action__in=["user_created", "role_granted"])
            .order_by("id")
            .values_list("action", "actor_name")
        )
    )
    assert actions == [
        ("credential_reset_requested", "demo-sysadmin"),
        ("admin_refused", "demo-sysadmin"),
        ("credential_reset_confirmed", "demo-secadmin"),
        ("password_changed", target),
        ("login", target),
    ]
