"""SMS notices to the parties, from the outbox through the pluggable gateway.

Bater applies on the portal (in Mongolian) against Qiqige; both have phones. Each is told of their own
case only: the receipt code goes to the phone that applied as soon as the application is in (the
'received' notice), never to the other party, nor the other party's name or phone.
Quiet hours, the per-phone limit, opt-out and the gateway's failures decide when a message goes out.
"""

import datetime
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import register, who
from zongzhi.cases import services
from zongzhi.cases.models import Case, Category
from zongzhi.cases.services import InstalmentInput
from zongzhi.centers.models import Org, Room
from zongzhi.outbox import notices
from zongzhi.outbox.clock import instalment_events
from zongzhi.outbox.models import SmsMessage, SmsReceipt
from zongzhi.outbox.publishing import publish
from zongzhi.outbox.services import sms_preference_set
from zongzhi.portal import services as portal
from zongzhi.portal import sms
from zongzhi.regions.models import Region

APPLICANT, RESPONDENT = "13904790011", "13904790022"


@pytest.fixture(autouse=True)
def gateway(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "file"
    settings.SMS_DIR = tmp_path
    settings.SMS_QUIET_HOURS = (0, 0)
    settings.SMS_PER_PHONE_PER_HOUR = 10
    settings.SMS_MONGOLIAN = False
    return tmp_path


def inbox(directory: Path, phone: str) -> str:
    """The latest message the file gateway wrote for `phone` (its file is named by the phone's blind index)."""
    path = directory / sms.outbox_path(phone).name
    return path.read_text(encoding="utf-8").split("\n", 1)[1] if path.exists() else ""


def dispatch(now: datetime.datetime | None = None) -> dict[str, int]:
    publish()
    notices.fan_out()
    return notices.send_due(now=now)


def portal_case(language: str = "zh-hans") -> tuple[Case, str]:
    data = portal.ApplicationInput(
        category=Category.objects.get(code="grassland"),
        description="两户牧民因冬季草场围栏位置发生争执，要求重新确认边界。",
        applicant_name="巴特尔",
        other_party="其其格",
        region=Region.objects.get(code="152502000000"),
        place="白音锡勒牧场三分场",
    )
    application, code = portal.application_submit(
        data=data, phone=APPLICANT, ip="127.0.0.9", files=[], language=language
    )
    case = application.case
    respondent = case.parties.get(role="respondent")
    respondent.phone = RESPONDENT
    respondent.save(update_fields=["phone"])  # the clerk adds the other party's phone at intake
    return case, code


@pytest.mark.django_db
def test_the_applicant_gets_the_receipt_at_once_and_each_party_hears_of_their_own_case(gateway: Path) -> None:
    case, code = portal_case()
    assert dispatch()["sent"] == 1
    received = inbox(gateway, APPLICANT)
    assert portal.receipt_shown(code) in received and "网上调解申请已提交" in received
    assert inbox(gateway, RESPONDENT) == ""  # the receipt opens the case: only the applicant's phone has it
    assert not SmsReceipt.objects.filter(case=case).exists()  # carried once, no copy kept
    services.case_accept(case=case, actor=who("intake"), version=case.version)
    assert dispatch()["sent"] == 2
    mine, theirs = inbox(gateway, APPLICANT), inbox(gateway, RESPONDENT)
    assert case.number in mine and case.center.phone in mine and code not in mine
    assert case.number in theirs and code not in theirs
    assert "巴特尔" not in theirs and APPLICANT not in theirs and "其其格" not in mine and RESPONDENT not in mine
    assert dispatch()["sent"] == 0  # told once


@pytest.mark.django_db
def test_every_portal_application_sends_its_receipt_even_if_never_accepted(gateway: Path) -> None:
    case, code = portal_case()
    services.case_act(case=case, action="reject", actor=who("intake"), version=case.version, reason="不属于受理范围")
    dispatch()
    assert portal.receipt_shown(code) in inbox(gateway, APPLICANT)
    assert list(SmsMessage.objects.filter(case=case, party__role="applicant").values_list("notice", flat=True)) == [
        "received"
    ]


@pytest.mark.django_db
def test_the_console_gateway_logs_no_receipt_code(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "console"
    _case, code = portal_case()
    with caplog.at_level("WARNING", logger="zongzhi.portal.sms"):
        dispatch()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "网上调解申请已提交" in logged and "****-****-****" in logged
    assert code not in logged and portal.receipt_shown(code) not in logged and APPLICANT not in logged


@pytest.mark.django_db
def test_phones_and_texts_are_stored_encrypted_only(gateway: Path) -> None:
    case, code = portal_case()
    services.case_accept(case=case, actor=who("intake"), version=case.version)
    dispatch()
    told = [m.text for m in SmsMessage.objects.filter(case=case, party__role="applicant").order_by("id")]
    assert len(told) == 2 and portal.receipt_shown(code) in told[0] and code not in told[1]  # told once
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_index, text FROM outbox_smsmessage WHERE case_id = %s", [case.pk])
        rows = cursor.fetchall()
        cursor.execute("SELECT data FROM outbox_event WHERE case_id = %s", [case.pk])
        events = " ".join(str(r[0]) for r in cursor.fetchall())
        cursor.execute("SELECT code FROM outbox_smsreceipt WHERE case_id = %s", [case.pk])
        receipts = cursor.fetchall()
    assert len(rows) == 3  # received (the applicant), accepted (both)
    for row in rows:
        stored = " ".join(str(v) for v in row)
        assert APPLICANT not in stored and RESPONDENT not in stored
        assert code not in stored and portal.receipt_shown(code) not in stored
    assert APPLICANT not in events and code not in events
    assert receipts == []  # carried once, then dropped


@pytest.mark.django_db
def test_mongolian_where_the_gateway_accepts_it(gateway: Path, settings) -> None:  # type: ignore[no-untyped-def]
    case, _code = portal_case(language="mn")
    services.case_accept(case=case, actor=who("intake"), version=case.version)
    dispatch()
    assert "已受理" in inbox(gateway, APPLICANT)  # this gateway takes Chinese only
    settings.SMS_MONGOLIAN = True
    case, _code = portal_case(language="mn")
    services.case_accept(case=case, actor=who("intake"), version=case.version)
    dispatch()
    text = inbox(gateway, APPLICANT)
    assert case.number in text and "已受理" not in text and "ᠬᠦᠯᠢᠶᠡᠨ ᠠᠪᠤᠪᠠ" in text
    received = SmsMessage.objects.get(case=case, notice="received").text
    assert portal.receipt_shown(_code) in received and "ᠲᠠᠰᠤᠯᠪᠤᠷᠢ" in received and "回执码" not in received
    assert "已受理" in inbox(gateway, RESPONDENT)  # the other party has no such wish


@pytest.mark.django_db
def test_quiet_hours_defer_to_the_morning(gateway: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_QUIET_HOURS = (21, 8)
    case, _code = portal_case()
    services.case_accept(case=case, actor=who("intake"), version=case.version)
    night = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(23, 30)))
    if night < timezone.now():  # run after 23:30: the messages are due only from now on
        night += datetime.timedelta(days=1)
    assert dispatch(now=night) == {"sent": 0, "deferred": 3, "failed": 0, "opted_out": 0}
    message = SmsMessage.objects.filter(case=case).first()
    assert message is not None
    assert timezone.localtime(message.next_attempt_at) == night.replace(hour=8, minute=0) + datetime.timedelta(days=1)
    assert notices.send_due(now=message.next_attempt_at)["sent"] == 3


@pytest.mark.django_db
def test_one_phone_gets_at_most_so_many_an_hour_and_an_opt_out_gets_none(gateway: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_PER_PHONE_PER_HOUR = 1
    case, _code = portal_case()
    dispatch()
    # The receipt went out a while ago: this hour's one message is still to come.
    SmsMessage.objects.filter(case=case, notice="received").update(sent_at=timezone.now() - datetime.timedelta(hours=2))
    case = services.case_accept(case=case, actor=who("intake"), version=case.version)
    dispatch()
    sms_preference_set(phone=RESPONDENT, opt_out=True)
    case = services.case_assign(
        case=case, actor=who("director"), version=case.version, lead=Org.objects.get(code="152502-D05")
    )
    case = services.case_sign_for(case=case, actor=who("liaison"), version=case.version)
    room = Room.objects.get(center__code="ZZ-152502", kind="fast_track_court")
    start = timezone.now() + datetime.timedelta(days=2)
    services.room_book(
        case=case, actor=who("liaison"), room=room, starts_at=start, ends_at=start + datetime.timedelta(hours=1)
    )
    counts = dispatch()
    assert counts["deferred"] == 1 and counts["opted_out"] == 1 and counts["sent"] == 0
    session = SmsMessage.objects.get(case=case, notice="session", party__role="applicant")
    assert session.status == SmsMessage.Status.QUEUED and session.next_attempt_at > timezone.now()
    assert SmsMessage.objects.get(case=case, notice="session", party__role="respondent").status == "opted_out"
    assert notices.send_due(now=session.next_attempt_at)["sent"] == 1
    assert room.name in inbox(gateway, APPLICANT)


@contextmanager
def failing_gateway(failures: int) -> Iterator[list[dict[str, Any]]]:
    """An HTTP SMS gateway on loopback: answers 500 `failures` times, then accepts."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if len(got) <= failures else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    got.append({"url": f"http://127.0.0.1:{httpd.server_address[1]}/sms"})
    try:
        yield got
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.django_db
def test_a_failing_gateway_is_retried_with_backoff_then_given_up(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "http"
    settings.SMS_MAX_ATTEMPTS = 3
    with failing_gateway(failures=1) as got:
        settings.SMS_HTTP_URL = got.pop(0)["url"]
        case = register(title="短信重试测试")
        services.case_accept(case=case, actor=who("intake"), version=case.version)
        assert dispatch()["failed"] == 1
        message = SmsMessage.objects.get(case=case)
        assert message.status == "queued" and message.attempts == 1 and message.error
        assert notices.send_due(now=message.next_attempt_at)["sent"] == 1
        message.refresh_from_db()
        assert message.status == "sent" and message.attempts == 2
        assert [g["phone"] for g in got] == ["13804790001", "13804790001"]
    with failing_gateway(failures=99) as got:
        settings.SMS_HTTP_URL = got.pop(0)["url"]
        case = register(title="短信放弃测试")
        services.case_accept(case=case, actor=who("intake"), version=case.version)
        dispatch()
        for _attempt in range(3):
            message = SmsMessage.objects.get(case=case)
            notices.send_due(now=message.next_attempt_at)
        message.refresh_from_db()
        assert message.status == "dead" and message.attempts == 3


@pytest.mark.django_db
def test_instalments_due_and_overdue_are_told_once_each(gateway: Path) -> None:
    case = in_progress()
    today = timezone.localdate()
    due = today + datetime.timedelta(days=2)
    services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="冬季草场围栏越界约 30 米。",
        terms="被申请人分两期补偿申请人草料款 6000 元。",
        amount="6000",
        performance_method="分两期转账",
        performance_due=today + datetime.timedelta(days=40),
        signed_on=today,
        instalments=[
            InstalmentInput(due, Decimal("3000")),
            InstalmentInput(today + datetime.timedelta(days=40), Decimal("3000")),
        ],
    )
    dispatch()
    assert "调解协议" in inbox(gateway, "13804790001")
    instalment_events(today)
    instalment_events(today)  # a second tick tells nothing again
    dispatch()
    assert "3000.00 元应于 " + due.isoformat() in inbox(gateway, "13804790001")
    instalment_events(due + datetime.timedelta(days=1))
    dispatch()
    assert "已逾期" in inbox(gateway, "13804790001")
    kinds = list(SmsMessage.objects.filter(case=case).order_by("id").values_list("notice", flat=True))
    assert kinds == ["accepted", "agreement", "instalment_due", "instalment_overdue"]


@pytest.mark.django_db
def test_an_imported_ledger_sends_its_parties_nothing(gateway: Path, tmp_path: Path) -> None:
    from tests.messy_files import write_xlsx
    from tests.test_import_reimport import HEADERS, imported, ledger

    rows = [[*row, "13904790033"] for row in ledger({"T-SMS": ("达成调解协议", "2024-05-20")})]
    report = imported(write_xlsx(tmp_path / "sms.xlsx", [*HEADERS, "联系电话"], rows), who("director"))
    assert report.inserted == 2, report.problems
    case = Case.objects.get(original_number="T-SMS")
    assert any(p.phone == "13904790033" for p in case.parties.all())
    dispatch()
    assert not SmsMessage.objects.filter(case=case).exists()
    assert inbox(gateway, "13904790033") == ""
