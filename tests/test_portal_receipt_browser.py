"""Two citizens apply on the portal in Chromium. Tuya's phone runs JavaScript: the township list
follows the county she picks, and her receipt code reaches her phone by SMS, sent by the task worker
from the outbox through the gateway (the file gateway here). Sarna's browser has JavaScript off:
the server narrows the township list when she asks for it, and what she typed stays."""

import re
import time

import pytest
from playwright.sync_api import Browser, Page

from tests.browsing import shot
from tests.task_worker import task_worker, wait_until
from tests.test_portal_browser import sms_code
from zongzhi.portal.sms import outbox_path

pytestmark = pytest.mark.browser
XILINHOT, DUOLUN = "152502000000", "152531000000"


def verified(page: Page, url: str, phone: str) -> None:
    page.goto(f"{url}/verify/?next=/apply/")
    page.fill("#id_phone", phone)
    asked = time.time() - 1
    page.click("button[value=send]")
    page.fill("#id_code", sms_code(phone, asked))
    page.click("button[value=check]")
    page.wait_for_url("**/apply/")


def township_options(page: Page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        "#id_township option", "options => options.filter(o => o.value).map(o => [o.value, o.textContent])"
    )


def last_sms(phone: str) -> str:
    path = outbox_path(phone)
    return path.read_text(encoding="utf-8").split("\n", 1)[1] if path.exists() else ""


def test_the_township_list_follows_the_county_and_the_receipt_comes_by_sms(
    browser: Browser, server: dict[str, str]
) -> None:
    url = server["url"]
    phone = "13604790881"
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    citizen = context.new_page()
    verified(citizen, url, phone)

    # Every required field carries the asterisk the legend speaks of, and says so to assistive technology.
    assert "带 * 的必须填写" in citizen.inner_text("#apply")
    for name in ("category", "description", "applicant_name", "other_party", "county", "place"):
        assert citizen.inner_text(f"label[for=id_{name}] .required").strip() == "*", name
        assert citizen.get_attribute(f"#id_{name}", "aria-required") == "true", name
    assert citizen.locator("label[for=id_township] .required").count() == 0
    assert citizen.get_attribute("#id_township", "aria-required") is None

    assert township_options(citizen) == []  # no county yet, no township
    assert not citizen.locator("#county-step").is_visible()  # the no-script button is not needed here
    citizen.select_option("#id_county", XILINHOT)
    xilinhot = township_options(citizen)
    assert xilinhot and all(code.startswith(XILINHOT[:6]) for code, _name in xilinhot)
    assert len({name for _code, name in xilinhot}) == len(xilinhot)  # one 额尔敦街道, not two
    citizen.select_option("#id_county", DUOLUN)
    assert all(code.startswith(DUOLUN[:6]) for code, _name in township_options(citizen))
    citizen.select_option("#id_county", XILINHOT)
    citizen.select_option("#id_township", xilinhot[0][0])

    citizen.select_option("#id_category", "grassland")
    citizen.fill("#id_description", "邻居在我家冬营地草场上新拉了围栏，挡住了去水井的路，要求拆除。")
    citizen.fill("#id_applicant_name", "图雅")
    citizen.fill("#id_other_party", "巴雅尔")
    citizen.fill("#id_place", "水井东侧草场")
    citizen.click("form button[type=submit]:has-text('提交申请')")
    citizen.wait_for_url("**/receipt/")
    receipt = citizen.inner_text("#receipt-code")
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", receipt)
    assert citizen.inner_text("#receipt-sent") == "回执码已通过短信发送到 136****0881，请留意查收并妥善保管。"
    shot(citizen, "portal-receipt-sent")

    with task_worker(server["database_url"]):
        arrived = wait_until(lambda: receipt in last_sms(phone))
    text = last_sms(phone)
    assert arrived, text
    assert "回执码" in text and "图雅" not in text and "巴雅尔" not in text
    context.close()


def test_without_javascript_the_server_narrows_the_townships(browser: Browser, server: dict[str, str]) -> None:
    url = server["url"]
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN", java_script_enabled=False)
    citizen = context.new_page()
    verified(citizen, url, "13604790882")
    assert township_options(citizen) == []
    assert citizen.locator("#township-hint").is_visible()
    citizen.fill("#id_description", "承包的草场被相邻牧户的羊群多次越界啃食，协商未果。")
    citizen.fill("#id_applicant_name", "萨仁")
    citizen.select_option("#id_county", DUOLUN)
    citizen.click("#county-step button")
    citizen.wait_for_load_state()
    duolun = township_options(citizen)
    assert duolun and all(code.startswith(DUOLUN[:6]) for code, _name in duolun)
    assert citizen.locator(".error").count() == 0  # asking for the list is not submitting
    assert citizen.input_value("#id_applicant_name") == "萨仁"
    assert "越界啃食" in citizen.input_value("#id_description")
    assert citizen.input_value("#id_county") == DUOLUN
    shot(citizen, "portal-apply-no-script")
    context.close()
