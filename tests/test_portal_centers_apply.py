"""What a citizen reads before applying: each center's full postal address and duty phone, the
township list of the county chosen only (the server narrows it, no script needed), and which
fields must be filled (an asterisk and aria-required, as the legend says)."""

import re
from typing import Any

import pytest
from django.test import Client

from tests.portal_steps import APPLICATION, verify_phone
from zongzhi.centers.models import Center
from zongzhi.portal.models import Application
from zongzhi.regions.models import Region

pytestmark = pytest.mark.django_db
PHONE = "13904790071"
XILINHOT, DUOLUN = "152502000000", "152531000000"


def township_options(page: str) -> list[tuple[str, str]]:
    select = page.split('id="id_township"', 1)[1].split("</select>", 1)[0]
    return [(v, n) for v, n in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', select)]


def test_every_center_has_its_full_address_and_duty_phone_on_the_portal() -> None:
    assert not Center.objects.filter(address="").exists() and not Center.objects.filter(phone="").exists()
    xilinhot = Center.objects.get(code="ZZ-152502")
    assert xilinhot.address.startswith("内蒙古自治区锡林郭勒盟锡林浩特市") and xilinhot.address.endswith("号")
    assert len(xilinhot.address) > len("内蒙古自治区锡林郭勒盟锡林浩特市") + 4  # down to the street and number
    assert re.fullmatch(r"0479-\d{7}", xilinhot.phone)
    page = Client().get("/centers/ZZ-152502/").content.decode()
    assert xilinhot.address in page and f'href="tel:{xilinhot.phone}"' in page
    listing = Client().get("/centers/").content.decode()
    township = Center.objects.filter(level="township", region_code__startswith="152531").order_by("code").first()
    assert township is not None
    assert xilinhot.address in listing and township.address in listing and township.phone in listing


def test_the_townships_offered_are_those_of_the_county_chosen(django_capture_on_commit_callbacks: Any) -> None:
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    assert township_options(citizen.get("/apply/").content.decode()) == []
    page = citizen.post("/apply/", {**APPLICATION, "county": DUOLUN, "township": "", "step": "county"}).content.decode()
    offered = township_options(page)
    duolun = Region.objects.filter(level="township", parent__code=DUOLUN)
    assert [code for code, _name in offered] == sorted(duolun.values_list("code", flat=True))
    assert 'class="error"' not in page and not Application.objects.exists()  # listing is not submitting
    assert APPLICATION["description"] in page and f'value="{APPLICATION["applicant_name"]}"' in page

    all_townships = Region.objects.filter(level="township").count()
    xilinhot = township_options(citizen.post("/apply/", {**APPLICATION, "step": "county"}).content.decode())
    assert 0 < len(xilinhot) < all_townships
    assert len({name for _code, name in xilinhot}) == len(xilinhot)
    assert all(code.startswith(XILINHOT[:6]) for code, _name in xilinhot)

    # One of another county (a hand-made request) is refused by name, and nothing is written.
    page = citizen.post("/apply/", {**APPLICATION, "township": offered[0][0]}).content.decode()
    assert "所选苏木乡镇不属于所选旗县市区。" in page and not Application.objects.exists()
    response = citizen.post("/apply/", {**APPLICATION, "township": xilinhot[0][0]})
    assert response.status_code == 302
    assert Application.objects.get().case.region_code == xilinhot[0][0]


def test_required_fields_are_marked_as_the_legend_says(django_capture_on_commit_callbacks: Any) -> None:
    citizen = Client()
    verify_phone(citizen, PHONE, django_capture_on_commit_callbacks)
    page = citizen.get("/apply/").content.decode()
    assert "带 * 的必须填写" in page
    for name in ("category", "description", "applicant_name", "other_party", "county", "place"):
        label = re.search(rf'<label for="id_{name}">(.*?)</label>', page)
        assert label and '<span class="required" aria-hidden="true"> *</span>' in label.group(1), name
        widget = re.search(rf'<(?:input|select|textarea)[^>]*id="id_{name}"[^>]*>', page)
        assert widget and 'aria-required="true"' in widget.group(0) and "required" in widget.group(0), name
    township = re.search(r'<label for="id_township">(.*?)</label>', page)
    assert township and "required" not in township.group(1)


def test_the_request_log_hides_a_receipt_code_in_the_address() -> None:
    from zongzhi.requestlog import logged_path

    assert logged_path("/track/4AZXXGHTBSJU/") == "/track/…/"
    assert logged_path("/track/act/") == "/track/act/" and logged_path("/track/agreement/") == "/track/agreement/"
    assert logged_path("/centers/ZZ-152502/") == "/centers/ZZ-152502/"
