"""A citizen applies online: the phone confirmed by a one-time code, the application a registered
case (channel portal) in the competent center's intake queue, a receipt code and QR code."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from tests import real_files
from tests.portal_steps import APPLICATION, apply, sms_code, verify_phone
from zongzhi.cases.calendar import add_working_days
from zongzhi.cases.models import Case, State
from zongzhi.portal.models import Application, PhoneCode
from zongzhi.portal.sms import outbox_path

pytestmark = pytest.mark.django_db
PHONE = "13904790001"
PNG = real_files.PNG


def test_applying_needs_a_confirmed_phone_first() -> None:
    response = Client().get("/apply/")
    assert response.status_code == 302 and response["Location"].startswith("/verify/")


def test_a_wrong_code_is_refused_and_five_wrong_codes_spend_it(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/verify/", {"phone": PHONE, "step": "send"})
    right = sms_code(PHONE)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        page = client.post("/verify/", {"phone": PHONE, "step": "check", "code": wrong}).content.decode()
        assert "验证码不正确" in page
    page = client.post("/verify/", {"phone": PHONE, "step": "check", "code": right}).content.decode()
    assert "验证码已失效，请重新获取" in page
    assert client.get("/apply/").status_code == 302


def test_a_bad_phone_number_says_what_is_wrong() -> None:
    page = Client().post("/verify/", {"phone": "12345", "step": "send"}).content.decode()
    assert "手机号应为 11 位数字，以 1 开头。" in page


def test_the_application_lands_in_the_county_centers_intake_queue(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    client_as,  # type: ignore[no-untyped-def]
) -> None:
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    receipt = apply(citizen, files=SimpleUploadedFile("fence.png", PNG, content_type="image/png"))
    assert len(receipt.replace("-", "")) == 12
    assert "<svg" in citizen.get("/receipt/").content.decode()  # the QR code, drawn here

    application = Application.objects.select_related("case").get(case__channel=Case.Channel.PORTAL)
    case = application.case
    assert case.state == State.REGISTERED and case.center.code == "ZZ-152502"
    assert case.due_at == add_working_days(case.registered_at, 1)  # the promise: accepted within a working day
    assert case.location == APPLICATION["place"] and case.attachments.count() == 1
    assert [(p.role, p.name) for p in case.parties.order_by("role")] == [
        ("applicant", "巴特尔"),
        ("respondent", "其其格"),
    ]
    assert case.parties.get(role="applicant").phone == PHONE  # decrypted by the field
    with connection.cursor() as cursor:  # at rest: only the encrypted token
        cursor.execute("SELECT phone FROM portal_application WHERE id = %s", [application.pk])
        assert PHONE not in cursor.fetchone()[0]

    queue = client_as("intake").get("/staff/cases/?queue=to_accept").content.decode()
    assert case.number in queue
    detail = client_as("intake").get(f"/staff/cases/{case.number}/").content.decode()
    assert "网上申请" in detail and "139****0001" in detail and PHONE not in detail


def test_bad_input_is_named_field_by_field(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    page = citizen.post(
        "/apply/", {**APPLICATION, "description": "太短", "other_party": "", "township": "152531100000"}
    ).content.decode()
    assert "请用至少 10 个字说明纠纷情况。" in page
    assert "对方当事人（姓名或单位）：请填写对方当事人的姓名或单位名称。" in page
    assert "所选苏木乡镇不属于所选旗县市区。" in page
    assert not Application.objects.exists()


def test_uploads_are_checked_by_content_size_and_number(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    page = citizen.post("/apply/", {**APPLICATION, "files": fake}).content.decode()
    assert "文件“photo.jpg”不是照片（JPEG、PNG）或 PDF。" in page
    big = SimpleUploadedFile("big.png", PNG + b"\0" * (10 * 1024 * 1024), content_type="image/png")
    page = citizen.post("/apply/", {**APPLICATION, "files": big}).content.decode()
    assert "文件“big.png”超过 10 MB。" in page
    many = [SimpleUploadedFile(f"p{i}.png", PNG, content_type="image/png") for i in range(6)]
    page = citizen.post("/apply/", {**APPLICATION, "files": many}).content.decode()
    assert "一次最多上传 5 个文件。" in page
    assert not Application.objects.exists()


def test_everything_typed_is_escaped_on_the_way_out(django_capture_on_commit_callbacks, client_as) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    script = "<script>alert(1)</script>"
    page = citizen.post("/apply/", {**APPLICATION, "other_party": script, "township": "152531100000"}).content
    assert b"<script>alert" not in page and b"&lt;script&gt;" in page
    apply(citizen, applicant_name=f"巴特尔{script}")
    number = Application.objects.get().case.number
    assert b"<script>alert" not in client_as("intake").get(f"/staff/cases/{number}/").content


def test_codes_are_limited_per_phone_and_per_address(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/verify/", {"phone": PHONE, "step": "send"})
    page = client.post("/verify/", {"phone": PHONE, "step": "send"}).content.decode()
    assert "验证码已发送，请 1 分钟后再试。" in page
    assert PhoneCode.objects.count() == 1
    # Twenty codes an hour from one address, whatever the phones.
    for i in range(19):
        client.post("/verify/", {"phone": f"1370000{i:04d}", "step": "send"})
    page = client.post("/verify/", {"phone": "13799999999", "step": "send"}).content.decode()
    assert "获取验证码过于频繁，请 1 小时后再试。" in page
    assert PhoneCode.objects.count() == 20
    other_address = Client(REMOTE_ADDR="10.1.2.3")
    assert (
        "验证码已发送，10 分钟内有效。"
        in other_address.post("/verify/", {"phone": "13799999999", "step": "send"}).content.decode()
    )


def test_applications_are_limited_per_phone(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    for i in range(3):
        apply(citizen, description=f"第{i}次申请：草场围栏位置发生争执，要求重新确认边界。")
    page = citizen.post("/apply/", APPLICATION).content.decode()
    assert "今天提交的申请已达上限" in page
    assert Application.objects.count() == 3


def test_sms_text_is_in_the_visitors_language(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.cookies["django_language"] = "mn"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/verify/", {"phone": PHONE, "step": "send"})

    text = outbox_path(PHONE).read_text(encoding="utf-8")
    assert "ᠪᠠᠲᠠᠯᠠᠭᠠᠵᠤᠭᠤᠯᠬᠤ ᠺᠣᠳ" in text and len(sms_code(PHONE)) == 6


def test_the_file_gateway_is_replaced_by_the_http_one_in_settings(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ImproperlyConfigured

    from zongzhi.portal import sms

    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = ""
    with pytest.raises(ImproperlyConfigured):
        sms.send(PHONE, "x")
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(ImproperlyConfigured, match="unknown SMS_BACKEND"):
        sms.send(PHONE, "x")
