"""The audit administrator verifies the audit log from its page in a real Chromium."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from playwright.sync_api import Page

from tests.browsing import login, shot
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_checkpoint

pytestmark = pytest.mark.browser


def test_the_auditor_verifies_the_chain_against_the_newest_checkpoint(
    page: Page, server: dict[str, str], django_db_blocker
) -> None:  # type: ignore[no-untyped-def]
    def in_a_thread(work):  # type: ignore[no-untyped-def]
        # Playwright's event loop runs in this thread, where Django refuses the ORM.
        def body():  # type: ignore[no-untyped-def]
            with django_db_blocker.unblock():
                try:
                    return work()
                finally:
                    connections.close_all()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(body).result()

    checkpoint = in_a_thread(audit_checkpoint)  # as the scheduler writes them, in this database's own directory
    login(page, server, "demo-auditor")
    page.goto(f"{server['url']}/staff/audit/")
    page.click("text=校验哈希链")
    status = page.locator("[role=status]")
    status.wait_for()
    text = status.inner_text()
    count = in_a_thread(AuditEntry.objects.count)
    assert "审计链完整" in text and "逐条 HMAC-SM3 校验通过" in text, text
    assert (
        f"最新检查点 #{checkpoint.seq}（" in text
        and f"至第 {checkpoint.head_id} 条、共 {checkpoint.count} 条）" in text
    )
    assert f"共 {count} 条记录" in text
    shot(page, "audit-verify")
