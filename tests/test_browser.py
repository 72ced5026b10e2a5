"""The staff UI in a real headless Chromium (Debian's package, driven by Playwright).

A real server process serves the session's test database; these tests hold no transaction of
their own so that server can write (sessions, audit entries). Screenshots go to test-artifacts/.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browsing import login, open_action, shot

pytestmark = pytest.mark.browser


def test_league_leader_logs_in_and_walks_the_tree(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-league")
    assert page.locator("#overview .figures").inner_text().count("3555") == 1
    page.click("text=浏览 锡林郭勒盟 区划树")
    page.wait_for_url("**/staff/regions/152500000000/")
    rows = page.locator("table.tree tbody tr")
    assert rows.count() == 13
    xilinhot = page.locator("tr[data-code='152502000000']")
    xilinhot.locator("button.toggle").click()
    page.wait_for_function("() => document.querySelectorAll('table.tree tbody tr').length > 13")
    expanded = rows.count()
    assert expanded == 13 + 10  # Xilinhot's ten townships appear under it, in place
    assert page.locator("tr[data-code='152502001000']").is_visible()
    shot(page, "region-tree-league")


def test_fonts_are_vendored_and_render_chinese_and_mongolian(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-league")
    page.goto(f"{server['url']}/staff/regions/152500000000/")
    # A phone with its own CJK font never needs "Zongzhi Sans" (static/css/app.css): ask for it, as a phone
    # without one would, and it must come from our own static files.
    page.evaluate("Promise.all([document.fonts.load('20px \"Zongzhi Sans\"', '锡林郭勒'), document.fonts.ready])")
    loaded = page.evaluate(
        "Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family.replaceAll('\"', ''))"
    )
    assert "Zongzhi Sans" in loaded and "Zongzhi Mongolian" in loaded, loaded
    # Without the webfont the glyphs would fall back to a box; measure that they differ from it.
    widths = page.evaluate(
        """() => {
        const c = document.createElement('canvas').getContext('2d');
        c.font = '20px "Zongzhi Sans"'; const zh = c.measureText('锡林郭勒').width;
        c.font = '20px "Zongzhi Mongolian"'; const mn = c.measureText('ᠰᠢᠯᠢ ᠶᠢᠨ ᠭᠣᠣᠯ').width;
        return [zh, mn];
    }"""
    )
    assert widths[0] > 60 and widths[1] > 40, widths
    shot(page, "fonts-league-page")


def test_center_page_shows_zones_rooms_and_todays_agencies(page: Page, server: dict[str, str]) -> None:
    login(page, server, "demo-director")
    page.goto(f"{server['url']}/staff/centers/ZZ-152502/")
    zones = page.locator("section.zone h2").all_inner_texts()
    assert zones == ["引导受理区", "多元化解区", "指挥调度区"]
    assert page.locator("text=速裁法庭").first.is_visible()
    on_duty = page.locator("#on-duty").inner_text()
    assert "今日在岗入驻单位" in on_duty and "随驻单位" in on_duty
    shot(page, "center-xilinhot")


def test_grid_worker_sees_their_grid_and_not_the_county(page: Page, server: dict[str, str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, server, "demo-gridworker")
    page.click("section:has-text('我的网格') a")
    assert page.locator("h2:has-text('网格员')").is_visible()
    shot(page, "gridworker-phone")
    response = page.goto(f"{server['url']}/staff/regions/152502000000/")
    assert response is not None and response.status == 404
    assert "不在您的辖区内" in page.content()


def test_the_whole_lifecycle_in_the_browser(browser: Browser, server: dict[str, str]) -> None:
    """intake → accept → assign → sign for → mediate → agree → close → follow up, each by its persona."""
    url = server["url"]

    def as_user(username: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        tab = context.new_page()
        login(tab, server, username)
        return tab

    clerk = as_user("demo-intake")
    clerk.goto(f"{url}/staff/cases/new/")
    clerk.select_option("#id_category", "family")
    clerk.select_option("#id_region_township", "152502001000")  # the picker lists the next level
    clerk.wait_for_selector("#id_region_village option[value='152502001001']", state="attached")
    clerk.select_option("#id_region_village", "152502001001")
    clerk.fill("#id_title", "赡养费纠纷（浏览器测试）")
    clerk.fill("#id_description", "老人诉两个儿子未按约定支付赡养费，要求每月各付一千元。")
    clerk.fill("#id_amount", "24000")
    clerk.fill("input[name=party0_name]", "额尔德木图")
    clerk.fill("input[name=party1_name]", "巴雅尔")
    clerk.locator("#id_amount").dispatch_event("change")
    # The live risk suggestion (htmx) names the amount rule once the amount is in.
    clerk.wait_for_function("() => document.querySelector('#check').innerText.includes('涉及金额')")
    assert clerk.locator("#check .risk").inner_text() == "黄色"
    clerk.click("form.intake button[type=submit]")
    clerk.wait_for_url("**/staff/cases/1525*/")
    number = clerk.url.rstrip("/").rsplit("/", 1)[-1]
    assert clerk.locator("#state").inner_text() == "已登记"
    clerk.click("form[data-action=accept] button")
    clerk.wait_for_selector("#state:has-text('已受理')")

    director = as_user("demo-director")
    director.goto(f"{url}/staff/cases/{number}/")
    director.select_option("form[data-action=assign] select[name=lead]", "152502-D05")
    director.select_option("form[data-action=assign] select[name='co.0.org']", "152502-BR1")
    director.click("form[data-action=assign] button:not([formnovalidate])")
    director.wait_for_selector("#state:has-text('已分流')")

    liaison = as_user("demo-liaison")
    liaison.goto(f"{url}/staff/cases/?queue=to_sign")
    liaison.click(f"text={number}")
    liaison.click("form[data-action=sign_for] button")
    liaison.wait_for_selector("#state:has-text('办理中')")
    open_action(liaison, "session")
    liaison.fill("input[name=held_at]", "2026-11-20T10:00")
    liaison.select_option("select[name=place_kind]", "on_site")
    liaison.fill("input[name=place]", "老人家中")
    liaison.fill("input[name=mediators]", "司法所调解员")
    liaison.fill("textarea[name=record]", "两个儿子同意每月各付八百元。")
    liaison.click("form[action$='/do/session/'] button")
    liaison.wait_for_selector("li[data-kind=session]")
    open_action(liaison, "resolve")
    form = liaison.locator("form[data-action=resolve]")
    form.locator("textarea[name=facts]").fill("两个儿子未按约定支付赡养费。")
    form.locator("textarea[name=terms]").fill("一、每月五日前各付赡养费八百元。\n二、医疗费用由二人平均分担。")
    form.locator("input[name=amount]").fill("24000")
    form.locator("input[name=performance_method]").fill("按月银行转账")
    form.locator("input[name=performance_due]").fill("2027-11-05")
    form.locator("button:not([formnovalidate])").click()
    liaison.wait_for_selector("#state:has-text('已化解')")

    director.goto(f"{url}/staff/cases/{number}/")
    director.click("form[data-action=close] button")
    director.wait_for_selector("#state:has-text('已结案')")

    clerk.goto(f"{url}/staff/cases/{number}/")
    open_action(clerk, "follow_up")
    clerk.select_option("select[name=satisfaction]", "satisfied")
    clerk.select_option("select[name=performance]", "performed")
    clerk.click("form[action$='/do/follow_up/'] button")
    clerk.wait_for_selector("li[data-kind=follow_up]")
    kinds = clerk.locator("ol.timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == ["intake", "accept", "assign", "sign_for", "session", "agreement", "resolve", "close", "follow_up"]
    shot(clerk, "case-lifecycle")

    clerk.goto(f"{url}/staff/cases/{number}/print/agreement/")
    assert clerk.locator("h1").inner_text() == "人民调解协议书"
    with clerk.expect_download() as download:
        clerk.click("text=下载 PDF")
    assert download.value.suggested_filename.endswith(".pdf")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    for tab in (clerk, director, liaison):
        tab.context.close()


def test_grid_worker_on_a_phone_registers_claims_and_finds_a_resident(browser: Browser, server: dict[str, str]) -> None:
    from datetime import date

    from zongzhi.identity import make_resident_id

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    login(phone, server, "demo-gridworker")
    phone.goto(f"{server['url']}/staff/grid/")
    phone.fill("input[name=address]", "白马社区 12 号楼 3 单元")
    phone.click("form[action$='/households/new/'] button")
    phone.wait_for_url("**/staff/grid/households/H*/")
    person = make_resident_id("152502", date(1991, 6, 18), 321)
    phone.fill("input[name=name]", "苏日娜")
    phone.select_option("select[name=relation]", "head")
    phone.fill("input[name=id_number]", person)
    phone.fill("input[name=phone]", "13847900321")
    phone.click("form[action$='/residents/'] button")
    phone.wait_for_selector("text=苏日娜")
    page_text = phone.content()
    assert person not in page_text and "138****0321" in page_text
    phone.click("text=认领本户")
    phone.wait_for_selector(".tag.ok")
    phone.goto(f"{server['url']}/staff/grid/")
    phone.fill("form.search input[name=q]", "苏日")
    phone.click("form.search button")
    phone.wait_for_selector("text=查找结果")
    assert "苏日娜" in phone.locator("section.card").first.inner_text()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    shot(phone, "gridworker-phone-claim")
    context.close()
