"""Following a case by receipt code: the public progress page, adding materials, withdrawing,
rating after closure; and a wrong or guessed receipt code teaching nothing."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests import real_files
from tests.portal_steps import apply, sms_code, verify_phone
from zongzhi.accounts.models import User
from zongzhi.cases import services
from zongzhi.cases.models import Case, FollowUp, State
from zongzhi.centers.models import Org
from zongzhi.portal.models import Application, ThrottleCounter
from zongzhi.portal.services import RECEIPT_ALPHABET

pytestmark = pytest.mark.django_db
PHONE = "13904790002"
PNG = real_files.PNG


def without_csrf(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page)


def who(name: str) -> User:
    return User.objects.get(username=f"demo-{name}")


def handle_to_closure(case: Case) -> Case:
    """Staff accept, assign, sign for, mediate to an agreement and close, as the staff pages do."""
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    case = services.case_assign(
        case=case, actor=who("director"), version=case.version, lead=Org.objects.get(code="152502-D05"), co=[]
    )
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    today = timezone.localdate()
    case = services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="围栏越界约 30 米。",
        terms="一、三十日内将围栏移回原界。",
        amount="6000",
        performance_method="转账",
        performance_due=today + datetime.timedelta(days=30),
        signed_on=today,
    )
    return services.case_close(case=case, actor=who("director"), version=case.version)


def test_the_progress_page_shows_state_steps_and_dates_but_no_people(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    receipt = apply(citizen)
    case = Application.objects.get().case
    case = services.case_act(case=case, action="accept", actor=who("intake"), version=case.version)
    case = services.case_assign(
        case=case, actor=who("director"), version=case.version, lead=Org.objects.get(code="152502-D05"), co=[]
    )
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)

    page = Client().post("/track/", {"receipt": receipt.lower()}).content.decode()  # any case, dashes or not
    assert 'data-state="in_progress"' in page
    for step in ("已收到申请", "综治中心已受理", "已分流给承办单位", "承办单位已签收，开始办理"):
        assert step in page
    assert "承办单位正在调解处理" in page and f"{case.due_at:%Y-%m-%d}" in page.split('id="expected"')[1][:30]
    for private in ("其其格", "巴特尔", "演示", "司法局", PHONE, who("liaison").full_name):
        assert private not in page, private
    assert "139****0002" in page


def test_the_qr_address_opens_the_same_page(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    receipt = apply(citizen)
    assert f"/track/{receipt.replace('-', '')}/" in citizen.get("/receipt/").content.decode()
    page = Client().get(f"/track/{receipt.replace('-', '')}/").content.decode()
    assert 'data-state="registered"' in page and "综治中心将在 1 个工作日内决定是否受理。" in page


def test_add_materials_and_withdraw_need_the_applicants_phone(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    receipt = apply(citizen)
    stranger = Client()  # has the receipt (say, a photo of the QR code) but not the phone
    refused = stranger.post("/track/act/", {"receipt": receipt, "action": "withdraw", "reason": "不想要了"})
    assert "请先用申请时的手机号获取验证码并验证。" in refused.content.decode()
    ThrottleCounter.objects.all().delete()  # a minute later: a new code may be sent to the phone
    with django_capture_on_commit_callbacks(execute=True):
        sent = stranger.post("/track/act/", {"receipt": receipt, "action": "send_code"})
    assert "验证码已发送到 139****0002。" in sent.content.decode()
    stranger.post(
        "/track/act/", {"receipt": receipt, "action": "verify", "code": sms_code(PHONE)}
    )  # the applicant reads it out
    photo = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    page = stranger.post("/track/act/", {"receipt": receipt, "action": "add", "files": photo}).content.decode()
    assert "材料已提交。" in page and "收到材料" in page
    page = stranger.post("/track/act/", {"receipt": receipt, "action": "withdraw", "reason": ""}).content.decode()
    assert "请说明撤回的原因。" in page
    page = stranger.post(
        "/track/act/", {"receipt": receipt, "action": "withdraw", "reason": "已私下和解"}
    ).content.decode()
    assert 'data-state="withdrawn"' in page and "申请已撤回，无需其他操作。" in page
    case = Application.objects.get().case
    assert case.state == State.WITHDRAWN and case.attachments.count() == 1
    assert case.events.get(kind="withdraw").data["reason"] == "已私下和解"


def test_the_applicant_rates_after_closure_and_the_rating_is_the_cases_follow_up(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    client_as,  # type: ignore[no-untyped-def]
) -> None:
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    receipt = apply(citizen)
    early = citizen.post("/track/act/", {"receipt": receipt, "action": "rate", "satisfaction": "satisfied"})
    assert "案件结案后才能评价。" in early.content.decode()
    case = handle_to_closure(Application.objects.get().case)
    page = citizen.post("/track/", {"receipt": receipt}).content.decode()
    assert 'data-state="closed"' in page and "请对办理结果进行评价。" in page
    page = citizen.post(
        "/track/act/",
        {
            "receipt": receipt,
            "action": "rate",
            "satisfaction": "basically",
            "performance": "partly",
            "note": "还差一半",
        },
    ).content.decode()
    assert "感谢您的评价！" in page and "办理完毕，感谢您的评价。" in page
    again = citizen.post("/track/act/", {"receipt": receipt, "action": "rate", "satisfaction": "satisfied"})
    assert "您已经评价过了，谢谢。" in again.content.decode()
    follow_up = FollowUp.objects.get(case=case)
    assert (follow_up.satisfaction, follow_up.performance, follow_up.note) == ("basically", "partly", "还差一半")
    staff = client_as("intake")
    assert 'data-kind="follow_up"' in staff.get(f"/staff/cases/{case.number}/").content.decode()
    record = staff.get(f"/staff/cases/{case.number}/print/follow_up/").content.decode()
    assert "网上评价" in record and "基本满意" in record and "还差一半" in record


def test_wrong_unknown_and_throttled_receipts_look_the_same(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    receipt = apply(citizen)
    guesser = Client(REMOTE_ADDR="10.9.9.9")
    answers = set()
    for i in range(10):
        guess = (RECEIPT_ALPHABET[i] * 12) if i % 2 else "nonsense"
        response = guesser.post("/track/", {"receipt": guess})
        answers.add((response.status_code, without_csrf(response.content)))
    # After ten misses in the hour even the right code gets the very same answer.
    response = guesser.post("/track/", {"receipt": receipt})
    answers.add((response.status_code, without_csrf(response.content)))
    assert len(answers) == 1 and answers.pop()[0] == 404
    # The QR address too: the right code's page is the wrong code's page (the address aside).
    pages = set()
    for code in (receipt, "Z" * 12):
        response = guesser.get(f"/track/{code}/")
        pages.add((response.status_code, without_csrf(response.content).replace(code.encode(), b"CODE")))
    assert len(pages) == 1 and pages.pop()[0] == 404
    # The applicant elsewhere is unaffected, and may reload freely.
    for _ in range(15):
        assert Client().post("/track/", {"receipt": receipt}).status_code == 200
