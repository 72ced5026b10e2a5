"""The system administrator opens accounts and sets rotas; the security administrator grants roles and jurisdictions.

Bad input is refused with a Chinese message naming the field, and nothing is half-saved.
"""

import datetime

import pytest
from django.test import Client

from tests.conftest import XILINHOT, verified_client
from zongzhi.accounts.models import Membership, User
from zongzhi.audit.models import AuditEntry
from zongzhi.centers.models import Center, Org, Presence
from zongzhi.centers.services import presence_set


@pytest.fixture
def sysadmin(db) -> Client:  # type: ignore[no-untyped-def]
    return verified_client(User.objects.get(username="demo-sysadmin"))


def test_duplicate_username_is_refused(sysadmin: Client) -> None:
    before = User.objects.count()
    response = sysadmin.post(
        "/staff/admin/users/new/",
        {"username": "DEMO-INTAKE", "full_name": "重名", "password": "Long-enough-password-1"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "用户名：" in page and "已被使用" in page
    assert User.objects.count() == before


@pytest.mark.parametrize(
    ("password", "message"),
    [("short-pw1", "太短"), ("123456789012345", "只包含数字"), ("password12345", "太常见")],
)
def test_weak_passwords_are_refused(sysadmin: Client, password: str, message: str) -> None:
    before = User.objects.count()
    response = sysadmin.post(
        "/staff/admin/users/new/", {"username": "newclerk", "full_name": "新人", "password": password}
    )
    page = response.content.decode()
    assert "初始密码：" in page and message in page, page[page.find("error") :][:300]
    assert User.objects.count() == before


@pytest.fixture
def secadmin(db) -> Client:  # type: ignore[no-untyped-def]
    return verified_client(User.objects.get(username="demo-secadmin"))


def test_open_an_account_grant_role_and_jurisdiction_then_they_see_it(sysadmin: Client, secadmin: Client) -> None:
    response = sysadmin.post(
        "/staff/admin/users/new/", {"username": "wang.clerk", "full_name": "王受理", "password": "Steppe-Window-2025"}
    )
    assert response.status_code == 302
    user = User.objects.get(username="wang.clerk")
    assert user.password_temporary_until is not None  # changed at the first login
    url = f"/staff/security/users/{user.pk}/"
    assert (
        secadmin.post(url, {"grant_role": "1", "role": "intake_clerk", "center_code": "ZZ-152502"}).status_code == 302
    )
    assert secadmin.post(url, {"grant_region": "1", "region_code": XILINHOT}).status_code == 302
    bad = secadmin.post(url, {"grant_role": "1", "role": "intake_clerk", "center_code": "ZZ-999"}).content.decode()
    assert "中心编码：" in bad and "不存在" in bad
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = verified_client(user)
    assert client.get(f"/staff/regions/{XILINHOT}/").status_code == 200
    assert client.get("/staff/regions/152531000000/").status_code == 404
    assert set(AuditEntry.objects.filter(target="wang.clerk").values_list("action", flat=True)) >= {
        "user_created",
        "role_granted",
        "jurisdiction_granted",
    }


def test_security_administrator_cannot_grant_administrator_roles(secadmin: Client) -> None:
    target = User.objects.get(username="demo-intake")
    response = secadmin.post(f"/staff/security/users/{target.pk}/", {"grant_role": "1", "role": "sec_admin"})
    assert response.status_code == 200
    assert "角色：" in response.content.decode()
    assert not Membership.objects.filter(user=target, role="sec_admin").exists()


@pytest.mark.parametrize(
    ("mode", "weekdays", "message"),
    [
        ("rotating", "0,3", "1（周一）到 7（周日）"),
        ("rotating", "8", "1（周一）到 7（周日）"),
        ("rotating", "", "至少要有一个"),
        ("rotating", "2,2", "重复"),
        ("resident", "1", "只有轮驻单位"),
        ("rotating", "一", "不是数字"),
    ],
)
def test_bad_rotas_are_refused(sysadmin: Client, mode: str, weekdays: str, message: str) -> None:
    presence = Presence.objects.get(org__code="152502-D08", center__code="ZZ-152502")
    before = (presence.mode, presence.weekdays)
    response = sysadmin.post(
        "/staff/centers/presences/new/",
        {"org_code": "152502-D08", "center_code": "ZZ-152502", "mode": mode, "weekdays": weekdays},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "轮驻日：" in page and message in page
    presence.refresh_from_db()
    assert (presence.mode, presence.weekdays) == before


def test_rota_decides_who_is_on_duty(sysadmin: Client, client_as) -> None:  # type: ignore[no-untyped-def]
    response = sysadmin.post(
        "/staff/centers/presences/new/",
        {"org_code": "152502-D08", "center_code": "ZZ-152502", "mode": "rotating", "weekdays": "1，3"},
    )
    assert response.status_code == 302
    presence = Presence.objects.get(org__code="152502-D08", center__code="ZZ-152502")
    assert presence.weekdays == [1, 3]
    monday = datetime.date(2026, 11, 23)
    assert presence.on_duty(monday) and not presence.on_duty(monday + datetime.timedelta(days=1))
    api = client_as("director").get("/api/v1/centers/ZZ-152502", {"day": "2026-11-24"}).json()
    by_org = {p["org"]: p for p in api["presences"]}
    assert by_org["152502-D08"]["on_duty_today"] is False
    assert by_org["152502-D01"]["on_duty_today"] is True  # resident, a Tuesday
    saturday = client_as("director").get("/api/v1/centers/ZZ-152502", {"day": "2026-11-28"}).json()
    assert not any(p["on_duty_today"] for p in saturday["presences"] if p["mode"] == "resident")


def test_presence_service_refuses_out_of_range_days(db) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        presence_set(
            actor=None,
            org=Org.objects.get(code="152502-D09"),
            center=Center.objects.get(code="ZZ-152502"),
            mode="rotating",
            weekdays=[5, 9],
        )
    assert "9" in error.value.message_dict["weekdays"][0]
