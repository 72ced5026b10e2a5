"""What people type is checked before the database sees it, by every service, on both databases.

PostgreSQL refuses a string longer than its column and any NUL byte with a server error where
SQLite stores them; here each service refuses them in Chinese, naming the field, and writes
nothing. Datetimes without a zone are Asia/Shanghai time. Room bookings cannot overlap even when
the services are bypassed: the database itself refuses. (Through the live server: test_input_http.py.)
"""

import datetime
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from tests.conftest import verified_client
from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import register, who
from zongzhi.accounts import services as account_services
from zongzhi.accounts.models import User
from zongzhi.cases import config, services
from zongzhi.cases.models import Assignment, Case, MediationSession, RoomBooking
from zongzhi.centers.models import Center, Room
from zongzhi.field import services as field_services
from zongzhi.field.models import FieldItem, Visit
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import GridWorker, Household
from zongzhi.identity import make_resident_id
from zongzhi.meetings import services as meeting_services
from zongzhi.meetings.models import DispatchMeeting
from zongzhi.portal import openday
from zongzhi.regions import services as region_services
from zongzhi.regions.models import Region

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def refusal(call: Callable[[], Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


@pytest.fixture
def gao(db) -> User:  # type: ignore[no-untyped-def]
    return who("gridworker")


@pytest.fixture
def grid(gao: User) -> Region:
    return GridWorker.objects.get(user=gao).grid


def _household(gao: User, grid: Region, **kw: Any) -> Household:
    assert grid.parent is not None
    return grid_services.household_register(actor=gao, village=grid.parent, grid=grid, **kw)


def test_intake_names_every_over_long_field_and_writes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    before = Case.objects.count()
    errors = refusal(
        lambda: register(
            title="长" * 300,
            location="路" * 201,
            risk_override_reason="因" * 250,
            parties=[
                services.PartyInput(kind="person", role="applicant", name="名" * 200),
                services.PartyInput(kind="person", role="respondent", name="其其格", address="址" * 300),
            ],
        )
    )
    assert errors == {
        "title": ["事由最多 100 个字（现为 300 个）。"],
        "location": ["具体地点最多 200 个字（现为 201 个）。"],
        "risk_override_reason": ["调整风险等级的理由最多 200 个字（现为 250 个）。"],
        "parties.0.name": ["第 1 位当事人：姓名/名称最多 100 个字（现为 200 个）。"],
        "parties.1.address": ["第 2 位当事人：住址最多 200 个字（现为 300 个）。"],
    }
    assert Case.objects.count() == before
    # At the limit it fits, on PostgreSQL as on SQLite.
    case = register(title="长" * 100, location="路" * 200)
    assert Case.objects.get(pk=case.pk).title == "长" * 100


def test_nul_bytes_are_refused_by_the_services_naming_the_field(gao: User, grid: Region) -> None:
    assert refusal(lambda: register(description="草场\x00纠纷")) == {
        "description": ["纠纷情况含有不允许的空字符（NUL），请删除后重试。"]
    }
    case = register()
    assert refusal(
        lambda: services.case_act(
            case=case, action="reject", actor=who("intake"), version=case.version, reason="不\x00"
        )
    ) == {"reason": ["理由含有不允许的空字符（NUL），请删除后重试。"]}
    assert Case.objects.get(pk=case.pk).state == "registered"
    assert list(refusal(lambda: _household(gao, grid, address="团结路\x00"))) == ["address"]
    household = _household(gao, grid, address="团结路 5 号")
    assert list(
        refusal(
            lambda: grid_services.resident_add(
                actor=gao,
                household=household,
                name="巴\x00特尔",
                relation="head",
                ethnicity="蒙古族",
                language="mn",
                id_number=make_resident_id("152502", datetime.date(1980, 1, 2), 501),
            )
        )
    ) == ["name"]
    assert not household.residents.exists()


def test_the_other_services_refuse_over_long_text_instead_of_a_server_error(gao: User, grid: Region) -> None:
    director = who("director")
    case = in_progress()
    assert refusal(
        lambda: services.case_return(case=case, actor=who("liaison"), version=case.version, reason="退" * 301)
    ) == {"reason": ["退回理由最多 300 个字（现为 301 个）。"]}
    assert Assignment.objects.filter(case=case, status="signed").exists()
    assert refusal(
        lambda: services.session_record(
            case=case,
            actor=who("liaison"),
            held_at=timezone.now(),
            place_kind="on_site",
            place="地" * 201,
            mediators="张调解",
            record="记录",
        )
    ) == {"place": ["地点最多 200 个字（现为 201 个）。"]}
    assert refusal(lambda: _household(gao, grid, address="址" * 300)) == {
        "address": ["住址最多 200 个字（现为 300 个）。"]
    }
    assert refusal(lambda: _household(gao, grid, code="H" * 31)) == {"code": ["户编号最多 30 个字（现为 31 个）。"]}
    visit = Visit.objects.create(
        worker=GridWorker.objects.get(user=gao),
        household=_household(gao, grid),
        grid=grid,
        region_code=grid.code,
        visited_at=timezone.now(),
        notes="走访",
        recorded_by=gao,
        recorded_at=timezone.now(),
    )
    # This one used to be cut to 100 characters without a word.
    assert refusal(
        lambda: field_services.field_item_raise(visit=visit, actor=gao, kind="safety", title="隐" * 150)
    ) == {"title": ["事项最多 100 个字（现为 150 个）。"]}
    assert not FieldItem.objects.filter(visit=visit).exists()
    assert refusal(
        lambda: account_services.user_create(actor=None, username="long-name", full_name="名" * 51, password=None)
    ) == {"full_name": ["姓名最多 50 个字（现为 51 个）。"]}
    township = Region.objects.get(code=grid.code[:9] + "000")
    assert refusal(
        lambda: region_services.region_create(
            actor=director, code=grid.code[:9] + "999", level="village", parent=township, name="嘎" * 101
        )
    ) == {"name": ["名称最多 100 个字（现为 101 个）。"]}
    assert refusal(lambda: config.category_save(actor=director, code="long", name="类" * 51)) == {
        "name": ["名称最多 50 个字（现为 51 个）。"]
    }
    assert list(
        refusal(
            lambda: meeting_services.meeting_open(
                actor=director,
                region=Region.objects.get(code="152502000000"),
                held_on=timezone.localdate(),
                attendees="\x00",
            )
        )
    ) == ["attendees"]
    assert not DispatchMeeting.objects.filter(region__code="152502000000", held_on=timezone.localdate()).exists()
    open_day = openday.open_day_schedule(
        center=Center.objects.get(code="ZZ-152502"),
        day=timezone.localdate() + datetime.timedelta(days=7),
        starts=datetime.time(9),
        ends=datetime.time(11),
        capacity=10,
    )
    assert refusal(
        lambda: openday.open_day_book(open_day=open_day, name="乌" * 51, phone="13704790021", people=1, ip="10.0.0.1")
    ) == {"name": ["姓名最多 50 个字（现为 51 个）。"]}
    assert not open_day.bookings.exists()


def test_naive_datetimes_are_shanghai_time_in_the_services(db) -> None:  # type: ignore[no-untyped-def]
    case = in_progress()
    room = Room.objects.get(center__code="ZZ-152502", kind="fast_track_court")
    local = (timezone.localtime() + datetime.timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
    naive = local.replace(tzinfo=None)
    booking = services.room_book(
        case=case, actor=who("liaison"), room=room, starts_at=naive, ends_at=naive + datetime.timedelta(hours=2)
    )
    assert RoomBooking.objects.get(pk=booking.pk).starts_at == naive.replace(tzinfo=SHANGHAI)
    assert RoomBooking.objects.get(pk=booking.pk).starts_at.astimezone(datetime.UTC).hour == 1
    held = (timezone.localtime() - datetime.timedelta(hours=3)).replace(second=0, microsecond=0, tzinfo=None)
    session = services.session_record(
        case=case, actor=who("liaison"), held_at=held, place_kind="room", room=room, mediators="张调解", record="调解"
    )
    assert MediationSession.objects.get(pk=session.pk).held_at == held.replace(tzinfo=SHANGHAI)
    assert list(
        refusal(
            lambda: services.room_book(
                case=case,
                actor=who("liaison"),
                room=room,
                starts_at=datetime.datetime(9999, 12, 31, 22),
                ends_at=datetime.datetime(9999, 12, 31, 23),
            )
        )
    ) == ["starts_at"]


def test_the_database_itself_refuses_overlapping_bookings(db) -> None:  # type: ignore[no-untyped-def]
    case = in_progress()
    room = Room.objects.get(center__code="ZZ-152502", kind="fast_track_court")
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=9)
    hour = datetime.timedelta(hours=1)

    def book(starts_at: datetime.datetime, ends_at: datetime.datetime, where: Room = room) -> RoomBooking:
        # Past the service on purpose: what the constraint (or trigger) holds on its own.
        return RoomBooking.objects.create(
            room=where,
            case=case,
            region_code=case.region_code,
            starts_at=starts_at,
            ends_at=ends_at,
            booked_by=who("liaison"),
        )

    first = book(start, start + 2 * hour)
    for clash in [(start + hour, start + 3 * hour), (start - hour, start + hour), (start, start + 2 * hour)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            book(*clash)
    book(start + 2 * hour, start + 3 * hour)  # back to back is no overlap
    book(start, start + 2 * hour, Room.objects.exclude(pk=room.pk).filter(center__code="ZZ-152502").first())  # type: ignore[arg-type]
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomBooking.objects.filter(pk=first.pk).update(ends_at=start + 3 * hour)  # moving one onto another
    assert RoomBooking.objects.filter(room=room).filter(starts_at__gte=start - hour).count() == 2


def test_a_household_code_in_use_is_a_clear_refusal(gao: User, grid: Region) -> None:
    taken = _household(gao, grid)
    assert taken.code.startswith(f"H{grid.code}") and len(taken.code) == 20
    assert refusal(lambda: _household(gao, grid, code=taken.code)) == {"code": [f"户编号“{taken.code}”已被使用。"]}
    # A household registered by hand with the next number does not make the next one collide.
    Household.objects.create(
        code=f"H{grid.code}{int(taken.code[-4:]) + 1:04d}", village=taken.village, grid=grid, region_code=grid.code
    )
    assert int(_household(gao, grid).code[-4:]) == int(taken.code[-4:]) + 2


def test_nul_bytes_in_requests_are_refused_before_any_query(client_as: Callable[[str], Client]) -> None:
    clerk = client_as("intake")
    answer = clerk.post(
        "/api/v1/cases", {"parties": [{"name": "ok"}, {"name": "a\x00"}]}, content_type="application/json"
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == {
        "parties.1.name": ["参数“parties.1.name”含有不允许的空字符（NUL），请删除后重试。"]
    }
    page = clerk.post("/staff/cases/new/", {"title": "x", "region": "1525\x00"})
    assert page.status_code == 422 and "参数“region”含有不允许的空字符" in page.content.decode()
    login = Client().post("/staff/login/", {"username": "demo-intake\x00", "password": "x"})
    assert login.status_code == 422 and "参数“username”含有不允许的空字符" in login.content.decode()
    # A cookie with one is no session at all: the visitor is sent to log in, not given a 500.
    stranger = Client(raise_request_exception=False)
    assert stranger.get("/staff/", HTTP_COOKIE="sessionid=abcdefgh\x00ijklmnop").status_code == 302
    assert stranger.get("/api/v1/cases", HTTP_COOKIE="sessionid=abcdefgh\x00ijklmnop").status_code == 401


def test_a_nul_byte_in_a_password_or_name_is_a_failed_login_not_a_lookup(db, rf) -> None:  # type: ignore[no-untyped-def]
    request = rf.post("/staff/login/")
    request.session = {}
    result = account_services.login_check_password(username="demo-intake\x00", password="x", request=request)
    assert result.user is None and result.error.startswith("用户名或密码错误。")


def test_the_visit_form_reads_its_datetime_local_input_as_shanghai_time(gao: User, grid: Region) -> None:
    client = verified_client(gao)
    home = _household(gao, grid, address="团结路 9 号")
    when = (timezone.localtime() - datetime.timedelta(hours=1)).replace(second=0, microsecond=0, tzinfo=None)
    fields = {"household": home.code, "kind": "visit", "notes": "入户走访。", "lat": "", "lng": ""}
    impossible = client.post("/staff/field/visits/new/", {**fields, "visited_at": "2026-02-30T10:00"})
    assert impossible.status_code == 422  # the form again, with the message
    assert "时间“2026-02-30T10:00”无效，应为 YYYY-MM-DD HH:MM。" in impossible.content.decode()
    assert not Visit.objects.filter(household=home).exists()
    done = client.post("/staff/field/visits/new/", {**fields, "visited_at": f"{when:%Y-%m-%dT%H:%M}"})
    assert done.status_code == 302
    assert Visit.objects.get(household=home).visited_at == when.replace(tzinfo=SHANGHAI)
