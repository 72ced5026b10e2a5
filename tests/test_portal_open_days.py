"""Open days (开放日): a center lists days, visitors with a confirmed phone book places up to the
capacity and get a confirmation code."""

import datetime
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from tests.portal_steps import verify_phone
from zongzhi.centers.models import Center
from zongzhi.portal.models import OpenDay, OpenDayBooking

pytestmark = pytest.mark.django_db


def schedule(days_ahead: int = 7, capacity: int = 5) -> OpenDay:
    day = timezone.localdate() + datetime.timedelta(days=days_ahead)
    call_command("open_day_add", "ZZ-152502", day.isoformat(), "--capacity", str(capacity))
    return OpenDay.objects.get(center__code="ZZ-152502", day=day)


def book(client: Client, open_day: OpenDay, people: int, name: str = "乌兰") -> str:
    return client.post(f"/open-days/{open_day.pk}/book/", {"name": name, "people": people}).content.decode()


def test_listed_days_show_places_left_and_booking_needs_a_confirmed_phone() -> None:
    open_day = schedule()
    page = Client().get("/open-days/").content.decode()
    assert "锡林浩特市综治中心" in page and "余 5 个名额" in page and "验证手机号后预约" in page
    assert "请先验证手机号。" in book(Client(), open_day, 1)
    assert Client().get("/centers/ZZ-152502/").content.decode().count("余 5 个名额") == 1


def test_booking_gives_a_confirmation_code_and_takes_the_places(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    open_day = schedule(capacity=5)
    visitor = Client()
    verify_phone(visitor, "13504790010", django_capture_on_commit_callbacks)
    page = book(visitor, open_day, 3)
    assert "预约成功" in page
    code = re.search(r'id="confirmation-code"[^>]*>([^<]+)<', page)
    assert code and OpenDayBooking.objects.get().code == code.group(1)
    assert "余 2 个名额" in visitor.get("/open-days/").content.decode()
    assert "这个手机号已经预约了这一天。" in book(visitor, open_day, 1)
    open_day.refresh_from_db()
    assert open_day.booked == 3


def test_a_full_day_refuses_more_than_its_places(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    open_day = schedule(capacity=4)
    first, second = Client(), Client()
    verify_phone(first, "13504790011", django_capture_on_commit_callbacks)
    verify_phone(second, "13504790012", django_capture_on_commit_callbacks)
    assert "预约成功" in book(first, open_day, 3)
    assert "名额不足：这一天只剩 1 个名额。" in book(second, open_day, 2)
    assert "预约成功" in book(second, open_day, 1)
    assert "已约满" in second.get("/open-days/").content.decode()
    assert "每次预约 1 到 10 人。" in book(second, open_day, 11)
    open_day.refresh_from_db()
    assert (open_day.booked, open_day.capacity) == (4, 4)


def test_days_are_listed_only_ahead_and_once_per_center() -> None:
    schedule(days_ahead=3)
    with pytest.raises(CommandError, match="该中心这一天已经是开放日"):
        schedule(days_ahead=3)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(CommandError, match="开放日不能早于今天"):
        call_command("open_day_add", "ZZ-152502", yesterday.isoformat())
    with pytest.raises(CommandError, match="不存在"):
        call_command("open_day_add", "ZZ-NOPE", "2030-01-01")


def test_directors_list_open_days_on_the_staff_page_and_see_bookings_masked(  # type: ignore[no-untyped-def]
    client_as, django_capture_on_commit_callbacks
) -> None:
    director = client_as("director")
    day = timezone.localdate() + datetime.timedelta(days=12)
    form = {"center": "ZZ-152502", "day": day.isoformat(), "starts": "09:30", "ends": "11:00", "capacity": "8"}
    response = director.post("/staff/open-days/", {**form, "ends": "09:00"}, follow=True)
    assert "结束时间应晚于开始时间。" in response.content.decode()
    response = director.post("/staff/open-days/", {**form, "capacity": "八"}, follow=True)
    assert "名额应为整数" in response.content.decode()
    assert not OpenDay.objects.filter(day=day).exists()
    director.post("/staff/open-days/", form)
    open_day = OpenDay.objects.get(center__code="ZZ-152502", day=day)
    assert (open_day.starts, open_day.capacity) == (datetime.time(9, 30), 8)
    assert "余 8 个名额" in Client().get("/open-days/").content.decode()

    visitor = Client()
    verify_phone(visitor, "13504790077", django_capture_on_commit_callbacks)
    book(visitor, open_day, 2, name="其木格")
    page = director.get(f"/staff/open-days/{open_day.pk}/").content.decode()
    assert "其木格" in page and "135****0077" in page and "13504790077" not in page

    # A center outside the jurisdiction: not offered, not reachable; a leader may look but not list days.
    other = OpenDay.objects.create(
        center=Center.objects.get(code="ZZ-152531"),
        day=day,
        starts=datetime.time(9),
        ends=datetime.time(11),
        capacity=5,
    )
    assert director.get(f"/staff/open-days/{other.pk}/").status_code == 404
    director.post(
        "/staff/open-days/", {**form, "center": "ZZ-152531", "day": (day + datetime.timedelta(days=1)).isoformat()}
    )
    assert not OpenDay.objects.filter(center__code="ZZ-152531", day=day + datetime.timedelta(days=1)).exists()
    leader = client_as("leader")
    assert 'id="open-day-new"' not in leader.get("/staff/open-days/").content.decode()
