"""The generated action panel in Chromium: joint handling to the end and a coordination answered from the queue.

A real server process serves the session's test database (tests/browsing.py); the case is prepared
through the services and committed, then every step is done by people on the pages.
"""

import pytest
from playwright.sync_api import Browser, Page

from tests.browsing import login, open_action, shot
from tests.catalogue_cases import CO, COURT, LEAD, accepted

pytestmark = pytest.mark.browser


def test_joint_handling_and_coordination_on_the_pages(
    browser: Browser, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Playwright's event loop runs in this thread; the one ORM write below happens before any page is driven.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        number = accepted().number
    url = server["url"]

    def as_user(username: str) -> Page:
        page = browser.new_context(locale="zh-CN").new_page()
        login(page, server, username)
        page.goto(f"{url}/staff/cases/{number}/")
        return page

    director = as_user("demo-director")
    form = director.locator("form[data-action=assign]")
    form.locator("select[name=lead]").select_option(LEAD)
    form.locator("select[name='co.0.org']").select_option(CO)
    form.locator("input[name=handle_days]").fill("五")
    form.locator("button:not([formnovalidate])").click()
    # Refused in place: the form is open again with what was typed and the reason under the field.
    error = director.locator("form[data-action=assign] p.error[data-for=handle_days]")
    assert "应为整数" in error.inner_text()
    assert director.locator("form[data-action=assign] select[name=lead]").input_value() == LEAD
    assert director.locator("#state").inner_text() == "已受理"
    director.locator("form[data-action=assign] input[name=handle_days]").fill("15")
    director.locator("form[data-action=assign] button:not([formnovalidate])").click()
    director.wait_for_selector("#state:has-text('已分流')")

    mediator = as_user("demo-mediator")
    mediator.goto(f"{url}/staff/cases/?queue=to_sign")
    mediator.click(f"text={number}")
    mediator.click("form[data-action=sign_for] button")
    mediator.wait_for_selector(f"#handlers tr[data-org='{CO}'][data-status=signed]")
    assert mediator.locator("#state").inner_text() == "已分流"  # a co-handler's signature moves no state

    liaison = as_user("demo-liaison")
    liaison.click("form[data-action=sign_for] button")
    liaison.wait_for_selector("#state:has-text('办理中')")
    open_action(liaison, "coordination")
    coordination = liaison.locator("form[data-action=coordination]")
    coordination.locator("select[name=to_org]").select_option(COURT)
    coordination.locator("textarea[name=message]").fill("请法官提前释明司法确认的要求。")
    coordination.locator("button:not([formnovalidate])").click()
    liaison.wait_for_selector("li[data-kind=coordination]")

    mediator.goto(f"{url}/staff/cases/{number}/")
    open_action(mediator, "part_done")
    mediator.locator("form[data-action=part_done] textarea[name=part]").fill("已入户做通被申请人工作。")
    mediator.locator("form[data-action=part_done] button").click()
    mediator.wait_for_selector(f"#handlers tr[data-org='{CO}'][data-status=done]")
    assert "已入户做通被申请人工作" in mediator.locator("#handlers").inner_text()

    judge = as_user("demo-judge")
    judge.goto(f"{url}/staff/cases/?queue=to_coordinate")
    judge.click(f"text={number}")
    open_action(judge, "coordination_reply")
    judge.locator("form[data-action=coordination_reply] textarea[name=reply]").fill("可在调解时派员到场。")
    judge.locator("form[data-action=coordination_reply] button").click()
    judge.wait_for_selector("li[data-kind=coordination_reply]")
    assert "可在调解时派员到场" in judge.locator("#coordination").inner_text()

    director.goto(f"{url}/staff/cases/{number}/")
    rows = director.locator("#handlers tbody tr")
    assert rows.count() == 2
    statuses = rows.evaluate_all("rows => rows.map(r => [r.dataset.org, r.dataset.status])")
    assert statuses == [[LEAD, "signed"], [CO, "done"]]
    shot(director, "joint-handling")
