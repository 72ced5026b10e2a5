"""The delivery log: the security administrator finds a dead letter in Chromium and redelivers it;
the person answerable for the account (Diana, the Xilinhot director) redelivers over HTTP with her
session and CSRF token; the liaison, answerable for nothing here, finds no such page (404).
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browsing import Http, login, shot
from tests.service_accounts import service_account
from tests.task_worker import task_worker, wait_until
from tests.test_case_lifecycle import register, who
from tests.webhook_receiver import receiving
from zongzhi.cases import services
from zongzhi.outbox.models import Delivery, Subscription
from zongzhi.outbox.publishing import publish
from zongzhi.outbox.tasks import dispatch_task
from zongzhi.outbox.webhooks import subscription_create

pytestmark = pytest.mark.browser
SECRET = "log-shared-secret-0123456789abcdef"


@pytest.fixture
def committed(django_db_blocker, monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM beside Playwright's loop
    with django_db_blocker.unblock():
        yield


def test_a_dead_letter_is_redelivered_from_the_log(server: dict[str, str], page: Page, committed: None) -> None:
    account, _token = service_account("hook-log", region="152502000000")
    publish(limit=100_000)  # what earlier tests left unpublished goes out before this subscription exists
    with receiving(SECRET, ["500", "500"]) as receiver:
        subscription, _secret = subscription_create(
            user=account,
            actor=who("director"),
            name="区平台（测试）",
            url=receiver.url,
            kinds=["case.accept"],
            secret=SECRET,
            max_attempts=1,
        )
        numbers = []
        for title in ("投递记录测试甲", "投递记录测试乙"):
            case = register(title=title)
            numbers.append(services.case_accept(case=case, actor=who("intake"), version=case.version).number)
        dispatch_task.call()
        dispatch_task.call()
        dead = list(subscription.deliveries.filter(status=Delivery.Status.DEAD).order_by("seq"))
        assert [d.event.case_number for d in dead] == numbers

        login(page, server, "demo-secadmin")
        page.goto(f"{server['url']}/staff/integration/webhooks/")
        page.click("text=区平台（测试）")
        row = page.locator(f"tr[data-delivery='{dead[0].pk}']")
        assert "投递失败（死信）" in row.inner_text()
        shot(page, "webhook-log-dead")
        row.locator("button", has_text="重新投递").click()
        page.wait_for_selector("text=已重新排队投递事件")
        assert "待投递" in page.locator(f"tr[data-delivery='{dead[0].pk}']").inner_text()

        director = Http(server, "demo-director")
        path = f"/staff/integration/webhooks/{subscription.pk}/deliveries/{dead[1].pk}/redeliver/"
        director.get(f"/staff/integration/webhooks/{subscription.pk}/")
        answer = director.form(path, {})
        assert answer.status == 302, answer.text[:300]
        liaison = Http(server, "demo-liaison")
        assert liaison.get(f"/staff/integration/webhooks/{subscription.pk}/").status == 404
        assert liaison.form(path.replace(str(dead[1].pk), str(dead[0].pk)), {}).status == 404

        with task_worker(server["database_url"]):
            wait_until(lambda: subscription.deliveries.filter(status=Delivery.Status.DELIVERED).count() == 2)
        page.reload()
        assert "已送达" in page.locator(f"tr[data-delivery='{dead[0].pk}']").inner_text()
        shot(page, "webhook-log-redelivered")
        assert {r.delivery for r in receiver.unique().values()} == {str(d.pk) for d in dead}  # same delivery ids
        Subscription.objects.filter(pk=subscription.pk).update(active=False)
