"""Logging in: password then TOTP, first-login enrolment, lockout and unlock, idle timeout.

Alice is a new Xilinhot intake clerk opened by the system administrator; Bob is the security
administrator (demo-secadmin) who unlocks her.
"""

import datetime
import re
import time

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import XILINHOT, totp_code, verified_client
from zongzhi.accounts import services
from zongzhi.accounts.middleware import LAST_SEEN
from zongzhi.accounts.models import Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.centers.models import Center
from zongzhi.regions.models import Region

PASSWORD = "Grassland-Mediation-77"


@pytest.fixture
def alice(db) -> User:  # type: ignore[no-untyped-def]
    user = services.user_create(actor=None, username="alice", full_name="阿丽莎", password=PASSWORD)
    services.membership_grant(
        actor=None, user=user, role=Role.INTAKE_CLERK, center=Center.objects.get(code="ZZ-152502"), cli=True
    )
    services.jurisdiction_grant(actor=None, user=user, region=Region.objects.get(code=XILINHOT))
    return user


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def password_step(client: Client, username: str = "alice", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/staff/login/", {"username": username, "password": password})


def answer(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The status and the error said on the login page (the rest differs only by the CSRF token)."""
    said = re.search(r'<div class="error" role="alert">(.*?)</div>', response.content.decode())
    return response.status_code, said.group(1) if said else ""


def actions(username: str) -> list[str]:
    return list(AuditEntry.objects.filter(target=username).order_by("id").values_list("action", flat=True))


def test_password_then_totp_logs_in_and_is_audited(alice: User) -> None:
    device = enrolled(alice)
    client = Client()
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == "/staff/login/totp/"
    # Between the two steps the session is not logged in.
    assert client.get("/staff/").status_code == 302
    response = client.post("/staff/login/totp/", {"token": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    home = client.get("/staff/")
    assert home.status_code == 200
    assert "阿丽莎" in home.content.decode()
    assert actions("alice")[-1] == AuditEntry.Action.LOGIN


def test_wrong_totp_is_refused_and_counted(alice: User) -> None:
    device = enrolled(alice)
    client = Client()
    password_step(client)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/staff/login/totp/", {"token": wrong})
    assert response.status_code == 200
    assert "动态口令错误" in response.content.decode()
    alice.refresh_from_db()
    assert alice.failed_logins == 1
    assert client.get("/staff/").status_code == 302


def test_right_code_straight_after_a_wrong_one_is_asked_to_wait_not_called_wrong(alice: User) -> None:
    """django-otp refuses every code for a second after a wrong one (2, 4 … after more): the page says
    how long to wait, the refusal is not a second failure, and the right code works once it is over."""
    device = enrolled(alice)
    client = Client()
    password_step(client)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    client.post("/staff/login/totp/", {"token": wrong})
    status, said = answer(client.post("/staff/login/totp/", {"token": totp_code(device)}))
    assert (status, said) == (200, "尝试过于频繁，请 1 秒后再输入动态口令。")
    alice.refresh_from_db()
    assert alice.failed_logins == 1
    time.sleep(1.1)
    response = client.post("/staff/login/totp/", {"token": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == "/staff/"


def test_first_login_enrols_totp_with_a_locally_drawn_qr_code(alice: User) -> None:
    client = Client()
    response = password_step(client)
    assert response["Location"] == "/staff/login/enrol/"
    page = client.get("/staff/login/enrol/").content.decode()
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert secret is not None
    response = client.post("/staff/login/enrol/", {"token": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.Action.TOTP_ENROLLED in actions("alice")


def test_five_failures_lock_for_fifteen_minutes_even_with_the_right_password(alice: User) -> None:
    enrolled(alice)
    client = Client()
    unknown = password_step(Client(), username="nobody-here", password="wrong-password-123")
    for _ in range(5):
        response = password_step(client, password="wrong-password-123")
        assert answer(response) == answer(unknown)
    alice.refresh_from_db()
    assert alice.locked_until is not None
    minutes = (alice.locked_until - timezone.now()).total_seconds() / 60
    assert 14.9 < minutes <= 15
    # The right password, still refused, and with the answer an unknown user gets: nothing tells
    # that the account exists or is locked.
    response = password_step(client)
    assert answer(response) == answer(unknown)
    assert "用户名或密码错误" in response.content.decode() and "/totp/" not in response.get("Location", "")
    assert actions("alice")[-7:] == ["login_failed"] * 5 + ["locked", "login_while_locked"]


def test_lock_expires_after_fifteen_minutes(alice: User) -> None:
    enrolled(alice)
    User.objects.filter(pk=alice.pk).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    response = password_step(Client())
    assert response.status_code == 302 and response["Location"] == "/staff/login/totp/"


def test_security_admin_unlocks(alice: User) -> None:
    enrolled(alice)
    User.objects.filter(pk=alice.pk).update(locked_until=timezone.now() + datetime.timedelta(minutes=10))
    bob = verified_client(User.objects.get(username="demo-secadmin"))
    page = bob.get("/staff/security/").content.decode()
    assert "alice" in page
    assert bob.post(f"/staff/security/unlock/{alice.pk}/").status_code == 302
    alice.refresh_from_db()
    assert alice.locked_until is None
    assert password_step(Client())["Location"] == "/staff/login/totp/"
    assert AuditEntry.Action.UNLOCKED in actions("alice")


def test_unknown_user_gets_the_same_message_and_is_audited(db) -> None:  # type: ignore[no-untyped-def]
    response = password_step(Client(), username="nobody-here", password="whatever-password")
    assert "用户名或密码错误" in response.content.decode()
    assert actions("nobody-here") == [AuditEntry.Action.LOGIN_FAILED]


def test_idle_thirty_minutes_ends_the_session(alice: User) -> None:
    enrolled(alice)
    client = verified_client(alice)
    assert client.get("/staff/").status_code == 200
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 29 * 60
    session.save()
    assert client.get("/staff/").status_code == 200  # 29 minutes: still in
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert client.get("/api/v1/me").status_code == 401
    assert AuditEntry.Action.IDLE_TIMEOUT in actions("alice")


def test_logout_ends_the_session(alice: User) -> None:
    enrolled(alice)
    client = verified_client(alice)
    assert client.post("/staff/logout/").status_code == 302
    assert client.get("/staff/").status_code == 302
    assert AuditEntry.Action.LOGOUT in actions("alice")


def test_stale_password_step_expires(alice: User) -> None:
    device = enrolled(alice)
    client = Client()
    password_step(client)
    session = client.session
    session["zongzhi_pending_at"] = time.time() - 6 * 60
    session.save()
    response = client.post("/staff/login/totp/", {"token": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == "/staff/login/"
