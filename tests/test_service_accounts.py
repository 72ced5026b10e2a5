"""Service accounts against the live server through a real HTTP client: tokens, rights, CSRF, audit.

Bob is a department system of Xilinhot's 司法局 (cases only); Carol a hotline without the right to
residents; people (demo-intake) have no bearer tokens at all. These tests hold no transaction (the
server writes), so what they set up stays committed, like the browser tests'.
"""

import datetime
import hashlib
import io
import uuid
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from tests.http_client import HttpClient, logged_in
from tests.test_case_api import body
from zongzhi.accounts.models import ApiToken, User
from zongzhi.accounts.services import user_set_password
from zongzhi.audit.models import AuditEntry
from zongzhi.cases.models import Case
from zongzhi.integration.models import ServiceAccount, ServiceToken
from zongzhi.integration.services import service_account_update, service_token_revoke, service_token_rotate


@pytest.fixture
def committed(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        yield


def open_account(allow: str, org: str = "152502-D05", region: str = "152502") -> tuple[ServiceAccount, str]:
    name = f"测试系统-{uuid.uuid4().hex[:8]}"
    out = io.StringIO()
    call_command("service_account", name, "--org", org, "--region", region, "--allow", allow, stdout=out)
    return ServiceAccount.objects.get(name=name), out.getvalue().strip()


def bearer(server: dict[str, str], token: str) -> HttpClient:
    """No cookie at all: a department system's HTTP client."""
    client = HttpClient(server["url"])
    client.request = _with_header(client, token)  # type: ignore[method-assign]
    return client


def _with_header(client: HttpClient, token: str):  # type: ignore[no-untyped-def]
    plain = HttpClient.request

    def request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return plain(client, method, path, body, {"Authorization": f"Bearer {token}", **(headers or {})})

    return request


def secadmin() -> User:
    return User.objects.get(username="demo-secadmin")


def test_a_bearer_post_without_any_cookie_registers_a_case_and_is_audited(server, committed) -> None:  # type: ignore[no-untyped-def]
    account, token = open_account("cases:read,cases:write")
    client = bearer(server, token)
    answer = client.post_json("/api/v1/cases", body(title="服务账号登记"))
    assert answer.status == 201, answer.text[:500]
    assert not client.cookies, "the API set a cookie on a token request"
    case = Case.objects.get(number=answer.json()["number"])
    assert case.channel == "department" and case.owner_id == account.user_id
    call = AuditEntry.objects.filter(action="api_call", actor=account.user).first()
    assert call is not None and call.target == "POST /api/v1/cases" and call.detail["status"] == 201
    assert call.detail["token"] == token[:12]
    assert ServiceToken.objects.get(account=account).last_used_at is not None
    assert client.get(f"/api/v1/cases/{case.number}").status == 200


def test_a_session_post_needs_its_csrf_token(server, committed) -> None:  # type: ignore[no-untyped-def]
    with_csrf = logged_in(server["url"], "demo-intake")
    without = HttpClient(server["url"], cookies={"sessionid": with_csrf.cookies["sessionid"]})
    before = Case.objects.count()
    refused = without.post_json("/api/v1/cases", body(title="无CSRF令牌"))
    assert refused.status == 403, refused.text[:300]
    assert Case.objects.count() == before
    assert with_csrf.post_json("/api/v1/cases", body(title="有CSRF令牌")).status == 201


def test_people_have_no_tokens(server, committed) -> None:  # type: ignore[no-untyped-def]
    """A token made for a person the old way (accounts.ApiToken) is refused like any unknown token."""
    raw = "zz_" + uuid.uuid4().hex
    person = User.objects.get(username="demo-intake")
    ApiToken.objects.create(
        user=person, name="旧令牌", key_hash=hashlib.sha256(raw.encode()).hexdigest(), prefix=raw[:10]
    )
    answer = bearer(server, raw).get("/api/v1/cases")
    assert answer.status == 401 and answer.json()["detail"] == "令牌无效、已过期或已吊销。"
    assert AuditEntry.objects.filter(action="token_refused", detail__token=raw[:12]).exists()


def test_rights_are_per_resource(server, committed) -> None:  # type: ignore[no-untyped-def]
    _account, token = open_account("cases:read")
    client = bearer(server, token)
    assert client.get("/api/v1/cases").status == 200
    written = client.post_json("/api/v1/cases", body(title="只读账号登记"))
    assert written.status == 403
    assert written.json()["detail"].startswith("服务账号“测试系统-") and "cases:write" in written.json()["detail"]
    residents = client.get("/api/v1/residents?q=%E5%B7%B4")
    assert residents.status == 403 and "实有人口（读取）" in residents.json()["detail"]
    assert not Case.objects.filter(title="只读账号登记").exists()


def test_a_rotated_token_works_through_the_grace_period_then_stops(server, committed) -> None:  # type: ignore[no-untyped-def]
    account, old_raw = open_account("cases:read")
    old = ServiceToken.objects.get(account=account)
    _new, new_raw = service_token_rotate(actor=secadmin(), token=old)
    old.refresh_from_db()
    assert old.expires_at <= timezone.now() + datetime.timedelta(hours=1)
    assert bearer(server, old_raw).get("/api/v1/cases").status == 200
    assert bearer(server, new_raw).get("/api/v1/cases").status == 200
    # The grace period passes.
    ServiceToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert bearer(server, old_raw).get("/api/v1/cases").status == 401
    assert bearer(server, new_raw).get("/api/v1/cases").status == 200
    assert AuditEntry.objects.filter(action="token_rotated", target=account.name).exists()


def test_revoked_tokens_and_deactivated_accounts_stop(server, committed) -> None:  # type: ignore[no-untyped-def]
    account, raw = open_account("cases:read")
    _second, other = open_account("cases:read")
    service_token_revoke(actor=secadmin(), token=ServiceToken.objects.get(account=account))
    assert bearer(server, raw).get("/api/v1/cases").status == 401
    second = ServiceAccount.objects.get(pk=_second.pk)
    assert bearer(server, other).get("/api/v1/cases").status == 200
    service_account_update(
        actor=secadmin(),
        account=second,
        org=second.org,
        regions=[j.region for j in second.user.jurisdictions.all()],
        permissions=second.permissions,
        open311_channel=second.open311_channel,
        active=False,
    )
    assert bearer(server, other).get("/api/v1/cases").status == 401


def test_a_service_account_never_logs_in_with_a_password(server, committed) -> None:  # type: ignore[no-untyped-def]
    account, _raw = open_account("cases:read")
    with pytest.raises(ValidationError):
        user_set_password(
            actor=User.objects.get(username="demo-sysadmin"), user=account.user, password="Xx-12345678-yY"
        )
    client = HttpClient(server["url"])
    client.get("/staff/login/")
    answer = client.post_form("/staff/login/", {"username": account.user.username, "password": "anything-at-all"})
    assert answer.status == 200 and "用户名或密码错误" in answer.text
    assert "sessionid" not in client.cookies


def test_only_the_security_administrator_manages_service_accounts(django_db_setup, committed) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import PermissionDenied

    account, _raw = open_account("cases:read")
    with pytest.raises(PermissionDenied):
        service_token_rotate(actor=User.objects.get(username="demo-sysadmin"), token=account.tokens.get())


def test_the_accounts_pages_cannot_change_a_service_accounts_rights(django_db_setup, committed) -> None:  # type: ignore[no-untyped-def]
    """Its role and regions are set on the service-account page, not on the accounts' rights page."""
    from tests.conftest import verified_client

    account, _raw = open_account("cases:read")
    secadmin = verified_client(User.objects.get(username="demo-secadmin"))
    url = f"/staff/security/users/{account.user_id}/"
    granted = secadmin.post(url, {"grant_role": "1", "role": "center_director", "center_code": "ZZ-152502"})
    assert granted.status_code == 403 and "这是服务账号" in granted.content.decode()
    widened = secadmin.post(url, {"grant_region": "1", "region_code": "152500000000"})
    assert widened.status_code == 403 and "这是服务账号" in widened.content.decode()
    assert list(account.user.memberships.values_list("role", flat=True)) == ["dept_liaison"]
    assert list(account.user.jurisdictions.values_list("prefix", flat=True)) == ["152502"]
