"""The public portal in headless Chromium: a citizen applies on a phone, staff handle the case in
the staff pages, the citizen follows it and rates it; a Mongolian page checked as rendered."""

import re
import time

import pytest
from playwright.sync_api import Browser, Page

from tests import real_files
from tests.browsing import login, open_action, shot
from zongzhi.portal.sms import outbox_path

pytestmark = pytest.mark.browser
PNG = real_files.PNG


def sms_code(phone: str, after: float) -> str:
    """The code the server's file SMS gateway wrote for the phone after `after` (the server is another process)."""
    path = outbox_path(phone)
    for _ in range(50):
        if path.exists() and path.stat().st_mtime >= after:
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", path.read_text(encoding="utf-8").split("\n", 1)[1])
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no SMS for {phone}")


def phone_context(browser: Browser, locale: str = "zh-CN") -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale, is_mobile=True, has_touch=True)
    return context.new_page()


def staff(browser: Browser, server: dict[str, str], username: str) -> Page:
    tab = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN").new_page()
    login(tab, server, username)
    return tab


def test_a_citizen_applies_staff_handle_it_and_the_citizen_rates_it(browser: Browser, server: dict[str, str]) -> None:
    url = server["url"]
    phone_number = "13604790777"
    marker = f"浏览器网上申请{int(time.time()) % 100000}"
    citizen = phone_context(browser)
    citizen.goto(f"{url}/")
    citizen.click("#intro ~ #steps a:has-text('网上申请')")
    citizen.wait_for_url("**/verify/**")
    citizen.fill("#id_phone", phone_number)
    asked = time.time() - 1
    citizen.click("button[value=send]")
    citizen.fill("#id_code", sms_code(phone_number, asked))
    citizen.click("button[value=check]")
    citizen.wait_for_url("**/apply/")
    citizen.select_option("#id_category", "grassland")
    citizen.fill("#id_description", f"{marker}：邻居把冬季草场围栏往我家草场挪了三十米，要求恢复原界。")
    citizen.fill("#id_applicant_name", "图雅")
    citizen.fill("#id_other_party", "巴特尔")
    citizen.select_option("#id_county", "152502000000")
    citizen.fill("#id_place", "白音锡勒牧场")
    citizen.set_input_files("#id_files", {"name": "fence.png", "mimeType": "image/png", "buffer": PNG})
    citizen.click("form button[type=submit]:has-text('提交申请')")
    citizen.wait_for_url("**/receipt/")
    receipt = citizen.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", receipt)
    assert citizen.locator(".qr svg").is_visible()
    shot(citizen, "portal-receipt")
    citizen.click("#progress-link")
    assert citizen.locator("#state").inner_text() == "已登记，等待受理"

    clerk = staff(browser, server, "demo-intake")
    clerk.goto(f"{url}/staff/cases/?queue=to_accept&channel=portal&q={marker}")
    clerk.click(f"tr:has-text('{marker}') a")
    number = clerk.url.rstrip("/").rsplit("/", 1)[-1]
    clerk.click("form[data-action=accept] button")
    clerk.wait_for_selector("#state:has-text('已受理')")

    citizen.reload()
    assert citizen.locator("#state").inner_text() == "已受理"
    assert "综治中心已受理" in citizen.locator("#timeline").inner_text()

    director = staff(browser, server, "demo-director")
    director.goto(f"{url}/staff/cases/{number}/")
    director.select_option("form[data-action=assign] select[name=lead]", "152502-D05")
    director.click("form[data-action=assign] button:not([formnovalidate])")
    director.wait_for_selector("#state:has-text('已分流')")
    liaison = staff(browser, server, "demo-liaison")
    liaison.goto(f"{url}/staff/cases/{number}/")
    liaison.click("form[data-action=sign_for] button")
    liaison.wait_for_selector("#state:has-text('办理中')")

    citizen.reload()
    assert citizen.locator("#state").inner_text() == "办理中"
    assert "承办单位正在调解处理" in citizen.locator("#next-step").inner_text()
    progress_text = citizen.locator("main").inner_text()
    assert "巴特尔" not in progress_text and "司法局" not in progress_text and "演示" not in progress_text

    open_action(liaison, "resolve")
    form = liaison.locator("form[data-action=resolve]")
    form.locator("textarea[name=facts]").fill("围栏越界约三十米。")
    form.locator("textarea[name=terms]").fill("一、十日内将围栏移回原界。")
    form.locator("input[name=performance_method]").fill("当面履行")
    form.locator("input[name=performance_due]").fill("2027-01-05")
    form.locator("button:not([formnovalidate])").click()
    liaison.wait_for_selector("#state:has-text('已化解')")
    director.goto(f"{url}/staff/cases/{number}/")
    director.click("form[data-action=close] button")
    director.wait_for_selector("#state:has-text('已结案')")

    citizen.reload()
    assert citizen.locator("#state").inner_text() == "已结案"
    citizen.check("#rate input[name=satisfaction][value=satisfied]")
    citizen.select_option("#id_performance", "performed")
    citizen.fill("#id_note", "调解员很耐心")
    citizen.click("#rate button[type=submit]")
    citizen.wait_for_selector("text=感谢您的评价！")
    assert "回访评价" in citizen.locator("#timeline").inner_text()
    width = citizen.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    shot(citizen, "portal-progress-rated")

    # The printed agreement, in Mongolian: vertical columns, as on paper.
    citizen.click("button[value=mn]")
    citizen.wait_for_selector("html[lang=mn-Mong] #print-agreement")
    with citizen.context.expect_page() as opened:
        citizen.click("#print-agreement button")
    sheet = opened.value
    sheet.wait_for_load_state()
    sheet.evaluate("document.fonts.ready")
    agreement = sheet.locator("#agreement")
    assert agreement.evaluate("e => getComputedStyle(e).writingMode") == "vertical-lr"
    box = agreement.bounding_box()
    assert box is not None and box["height"] > box["width"] / 3, box
    assert "ᠡᠪᠯᠡᠷᠡᠭᠦᠯᠦᠯ" in sheet.locator("h1").inner_text() and "十日内将围栏移回原界" in agreement.inner_text()
    shot(sheet, "portal-agreement-mongolian")

    clerk.goto(f"{url}/staff/cases/{number}/")
    assert clerk.locator("li[data-kind=follow_up]").count() == 1
    shot(clerk, "portal-case-in-staff-pages")
    clerk.click("a:has-text('回访记录')")
    record = clerk.locator("article").inner_text()
    assert "网上评价" in record and "满意" in record and "调解员很耐心" in record
    for tab in (citizen, clerk, director, liaison):
        tab.context.close()


def test_a_mongolian_page_is_vertical_in_the_mongolian_font(browser: Browser, server: dict[str, str]) -> None:
    tab = phone_context(browser)
    tab.goto(f"{server['url']}/")
    tab.click("button[value=mn]")
    tab.wait_for_selector("html[lang=mn-Mong]")
    tab.goto(f"{server['url']}/centers/ZZ-152502/")  # remembered on the next page
    tab.goto(f"{server['url']}/")
    assert tab.evaluate("document.documentElement.lang") == "mn-Mong"
    tab.evaluate("document.fonts.ready")
    intro = tab.locator("#intro")
    assert intro.evaluate("e => getComputedStyle(e).writingMode") == "vertical-lr"
    box = intro.bounding_box()
    assert box is not None and box["height"] > box["width"], box
    loaded = tab.evaluate(
        "Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family.replaceAll('\"', ''))"
    )
    assert "Zongzhi Mongolian" in loaded, loaded
    text = intro.inner_text()
    assert "ᠨᠢᠭᠡᠳᠦᠭᠰᠡᠨ" in text and not re.search(r"[\u4e00-\u9fff]", text)
    shot(tab, "portal-home-mongolian")
    tab.goto(f"{server['url']}/centers/ZZ-152502/")
    shot(tab, "portal-center-mongolian")
    tab.context.close()
