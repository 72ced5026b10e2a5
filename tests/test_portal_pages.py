"""The public pages: what the one-stop process is, where the centers are, who is on duty today,
in Chinese or Mongolian as the visitor chose. No login."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from zongzhi.centers.models import Org

pytestmark = pytest.mark.django_db


def test_the_root_is_the_public_portal_and_staff_stay_under_staff() -> None:
    home = Client().get("/")
    assert home.status_code == 200
    page = home.content.decode()
    assert "矛盾纠纷一站式化解" in page and "锡林浩特市综治中心" in page
    assert 'href="/apply/"' in page and 'href="/track/"' in page
    assert Client().get("/staff/").status_code == 302  # staff still log in


def test_a_center_page_lists_hours_todays_agencies_and_brand_rooms_with_mediators() -> None:
    page = Client().get("/centers/ZZ-152502/").content.decode()
    assert "锡林浩特市综治中心" in page and "办公时间" in page
    brand = Org.objects.filter(kind="brand_room", region_code__startswith="152502").order_by("code").first()
    assert brand is not None and brand.name in page and brand.mediator_name in page
    today = timezone.localdate()
    if today.isoweekday() <= 5:
        assert "锡林浩特市人民调解委员会" in page.split('id="on-duty"')[1].split("</section>")[0]
    assert Client().get("/centers/ZZ-NOPE/").status_code == 404


def test_centers_list_groups_townships_under_their_county() -> None:
    page = Client().get("/centers/").content.decode()
    assert page.count('class="center-group"') == 1 + 13  # the league, its 12 banners and cities, 乌拉盖
    assert "苏木乡镇综治中心" in page


def test_the_language_switch_is_remembered_and_marks_mongolian_pages() -> None:
    client = Client()
    response = client.post("/language/", {"language": "mn", "next": "/centers/"})
    assert response.status_code == 302 and response["Location"] == "/centers/"
    cookie = response.cookies["django_language"]
    assert cookie.value == "mn" and int(cookie["max-age"]) >= 365 * 24 * 3600 - 1
    page = client.get("/").content.decode()
    assert '<html lang="mn-Mong"' in page and "ᠨᠡᠭᠡᠭᠡᠯᠲᠡᠢ ᠡᠳᠦᠷ" in page  # 开放日
    client.post("/language/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-Hans"' in client.get("/").content.decode()


def test_the_switch_refuses_to_send_visitors_elsewhere() -> None:
    response = Client().post("/language/", {"language": "mn", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_weekend_day_says_the_center_is_closed() -> None:
    from zongzhi.portal.selectors import center_public, center_today

    center = center_public("ZZ-152502")
    saturday = datetime.date(2026, 11, 28)
    duty = center_today(center, saturday)
    assert not duty.open_today and duty.on_duty == [] and duty.brand_rooms
