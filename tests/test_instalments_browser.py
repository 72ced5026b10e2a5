"""An agreement paid in instalments, on the pages in Chromium: the schedule typed row by row, its sum
checked against the agreed amount, payments kept as history, the overdue queue and its SMS reminder.

Alice (demo-director) resolves a case 司法局 handles, with a 3-instalment schedule whose sum is wrong:
the refusal names the schedule and the form keeps every row. She fixes the last row, then registers
the first instalment paid in two parts: both receipts stay listed and the balance follows. An older
agreement, 14 months overdue, is in the overdue queue with who owes how much for how long (its SMS
reminder: tests/test_instalment_reminders.py).
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page

from tests.browsing import Http, login, open_action, shot
from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import who
from zongzhi.cases import services
from zongzhi.cases.models import Case, Instalment, InstalmentPayment, State
from zongzhi.cases.services import InstalmentInput

pytestmark = pytest.mark.browser


def _page(browser: Browser, server: dict[str, str], username: str) -> Page:
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    login(page, server, username)
    return page


def test_a_schedule_is_typed_checked_and_paid_in_parts(
    browser: Browser, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM below runs before pages are driven
    with django_db_blocker.unblock():
        number = in_progress().number
    today = timezone.localdate()
    dues = [(today + datetime.timedelta(days=30 * n)).isoformat() for n in (1, 2, 3)]
    alice = _page(browser, server, "demo-director")
    alice.goto(f"{server['url']}/staff/cases/{number}/")
    open_action(alice, "resolve")
    form = alice.locator("form[data-action=resolve]")
    form.locator("textarea[name=facts]").fill("合作社拖欠牧工三个月工资。")
    form.locator("textarea[name=terms]").fill("被申请人分三期支付工资 9000 元。")
    form.locator("input[name=amount]").fill("9000")
    form.locator("input[name=performance_method]").fill("分三期银行转账")
    rows = form.locator("fieldset.rows .row")
    assert rows.count() == 3
    # 增加一行 and 删除 in place (JavaScript): a fourth row comes and goes, the names stay 0, 1, 2.
    form.locator("button.row-add").click()
    assert rows.count() == 4 and rows.nth(3).locator("input[name='instalments.3.amount']").count() == 1
    rows.nth(3).locator("button.row-drop").click()
    assert rows.count() == 3
    for n, (due, amount) in enumerate(zip(dues, ["3000", "3000", "2000"], strict=True)):
        form.locator(f"input[name='instalments.{n}.due_on']").fill(due)
        form.locator(f"input[name='instalments.{n}.amount']").fill(amount)
    assert "8000.00" in form.locator(".rows-sum").inner_text()
    form.locator("button[type=submit]:not(.row-add):not(.row-drop)").click()

    error = alice.locator("form[data-action=resolve] fieldset.rows p.error")
    error.wait_for()
    assert "各期金额合计 8000.00 元，与协议金额 9000.00 元不符（相差 1000.00 元）" in error.inner_text()
    form = alice.locator("form[data-action=resolve]")
    assert form.locator("input[name='instalments.2.amount']").input_value() == "2000"
    assert form.locator("input[name='instalments.0.due_on']").input_value() == dues[0]
    assert form.locator("textarea[name=terms]").input_value() == "被申请人分三期支付工资 9000 元。"
    assert alice.locator("#state").inner_text() == "办理中"
    shot(alice, "instalments-wrong-sum")

    form.locator("input[name='instalments.2.amount']").fill("3000")
    form.locator("button[type=submit]:not(.row-add):not(.row-drop)").click()
    alice.wait_for_selector("#state:has-text('已化解')")
    schedule = alice.locator("#schedule tbody tr")
    assert schedule.count() == 3
    assert alice.locator("#balance").inner_text() == "9000.00"

    def pay(amount: str, receipt: str) -> None:
        open_action(alice, "payment")
        payment = alice.locator("form[data-action=payment]")
        payment.locator("select[name=instalment]").select_option(index=1)  # the first instalment still owing
        payment.locator("input[name=paid_on]").fill(today.isoformat())
        payment.locator("input[name=paid_amount]").fill(amount)
        payment.locator("input[name=receipt]").fill(receipt)
        payment.locator("button:not([formnovalidate])").click()

    pay("5000", "SJ-0")  # more than the instalment owes: refused, nothing written
    refusal = alice.locator("form[data-action=payment] p.error[data-for=paid_amount]")
    assert "实付金额 5000.00 元超过该期未付金额 3000.00 元" in refusal.inner_text()
    pay("1000", "SJ-1")
    alice.wait_for_selector("#schedule li[data-receipt='SJ-1']")
    first = alice.locator("#schedule tbody tr").first
    assert first.locator(".outstanding").inner_text() == "2000.00"
    assert "部分履行" in first.inner_text()
    assert "尚欠 2000.00 元" in (
        alice.locator("form[data-action=payment] select[name=instalment]").text_content() or ""
    )
    pay("2000", "SJ-2")
    alice.wait_for_selector("#schedule li[data-receipt='SJ-2']")
    first = alice.locator("#schedule tbody tr").first
    receipts = first.locator("li").all_inner_texts()
    assert len(receipts) == 2 and "收 1000.00 元" in receipts[0] and "收 2000.00 元" in receipts[1]
    assert "已付清" in first.inner_text() and first.locator(".outstanding").inner_text() == "0.00"
    assert alice.locator("#balance").inner_text() == "6000.00"
    shot(alice, "instalments-paid-in-parts")
    with django_db_blocker.unblock():
        paid = Instalment.objects.filter(agreement__case__number=number).order_by("due_on").first()
        assert paid is not None and paid.paid_amount == Decimal("3000") and paid.paid_on == today
        assert InstalmentPayment.objects.filter(instalment=paid).count() == 2
        assert Case.objects.get(number=number).state == State.RESOLVED


def test_rows_are_added_and_dropped_without_javascript(server: dict[str, str], django_db_blocker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same buttons post the form back: a row more, a row less, what was typed kept, nothing run."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # this module's Playwright loop still runs
    with django_db_blocker.unblock():
        case = in_progress()
    director = Http(server, "demo-director")
    path = f"/staff/cases/{case.number}/do/resolve/"
    typed = {
        "version": str(case.version),
        "terms": "分两期付清。",
        "instalments.0.due_on": "2027-01-10",
        "instalments.0.amount": "100",
        "instalments.1.due_on": "2027-02-10",
        "instalments.1.amount": "200",
        "instalments.2.due_on": "",
        "instalments.2.amount": "",
    }
    director.get(f"/staff/cases/{case.number}/")
    more = director.form(path, {**typed, "_add_row": "instalments"})
    assert more.status == 200 and 'name="instalments.3.amount"' in more.text
    assert 'value="200"' in more.text
    fewer = director.form(path, {**typed, "_drop_row": "instalments.0"})
    assert fewer.status == 200
    assert 'name="instalments.0.amount" inputmode="decimal" value="200"' in fewer.text
    with django_db_blocker.unblock():
        assert Case.objects.get(pk=case.pk).state == State.IN_PROGRESS  # nothing was run


def test_an_overdue_instalment_is_in_the_queue(
    browser: Browser, server: dict[str, str], django_db_blocker, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=430)  # 14 months
    with django_db_blocker.unblock():
        case = in_progress()
        case = services.case_resolve(
            case=case,
            actor=who("liaison"),
            version=case.version,
            facts="拖欠草料款。",
            terms="被申请人分两期支付 5000 元。",
            amount="5000",
            performance_method="分两期转账",
            signed_on=long_ago - datetime.timedelta(days=30),
            instalments=[InstalmentInput(long_ago, Decimal("2000")), InstalmentInput(today, Decimal("3000"))],
        )
        late = Instalment.objects.get(agreement__case=case, due_on=long_ago)
        services.instalment_pay(
            case=case, actor=who("director"), instalment=late, paid_on=today, paid_amount="500", receipt="SJ-9"
        )
    alice = _page(browser, server, "demo-director")
    alice.goto(f"{server['url']}/staff/")
    assert "分期逾期" in alice.locator("#instalments-overdue").inner_text()
    alice.click("#instalments-overdue a")
    row = alice.locator(f"#overdue-instalments tr[data-instalment='{late.pk}']")
    assert row.locator(".overdue-days").get_attribute("data-days") == "430"
    assert row.locator(".outstanding").inner_text() == "1500.00"
    assert "其其格" in row.inner_text()  # the respondent: who owes
    assert "待提醒" in row.locator(".reminded").inner_text()
    shot(alice, "instalments-overdue-queue")
