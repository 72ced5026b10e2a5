"""三员分立 held by the code, through a real HTTP client (session + CSRF) against the live server.

The system administrator (demo-sysadmin) runs accounts, the security administrator (demo-secadmin)
grants rights, the audit administrator (demo-auditor) reads the audit. Each attempt the outside
sweep found is refused (403 with the reason in Chinese) and is an entry the auditor reads:
the system administrator granting itself a leader's role and the league, taking over the auditor
by setting its password or resetting its second factor; an administrator changing their own rights
or credentials; an administrator account given a business role or a jurisdiction. A credential
reset needs a second administrator, before it expires, and ends with the target's own password.

These tests hold no transaction (the server writes): the accounts they change are made for them
(`fresh`), the demo administrators are only refused, so they stay as the seed made them.
"""

import datetime
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import DEMO_PASSWORD, totp_code
from tests.http_client import HttpClient, Response, logged_in
from zongzhi.accounts import services
from zongzhi.accounts.models import CredentialReset, Jurisdiction, Membership, Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.centers.models import Center
from zongzhi.regions.models import Region

LEAGUE = "152500000000"
NEW_PASSWORD = "Steppe-Own-Choice-2026"


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The ORM on the committed data the server sees (no test transaction around it)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def base(server: dict[str, str], committed: None) -> str:
    return server["url"]


def fresh(role: str, **where: Any) -> User:
    """A new account holding `role`, with the demo password and an enrolled second factor."""
    user = services.user_create(
        actor=None, username=f"t-{role}-{uuid.uuid4().hex[:6]}", full_name="测试", password=DEMO_PASSWORD
    )
    services.membership_grant(actor=None, user=user, role=role, cli=True, **where)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def mark() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def refusals(since: int, actor: str) -> list[dict[str, Any]]:
    """The refused administrator actions `actor` attempted since `since`, oldest first."""
    entries = AuditEntry.objects.filter(id__gt=since, actor_name=actor, action=AuditEntry.Action.ADMIN_REFUSED)
    return [{"target": e.target, **e.detail} for e in entries.order_by("id")]


def refused(answer: Response, reason: str) -> None:
    assert answer.status == 403, (answer.status, answer.text[:300])
    assert reason in answer.text, answer.text[:800]


def who(username: str) -> User:
    return User.objects.get(username=username)


def test_the_system_administrator_cannot_give_itself_business_access(base: str) -> None:
    sysadmin = logged_in(base, "demo-sysadmin")
    me = who("demo-sysadmin")
    since = mark()
    page = f"/staff/admin/users/{me.pk}/"
    refused(sysadmin.post_form(page, {"grant_role": "1", "role": "leader"}), "只有安全管理员可以授予或撤销角色和辖区")
    refused(sysadmin.post_form(page, {"grant_region": "1", "region_code": LEAGUE}), "只有安全管理员")
    # The security administrator's page is not the system administrator's at all.
    rights = sysadmin.post_form(f"/staff/security/users/{me.pk}/", {"grant_role": "1", "role": "leader"})
    assert rights.status == 403
    assert not Membership.objects.filter(user=me, role=Role.LEADER).exists()
    assert not Jurisdiction.objects.filter(user=me).exists()
    assert sysadmin.get("/api/v1/cases").status == 403
    assert [(r["attempt"], r["target"]) for r in refusals(since, "demo-sysadmin")] == [
        ("grant_role:leader", "demo-sysadmin"),
        (f"grant_region:{LEAGUE}", "demo-sysadmin"),
    ]
    # The auditor reads both refusals.
    audit = logged_in(base, "demo-auditor").get("/staff/audit/?action=admin_refused&who=demo-sysadmin")
    assert audit.status == 200 and "grant_role:leader" in audit.text and f"grant_region:{LEAGUE}" in audit.text


def test_the_system_administrator_cannot_take_over_the_auditor(base: str) -> None:
    sysadmin = logged_in(base, "demo-sysadmin")
    auditor = who("demo-auditor")
    since = mark()
    page = f"/staff/admin/users/{auditor.pk}/"
    detail = sysadmin.get(page)
    assert detail.status == 200 and 'name="set_password"' not in detail.text and 'name="reset_totp"' not in detail.text
    answer = sysadmin.post_form(page, {"set_password": "1", "password": "Taken-Over-Auditor-1"})
    refused(answer, "管理员账号的密码只能由一名管理员申请、另一名管理员复核后重置")
    refused(sysadmin.post_form(page, {"reset_totp": "1"}), "动态口令只能由一名管理员申请、另一名管理员复核后重置")
    auditor.refresh_from_db()
    assert auditor.check_password(DEMO_PASSWORD) and not auditor.check_password("Taken-Over-Auditor-1")
    assert TOTPDevice.objects.filter(user=auditor, confirmed=True).exists()
    assert [r["attempt"] for r in refusals(since, "demo-sysadmin")] == ["set_password", "reset_totp"]
    audit = logged_in(base, "demo-auditor").get("/staff/audit/?action=admin_refused&who=demo-auditor")
    assert "set_password" in audit.text and "reset_totp" in audit.text


def test_the_security_administrator_changes_no_administrators_rights_nor_its_own(base: str) -> None:
    secadmin = logged_in(base, "demo-secadmin")
    me, sysadmin, auditor = who("demo-secadmin"), who("demo-sysadmin"), who("demo-auditor")
    since = mark()
    refused(
        secadmin.post_form(f"/staff/security/users/{me.pk}/", {"grant_role": "1", "role": "leader"}),
        "不能修改本人的角色或辖区",
    )
    refused(
        secadmin.post_form(f"/staff/security/users/{me.pk}/", {"grant_region": "1", "region_code": LEAGUE}),
        "不能修改本人的角色或辖区",
    )
    own = Membership.objects.get(user=me, role=Role.SEC_ADMIN)
    refused(
        secadmin.post_form(f"/staff/security/users/{me.pk}/", {"revoke_role": str(own.pk)}), "不能修改本人的角色或辖区"
    )
    refused(
        secadmin.post_form(f"/staff/security/users/{sysadmin.pk}/", {"grant_role": "1", "role": "leader"}),
        "该账号是管理员账号，不能授予业务角色",
    )
    refused(
        secadmin.post_form(f"/staff/security/users/{auditor.pk}/", {"grant_region": "1", "region_code": LEAGUE}),
        "管理员账号不授予辖区",
    )
    refused(secadmin.post_form(f"/staff/security/unlock/{me.pk}/", {}), "不能为本人账号解锁")
    assert Membership.objects.filter(user__in=[me, sysadmin, auditor], role=Role.LEADER).count() == 0
    assert not Jurisdiction.objects.filter(user__in=[me, sysadmin, auditor]).exists()
    assert Membership.objects.filter(pk=own.pk).exists()
    assert [(r["attempt"], r["target"]) for r in refusals(since, "demo-secadmin")] == [
        ("grant_role:leader", "demo-secadmin"),
        (f"grant_region:{LEAGUE}", "demo-secadmin"),
        ("revoke_role:sec_admin", "demo-secadmin"),
        ("grant_role:leader", "demo-sysadmin"),
        (f"grant_region:{LEAGUE}", "demo-auditor"),
        ("unlock", "demo-secadmin"),
    ]


def test_the_security_administrator_grants_business_rights_and_an_admin_role_then_cannot_join_them(
    base: str,
) -> None:
    clerk = services.user_create(
        actor=None, username=f"t-clerk-{uuid.uuid4().hex[:6]}", full_name="新人", password=None
    )
    secadmin = logged_in(base, "demo-secadmin")
    page = f"/staff/security/users/{clerk.pk}/"
    granted = secadmin.post_form(page, {"grant_role": "1", "role": "intake_clerk", "center_code": "ZZ-152502"})
    assert granted.status == 302, granted.text[:500]
    assert secadmin.post_form(page, {"grant_region": "1", "region_code": "152502000000"}).status == 302
    assert set(AuditEntry.objects.filter(target=clerk.username).values_list("action", flat=True)) >= {
        "role_granted",
        "jurisdiction_granted",
    }
    since = mark()
    with pytest.raises(PermissionDenied, match="该账号已有业务角色或辖区"):
        services.membership_grant(actor=None, user=clerk, role=Role.SYS_ADMIN, cli=True)
    assert not Membership.objects.filter(user=clerk, role=Role.SYS_ADMIN).exists()
    assert [r["attempt"] for r in refusals(since, "cli")] == ["grant_role:sys_admin"]


def test_nobody_requests_a_reset_of_their_own_credentials(base: str) -> None:
    sysadmin = logged_in(base, "demo-sysadmin")
    since = mark()
    answer = sysadmin.post_form(
        "/staff/credential-resets/", {"username": "demo-sysadmin", "kind": "password", "reason": "忘记密码"}
    )
    refused(answer, "不能为本人申请重置密码或动态口令")
    assert not CredentialReset.objects.filter(target__username="demo-sysadmin").exists()
    assert [r["attempt"] for r in refusals(since, "demo-sysadmin")] == ["reset_request:password"]


def _temporary(answer: Response) -> str:
    found = re.search(r'<code id="temporary-password">([^<]+)</code>', answer.text)
    assert found, answer.text[:1000]
    return found.group(1)


def _login(base: str, user: User, password: str) -> tuple[HttpClient, Response]:
    """Through the two login forms, as a browser would; returns the client and the TOTP step's answer."""
    client = HttpClient(base)
    client.get("/staff/login/")
    first = client.post_form("/staff/login/", {"username": user.username, "password": password})
    assert first.status == 302 and first.headers["location"] == "/staff/login/totp/", first.text[:500]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return client, client.post_form("/staff/login/totp/", {"token": totp_code(device)})


def test_two_administrators_reset_an_auditors_password_and_the_auditor_then_chooses_their_own(base: str) -> None:
    target = fresh(Role.AUDIT_ADMIN)
    requester, confirmer = logged_in(base, "demo-sysadmin"), logged_in(base, "demo-secadmin")
    since = mark()
    asked = requester.post_form(
        "/staff/credential-resets/",
        {"username": target.username, "kind": "password", "reason": "本人遗忘密码，已核实身份"},
    )
    assert asked.status == 302, asked.text[:500]
    reset = CredentialReset.objects.get(target=target)
    assert asked.headers["location"] == f"/staff/credential-resets/{reset.pk}/"
    page = f"/staff/credential-resets/{reset.pk}/"
    refused(requester.post_form(page, {"confirm": "1"}), "申请人不能复核自己的申请")
    refused(logged_in(base, target.username).post_form(page, {"confirm": "1"}), "不能复核本人账号的重置申请")
    target.refresh_from_db()
    assert target.check_password(DEMO_PASSWORD)  # nothing happened yet
    done = confirmer.post_form(page, {"confirm": "1"})
    assert done.status == 200 and done.headers["cache-control"] == "no-store"
    temporary = _temporary(done)
    refused(confirmer.post_form(page, {"confirm": "1"}), "该申请已处理")
    assert temporary not in confirmer.get(page).text  # shown once
    # The old password is gone; the temporary one passes both factors, then must be replaced.
    client = HttpClient(base)
    client.get("/staff/login/")
    old = client.post_form("/staff/login/", {"username": target.username, "password": DEMO_PASSWORD})
    assert old.status == 200 and "用户名或密码错误" in old.text
    client, second = _login(base, who(target.username), temporary)
    assert second.status == 302 and second.headers["location"] == "/staff/login/password/"
    assert client.get("/staff/audit/").status == 302  # not logged in before the change
    same = client.post_form("/staff/login/password/", {"password": temporary, "again": temporary})
    assert same.status == 200 and "新密码不能与临时密码相同" in same.text
    changed = client.post_form("/staff/login/password/", {"password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert changed.status == 302 and changed.headers["location"] == "/staff/", changed.text[:500]
    assert client.get("/staff/audit/").status == 200
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD) and target.password_temporary_until is None
    trail = AuditEntry.objects.filter(id__gt=since, target=target.username).order_by("id")
    assert [(e.action, e.actor_name) for e in trail if e.action != "login_failed"] == [
        ("credential_reset_requested", "demo-sysadmin"),
        ("admin_refused", "demo-sysadmin"),
        ("admin_refused", target.username),
        ("credential_reset_confirmed", "demo-secadmin"),
        ("admin_refused", "demo-secadmin"),
        ("password_changed", target.username),
        ("login", target.username),
    ]
    audit = logged_in(base, "demo-auditor").get(f"/staff/audit/?who={target.username}")
    assert "复核并重置凭据" in audit.text and "申请重置凭据" in audit.text and "本人修改密码" in audit.text
    assert temporary not in audit.text and temporary not in str(list(trail.values_list("detail", flat=True)))


def test_a_second_factor_reset_makes_the_target_enrol_again(base: str) -> None:
    target = fresh(Role.SYS_ADMIN)
    requester, confirmer = logged_in(base, "demo-auditor"), logged_in(base, "demo-secadmin")
    asked = requester.post_form(
        "/staff/credential-resets/", {"username": target.username, "kind": "totp", "reason": "手机丢失"}
    )
    assert asked.status == 302
    reset = CredentialReset.objects.get(target=target)
    done = confirmer.post_form(f"/staff/credential-resets/{reset.pk}/", {"confirm": "1"})
    assert done.status == 302 and not TOTPDevice.objects.filter(user=target).exists()
    client = HttpClient(base)
    client.get("/staff/login/")
    first = client.post_form("/staff/login/", {"username": target.username, "password": DEMO_PASSWORD})
    assert first.status == 302 and first.headers["location"] == "/staff/login/enrol/"
    entry = AuditEntry.objects.filter(action="credential_reset_confirmed", target=target.username).get()
    assert entry.actor_name == "demo-secadmin" and entry.detail["kind"] == "totp"
    assert entry.detail["requested_by"] == "demo-auditor"


def test_a_request_not_confirmed_in_time_lapses(base: str) -> None:
    target = fresh(Role.AUDIT_ADMIN)
    reset = services.credential_reset_request(
        actor=who("demo-sysadmin"), target=target, kind="password", reason="测试过期"
    )
    # A day later (the request's own row, moved back in time: no business row is touched).
    CredentialReset.objects.filter(pk=reset.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    since = mark()
    confirmer = logged_in(base, "demo-secadmin")
    page = f"/staff/credential-resets/{reset.pk}/"
    assert "已过期" in confirmer.get(page).text
    refused(confirmer.post_form(page, {"confirm": "1"}), "该申请已过期，请重新申请")
    target.refresh_from_db()
    assert target.check_password(DEMO_PASSWORD)
    assert [r["attempt"] for r in refusals(since, "demo-secadmin")] == ["reset_confirm:password"]


def test_a_temporary_password_not_changed_in_time_stops_working(base: str) -> None:
    clerk = services.user_create(actor=None, username=f"t-new-{uuid.uuid4().hex[:6]}", full_name="新人", password=None)
    services.membership_grant(
        actor=None, user=clerk, role=Role.INTAKE_CLERK, center=Center.objects.get(code="ZZ-152502"), cli=True
    )
    services.jurisdiction_grant(actor=None, user=clerk, region=Region.objects.get(code="152502000000"))
    sysadmin = logged_in(base, "demo-sysadmin")
    page = f"/staff/admin/users/{clerk.pk}/"
    assert sysadmin.post_form(page, {"set_password": "1", "password": "Initial-Window-2026"}).status == 302
    clerk.refresh_from_db()
    assert clerk.password_temporary_until is not None
    # Once the account has been used, even the system administrator resets its password only with a second one.
    User.objects.filter(pk=clerk.pk).update(last_login=timezone.now())
    refused(sysadmin.post_form(page, {"set_password": "1", "password": "Second-Window-2026"}), "另一名管理员复核")
    User.objects.filter(pk=clerk.pk).update(password_temporary_until=timezone.now() - datetime.timedelta(hours=1))
    client = HttpClient(base)
    client.get("/staff/login/")
    late = client.post_form("/staff/login/", {"username": clerk.username, "password": "Initial-Window-2026"})
    assert late.status == 200 and "临时密码已过期" in late.text


def test_the_system_administrator_does_not_deactivate_itself(base: str) -> None:
    sysadmin = logged_in(base, "demo-sysadmin")
    me = who("demo-sysadmin")
    since = mark()
    answer = sysadmin.post_form(f"/staff/admin/users/{me.pk}/", {"edit": "1", "full_name": me.full_name})
    refused(answer, "不能停用本人账号")
    me.refresh_from_db()
    assert me.is_active
    assert [r["attempt"] for r in refusals(since, "demo-sysadmin")] == ["update"]


def test_an_initial_password_is_replaced_at_the_first_login_after_enrolment(base: str) -> None:
    clerk = services.user_create(
        actor=None, username=f"t-first-{uuid.uuid4().hex[:6]}", full_name="新人", password=None
    )
    services.membership_grant(
        actor=None, user=clerk, role=Role.INTAKE_CLERK, center=Center.objects.get(code="ZZ-152502"), cli=True
    )
    secadmin = logged_in(base, "demo-secadmin")
    found = secadmin.get(f"/staff/security/?q={clerk.username}")
    assert f'href="/staff/security/users/{clerk.pk}/"' in found.text
    region = secadmin.post_form(
        f"/staff/security/users/{clerk.pk}/", {"grant_region": "1", "region_code": "152502000000"}
    )
    assert region.status == 302
    sysadmin = logged_in(base, "demo-sysadmin")
    page = f"/staff/admin/users/{clerk.pk}/"
    assert sysadmin.post_form(page, {"set_password": "1", "password": "Initial-Window-2026"}).status == 302
    client = HttpClient(base)
    client.get("/staff/login/")
    first = client.post_form("/staff/login/", {"username": clerk.username, "password": "Initial-Window-2026"})
    assert first.status == 302 and first.headers["location"] == "/staff/login/enrol/"
    assert client.get("/staff/login/enrol/").status == 200  # the QR code of a new device
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    enrolled = client.post_form("/staff/login/enrol/", {"token": totp_code(device)})
    assert enrolled.status == 302 and enrolled.headers["location"] == "/staff/login/password/"
    assert client.get("/staff/cases/").status == 302  # no session before the new password
    changed = client.post_form("/staff/login/password/", {"password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert changed.status == 302 and changed.headers["location"] == "/staff/"
    assert client.get("/staff/cases/").status == 200
    # Used now: its password is no longer the system administrator's to set.
    assert "该账号已经使用过" in sysadmin.get(page).text
    actions = AuditEntry.objects.filter(target=clerk.username).order_by("id").values_list("action", "actor_name")
    assert [a for a in actions if a[0] in ("password_set", "totp_enrolled", "password_changed", "login")] == [
        ("password_set", "demo-sysadmin"),
        ("totp_enrolled", clerk.username),
        ("password_changed", clerk.username),
        ("login", clerk.username),
    ]
