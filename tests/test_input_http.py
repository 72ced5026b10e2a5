"""Bad input through a real HTTP client against the live server: never a server error.

Over-long texts, NUL bytes and datetimes without a zone, in API bodies, query strings and page
forms. Each is a 422 (or the form again) naming the field in Chinese, and nothing is written;
a naive datetime is Asia/Shanghai time. These tests hold no transaction (the server writes), so
what they set up through the services stays committed, like the browser tests'.
"""

import datetime
import urllib.parse
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browsing import Http
from tests.test_case_api import body
from tests.test_case_handling import in_progress
from zongzhi.cases.models import Case, MediationSession, RoomBooking
from zongzhi.centers.models import Room

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The ORM on the committed data the server sees (no test transaction around it)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def clerk(server: dict[str, str]) -> Http:
    return Http(server, "demo-intake")


def refused(answer: Any) -> dict[str, list[str]]:
    assert answer.status == 422, (answer.status, answer.text[:500])
    return answer.json()["errors"]


def test_over_long_texts_in_the_api_are_refused_naming_each_field(clerk: Http, committed: None) -> None:
    payload = body(title="长" * 300, location="路" * 300, description="超长字段测试：" + "情况" * 20)
    payload["parties"][0]["name"] = "名" * 200
    payload["parties"][1]["address"] = "址" * 300
    errors = refused(clerk.post_json("/api/v1/cases", payload))
    assert errors == {
        "title": ["事由最多 100 个字（现为 300 个）。"],
        "location": ["具体地点最多 200 个字（现为 300 个）。"],
        "parties.0.name": ["第 1 位当事人：姓名/名称最多 100 个字（现为 200 个）。"],
        "parties.1.address": ["第 2 位当事人：住址最多 200 个字（现为 300 个）。"],
    }
    assert not Case.objects.filter(description__startswith="超长字段测试").exists()


def test_nul_bytes_are_refused_naming_the_parameter(clerk: Http, committed: None) -> None:
    payload = body(description="含有空字符的纠纷\x00情况说明")
    answer = clerk.post_json("/api/v1/cases", payload)
    assert refused(answer) == {"description": ["参数“description”含有不允许的空字符（NUL），请删除后重试。"]}
    assert answer.json()["detail"] == "参数“description”含有不允许的空字符（NUL），请删除后重试。"
    payload = body()
    payload["parties"][1]["name"] = "某\x00合作社"
    assert list(refused(clerk.post_json("/api/v1/cases", payload))) == ["parties.1.name"]
    assert not Case.objects.filter(description__startswith="含有空字符的纠纷").exists()
    assert list(refused(clerk.get("/api/v1/cases?q=%00"))) == ["q"]
    assert list(refused(clerk.get("/api/v1/cases/1525%00"))) == ["网址"]
    # The pages: the same refusal as a page, before any query runs.
    page = clerk.get("/staff/cases/?q=%E5%B7%B4%00")
    assert page.status == 422 and "参数“q”含有不允许的空字符" in page.text and "<h1>无法处理</h1>" in page.text
    form = clerk.form("/staff/cases/new/", {"title": "空字符\x00", "description": "x", "region": "152502001001"})
    assert form.status == 422 and "参数“title”含有不允许的空字符" in form.text


def test_over_long_title_on_the_intake_page_is_shown_and_nothing_is_written(clerk: Http, committed: None) -> None:
    answer = clerk.form(
        "/staff/cases/new/",
        {
            "category": "neighbour",
            "region": "152502001001",
            "title": "长" * 300,
            "description": "页面超长测试：邻里之间因排水沟发生争执。",
            "location": "路" * 250,
            "party0_name": "名" * 200,
            "party0_role": "applicant",
            "party0_kind": "person",
        },
    )
    assert answer.status == 422
    assert "事由最多 100 个字（现为 300 个）。" in answer.text
    assert "具体地点最多 200 个字（现为 250 个）。" in answer.text
    assert "第 1 位当事人：姓名/名称最多 100 个字（现为 200 个）。" in answer.text
    assert not Case.objects.filter(description__startswith="页面超长测试").exists()


def _slot(room: Room, days: int) -> datetime.datetime:
    """A free hour `days` from now, naive Shanghai time, as an API caller would write it."""
    start = datetime.datetime.now(SHANGHAI).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    start += datetime.timedelta(days=days)
    while RoomBooking.objects.filter(room=room, starts_at__lt=(start + HOUR).replace(tzinfo=SHANGHAI)).filter(
        ends_at__gt=start.replace(tzinfo=SHANGHAI)
    ):
        start += HOUR
    return start


def test_naive_datetimes_in_bookings_and_sessions_are_shanghai_time(server: dict[str, str], committed: None) -> None:
    case = in_progress()
    room = Room.objects.filter(center__code="ZZ-152502", kind="mediation").order_by("pk").last()
    assert room is not None
    liaison = Http(server, "demo-liaison")
    booking = f"/api/v1/cases/{case.number}/actions/booking"
    start = _slot(room, 3)
    slot = {"room": room.pk, "starts_at": start.isoformat(), "ends_at": (start + HOUR).isoformat()}
    answer = liaison.post_json(booking, slot)
    assert answer.status == 200, answer.text
    assert RoomBooking.objects.get(pk=answer.json()["result"]["id"]).starts_at == start.replace(tzinfo=SHANGHAI)
    # The same slot again: the clash, naming the room and the slot, not a server error.
    errors = refused(liaison.post_json(booking, slot))
    assert errors == {"starts_at": [f"{room.name} 在 {start:%m-%d %H:%M}–{start + HOUR:%H:%M} 已被预约。"]}
    # Year 1 cannot even be shifted to UTC: a 422 saying so.
    far = {**slot, "starts_at": "0001-01-01T08:00:00", "ends_at": "0001-01-01T09:00:00"}
    assert list(refused(liaison.post_json(booking, far))) == ["starts_at"]
    assert RoomBooking.objects.filter(case=case).count() == 1

    sessions = f"/api/v1/cases/{case.number}/actions/session"
    held = datetime.datetime.now(SHANGHAI).replace(second=0, microsecond=0, tzinfo=None) - 2 * HOUR
    session = {
        "held_at": held.isoformat(),
        "place_kind": "on_site",
        "place": "嘎查活动室",
        "mediators": "张调解",
        "record": "双方同意协商。",
    }
    answer = liaison.post_json(sessions, session)
    assert answer.status == 200, answer.text
    assert MediationSession.objects.get(pk=answer.json()["result"]["id"]).held_at == held.replace(tzinfo=SHANGHAI)
    long_session = {**session, "mediators": "调" * 201, "attendees": "人" * 301}
    # The catalogue's schema refuses these first (ninja does not hand back the value, so no count).
    assert refused(liaison.post_json(sessions, long_session)) == {
        "mediators": ["调解员最多 200 个字。"],
        "attendees": ["参加人员最多 300 个字。"],
    }
    assert MediationSession.objects.filter(case=case).count() == 1


def test_the_case_page_booking_form_takes_its_datetime_local_inputs(server: dict[str, str], committed: None) -> None:
    case = in_progress()
    room = Room.objects.filter(center__code="ZZ-152502", kind="mediation").order_by("pk").last()
    assert room is not None
    liaison = Http(server, "demo-liaison")
    start = _slot(room, 4)
    fields = {"room": str(room.pk), "starts_at": f"{start:%Y-%m-%dT%H:%M}", "ends_at": f"{start + HOUR:%Y-%m-%dT%H:%M}"}
    answer = liaison.form(f"/staff/cases/{case.number}/do/booking/", fields)
    assert answer.status == 302, answer.text[:500]
    assert RoomBooking.objects.get(case=case).starts_at == start.replace(tzinfo=SHANGHAI)
    # The same slot from the page: the case page again, the clash under the field.
    again = liaison.form(f"/staff/cases/{case.number}/do/booking/", fields)
    assert again.status == 422 and f"{room.name} 在 {start:%m-%d %H:%M}" in again.text
    impossible = liaison.form(f"/staff/cases/{case.number}/do/booking/", {**fields, "starts_at": "2026-02-30T10:00"})
    assert impossible.status == 422 and "开始格式应为 YYYY-MM-DD HH:MM" in impossible.text
    assert RoomBooking.objects.filter(case=case).count() == 1


def test_a_nul_byte_in_a_query_of_the_portal_is_refused_too(server: dict[str, str]) -> None:
    answer = Http(server, None).get("/track/?receipt=" + urllib.parse.quote("AB\x00"))
    assert answer.status == 422 and "参数“receipt”含有不允许的空字符" in answer.text
