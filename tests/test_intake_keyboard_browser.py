"""The window intake from the keyboard alone, and the pages that were long or led with the rare step,
in a real headless Chromium against the live server (tests/browsing.py).

The clerk uses only Tab, typing, arrow keys and Enter: the region is picked level by level, a
mistake comes back with everything typed still there and the field marked, and fixing it registers
the case. The meeting page shows its agenda folded and confirms a decision; the case page offers the
usual next step first; 回访 chooses no outcome for the clerk.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page

from tests.browsing import login, open_action, shot
from tests.catalogue_cases import closed, in_progress
from tests.test_case_lifecycle import who
from tests.test_intake_forgives import fresh_id
from zongzhi.identity import mask_resident_id
from zongzhi.meetings import services as meeting_services
from zongzhi.meetings.models import DispatchMeeting
from zongzhi.regions.models import Region

pytestmark = pytest.mark.browser


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def tab_to(page: Page, element_id: str, most: int = 6) -> None:
    """Tab until `element_id` has the focus (a date input's parts are stops of their own)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if focused(page) == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id} (at #{focused(page)})")


def choose_first(page: Page, element_id: str, then: str = "") -> None:
    """Pick a select's first choice with the arrow key; wait for the next level to be listed."""
    assert focused(page) == element_id
    page.keyboard.press("ArrowDown")
    assert page.locator(f"#{element_id}").input_value() != ""
    if then:
        page.wait_for_function(f"() => !document.getElementById('{then}').disabled")


def test_the_window_intake_from_the_keyboard_alone(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-intake")
    page.goto(f"{server['url']}/staff/cases/new/")
    assert focused(page) == "id_category"
    choose_first(page, "id_category")
    category = page.locator("#id_category").input_value()
    tab_to(page, "id_region_county", 1)
    assert page.locator("#id_region_county").input_value() == "152502000000"  # the clerk's own county
    tab_to(page, "id_region_township", 1)
    choose_first(page, "id_region_township", then="id_region_village")
    tab_to(page, "id_region_village", 1)
    choose_first(page, "id_region_village", then="id_region_grid")
    village = page.locator("#id_region_village").input_value()
    tab_to(page, "id_region_grid", 1)
    tab_to(page, "id_region_search", 1)  # no grid chosen: it may stay empty; the name search is not needed
    tab_to(page, "id_location", 1)
    page.keyboard.type("社区广场东侧")
    tab_to(page, "id_occurred_on", 1)
    tab_to(page, "id_title")  # the title is left empty: the mistake
    tab_to(page, "id_description", 1)
    page.keyboard.type("键盘登记测试：广场舞音响扰民，邻里多次争吵。")
    tab_to(page, "id_amount", 1)
    page.keyboard.type("3000")
    tab_to(page, "id_people", 1)
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    number = fresh_id()
    typed = {
        "id_party0_name": "斯琴",
        "id_party0_id": number,
        "id_party0_phone": "13904791111",
        "id_party0_address": "白马社区 5 号楼",
        "id_party1_name": "王海",
        "id_party1_phone": "13904792222",
        "id_party1_address": "白马社区 6 号楼",
    }
    for element in ("id_party0_name", "id_party0_id", "id_party0_phone", "id_party0_address"):
        tab_to(page, element, 4)
        page.keyboard.type(typed[element])
    for element in ("id_party1_name", "id_party1_phone", "id_party1_address"):
        tab_to(page, element, 4)
        page.keyboard.type(typed[element])
    page.keyboard.press("Enter")  # submits the form from the address input

    page.wait_for_selector("#error-summary")
    assert focused(page) == "error-summary"
    assert page.locator("#error-summary a[href='#id_title']").inner_text() == "请填写事由。"
    assert page.locator("#id_title").get_attribute("aria-invalid") == "true"
    assert page.locator("#id_title_error").inner_text() == "请填写事由。"
    assert page.locator("#id_title").get_attribute("aria-describedby") == "id_title_error"
    assert page.locator("[aria-invalid=true]").count() == 1
    # Every value typed is still there, the parties' too.
    for element, value in typed.items():
        assert page.locator(f"#{element}").input_value() == value, element
    assert page.locator("#id_category").input_value() == category
    assert page.locator("#id_region_village").input_value() == village
    assert page.locator("#id_location").input_value() == "社区广场东侧"
    assert page.locator("#id_description").input_value().startswith("键盘登记测试")
    assert page.locator("#id_amount").input_value() == "3000" and page.locator("#id_people").input_value() == "4"
    shot(page, "intake-keyboard-error")

    # From the summary to the field, then fix it and register, still by keyboard.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_title"
    page.keyboard.press("Enter")
    assert focused(page) == "id_title"
    page.keyboard.type("广场舞噪音纠纷（键盘）")
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/cases/1525*/")
    assert page.locator("#state").inner_text() == "已登记"
    assert page.locator("h1").inner_text().startswith("广场舞噪音纠纷（键盘）")
    assert "白马社区" in page.locator("dl.facts").inner_text()
    parties = page.locator("section:has(h2:text('当事人')) tbody").inner_text()
    assert "斯琴" in parties and "王海" in parties and mask_resident_id(number) in parties
    shot(page, "intake-keyboard-registered")


def test_the_meeting_page_is_folded_and_confirms_a_decision(
    page: Page, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        today, xilinhot = timezone.localdate(), Region.objects.get(code="152502000000")
        # One meeting a month per region: an earlier test of the run may have opened this month's already.
        meeting = DispatchMeeting.objects.filter(
            region=xilinhot, month=today.replace(day=1)
        ).first() or meeting_services.meeting_open(actor=who("director"), region=xilinhot, held_on=today)
        items = meeting.items.count()
    assert items > 10, "the demo history puts many cases on Xilinhot's agenda"
    login(page, server, "demo-director")
    page.goto(f"{server['url']}/staff/meetings/{meeting.pk}/")
    assert page.locator("#agenda details").count() == items
    assert page.locator("#agenda details[open]").count() == 0
    height = page.evaluate("document.documentElement.scrollHeight")
    first = page.locator("#agenda tbody tr").first
    first.locator("summary").focus()
    page.keyboard.press("Enter")
    assert first.locator("details[open]").count() == 1
    # A decision left empty: refused in place, what was typed kept.
    first.locator("textarea[name=discussion]").fill("各方同意由司法局牵头。")
    first.locator("button[type=submit]").click()
    page.wait_for_selector("#agenda details[open] p.error")
    row = page.locator("#agenda details[open]").first
    assert "请填写会议决定" in row.locator("p.error").inner_text()
    assert row.locator("textarea[name=discussion]").input_value() == "各方同意由司法局牵头。"
    row.locator("textarea[name=decision]").fill("十个工作日内化解，司法局反馈。")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("ul.messages li.success")
    assert "的会议决定已保存" in page.locator("ul.messages").inner_text()
    saved = page.locator("#agenda p.notice[role=status]")
    assert saved.count() == 1 and saved.inner_text() == "决定已保存。"
    assert page.locator("#agenda details[open]").count() == 0
    assert "十个工作日内化解，司法局反馈。" in page.locator("#agenda").inner_text()
    print(f"meeting page: {items} agenda items, {height} px high with every form folded")
    shot(page, "meeting-folded")


def test_the_case_page_leads_with_the_usual_step_and_follow_up_chooses_nothing(
    browser: Browser, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        handling, done = in_progress().number, closed().number
    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    login(tab, server, "demo-liaison")
    tab.goto(f"{server['url']}/staff/cases/{handling}/")
    summaries = tab.locator("#actions summary").all_inner_texts()
    assert summaries[0] == "化解成功", summaries
    rare = [s for s in summaries if s in ("退回", "化解不成", "上提", "转办", "查看完整号码")]
    assert "退回" in rare and summaries[-len(rare) :] == rare, summaries
    assert tab.locator("#actions details").first.get_attribute("open") is not None
    context.close()
    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    login(tab, server, "demo-intake")
    tab.goto(f"{server['url']}/staff/cases/{done}/")
    open_action(tab, "follow_up")
    form = tab.locator("form[data-action=follow_up]")
    assert form.locator("select[name=performance]").input_value() == ""
    assert form.locator("select[name=satisfaction]").input_value() == ""
    context.close()


def test_a_region_found_by_typing_its_name_sets_every_level(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-intake")
    page.goto(f"{server['url']}/staff/cases/new/")
    search = page.locator("#id_region_search")
    assert search.is_visible()  # shown by the script; without it the selects alone work
    search.focus()
    page.keyboard.type("白马社区")
    page.wait_for_function("() => document.querySelectorAll('#region-matches option').length > 0")
    match = page.locator("#region-matches option").first.get_attribute("value")
    assert match == "希日塔拉街道 · 白马社区（152502001001）"
    # Choosing the suggestion puts its text in the box, as typing it does.
    page.keyboard.press("Control+A")
    page.keyboard.type(match)
    page.wait_for_function("() => document.getElementById('id_region_village').value === '152502001001'")
    assert page.locator("#id_region_township").input_value() == "152502001000"
    assert page.locator("#id_region_county").input_value() == "152502000000"
    assert not page.locator("#id_region_grid").is_disabled()  # the village's grids are listed, none chosen
    assert page.locator("#id_region_grid").input_value() == ""
    assert focused(page) == "id_region_search"
