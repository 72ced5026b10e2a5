"""Every write on service accounts and their tokens; checking a presented token."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access, inputs
from zongzhi.accounts.backends import held_columns
from zongzhi.accounts.models import Jurisdiction, Membership, Role, User
from zongzhi.accounts.services import jurisdiction_grant, jurisdiction_revoke, membership_grant, membership_revoke
from zongzhi.api_access import PERMISSIONS
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.centers.models import Org
from zongzhi.integration.models import ServiceAccount, ServiceToken
from zongzhi.regions.models import Region

Action = AuditEntry.Action
TOKEN_PREFIX = "zzs_"  # noqa: S105 - the marker that starts every token, not a secret
# The business role a service account holds at its org: a department system does what the org's
# liaison does (registers department referrals, signs for and handles the cases pushed to the org),
# never what a center's clerk or director decides (accepting, assigning) — that stays with people.
SERVICE_ROLE = Role.DEPT_LIAISON


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_manager(actor: User | None, cli: bool) -> None:
    if not cli and (actor is None or not access.may_manage_service_accounts(actor)):
        raise PermissionDenied(_("只有安全管理员可以管理服务账号。"))


def _clean(
    *, name: str, org: Org | None, regions: Sequence[Region], permissions: Iterable[str], channel: str, exclude: int = 0
) -> tuple[str, list[str]]:
    name = name.strip()
    errors = inputs.text_errors(ServiceAccount, {"name": name})
    if not name:
        errors["name"] = [_("请填写服务账号名称。")]
    elif any(c.isspace() for c in name):
        errors["name"] = [_("服务账号名称不能含空格，可用“-”连接。")]
    elif "name" not in errors and ServiceAccount.objects.filter(name=name).exclude(pk=exclude).exists():
        errors["name"] = [_("服务账号“%(n)s”已存在。") % {"n": name}]
    if org is None:
        errors["org"] = [_("请选择所属单位。")]
    if not regions:
        errors["regions"] = [_("请至少选择一个辖区。")]
    wanted = [p.strip() for p in permissions if p.strip()]
    unknown = [p for p in wanted if p not in PERMISSIONS]
    if unknown:
        errors["permissions"] = [_("未知接口权限：%(p)s。") % {"p": "、".join(unknown)}]
    if channel not in ServiceAccount.Channel.values:
        errors["open311_channel"] = [_("未知来源渠道“%(c)s”。") % {"c": channel}]
    if errors:
        raise ValidationError(errors)
    return name, sorted(set(wanted), key=PERMISSIONS.index)


def service_account_create(
    *,
    actor: User | None,
    name: str,
    org: Org | None,
    regions: Sequence[Region],
    permissions: Iterable[str],
    open311_channel: str = ServiceAccount.Channel.HOTLINE,
    request: HttpRequest | None = None,
    cli: bool = False,
) -> ServiceAccount:
    """Open a service account: a non-human user (no password) holding its org's liaison role and the regions."""
    _require_manager(actor, cli)
    name, granted = _clean(name=name, org=org, regions=regions, permissions=permissions, channel=open311_channel)
    assert org is not None  # checked by _clean
    username = f"svc-{name}"[:150]
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"name": [_("账号名“%(u)s”已被使用，请换一个名称。") % {"u": username}]})
    with transaction.atomic():
        user = User(username=username, full_name=name[:50])
        user.set_unusable_password()
        user.save()
        account = ServiceAccount.objects.create(
            user=user, name=name, org=org, permissions=granted, open311_channel=open311_channel
        )
        membership_grant(actor=actor, user=user, role=SERVICE_ROLE, org=org, request=request, cli=True)
        for region in regions:
            jurisdiction_grant(actor=actor, user=user, region=region, request=request, cli=True)
        audit_record(
            action=Action.SERVICE_ACCOUNT_CREATED,
            actor=actor,
            actor_name="cli" if actor is None else "",
            target=name,
            request=request,
            detail=_detail(account, regions),
        )
    return account


def _detail(account: ServiceAccount, regions: Sequence[Region]) -> dict[str, Any]:
    return {
        "org": account.org.code,
        "regions": [r.code for r in regions],
        "permissions": account.permissions,
        "open311_channel": account.open311_channel,
        "active": account.active,
    }


def service_account_update(
    *,
    actor: User,
    account: ServiceAccount,
    org: Org | None,
    regions: Sequence[Region],
    permissions: Iterable[str],
    open311_channel: str,
    active: bool,
    request: HttpRequest | None = None,
) -> ServiceAccount:
    """Change a service account's org, jurisdiction, rights or state; a deactivated account's tokens stop."""
    _require_manager(actor, False)
    _name, granted = _clean(
        name=account.name,
        org=org,
        regions=regions,
        permissions=permissions,
        channel=open311_channel,
        exclude=account.pk,
    )
    assert org is not None  # checked by _clean
    user = account.user
    with transaction.atomic():
        if org.pk != account.org_id:
            for membership in Membership.objects.filter(user=user):
                membership_revoke(actor=actor, membership=membership, request=request, cli=True)
            membership_grant(actor=actor, user=user, role=SERVICE_ROLE, org=org, request=request, cli=True)
        wanted = {r.pk for r in regions}
        for jurisdiction in Jurisdiction.objects.filter(user=user).select_related("region", "user"):
            if jurisdiction.region_id not in wanted:
                jurisdiction_revoke(actor=actor, jurisdiction=jurisdiction, request=request, cli=True)
        for region in regions:
            jurisdiction_grant(actor=actor, user=user, region=region, request=request, cli=True)
        account.org = org
        account.permissions = granted
        account.open311_channel = open311_channel
        account.active = active
        account.save(update_fields=["org", "permissions", "open311_channel", "active"])
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
        audit_record(
            action=Action.SERVICE_ACCOUNT_UPDATED,
            actor=actor,
            target=account.name,
            request=request,
            detail=_detail(account, regions),
        )
    return account


def service_token_issue(
    *,
    actor: User | None,
    account: ServiceAccount,
    days: int | None = None,
    request: HttpRequest | None = None,
    cli: bool = False,
) -> tuple[ServiceToken, str]:
    """A new bearer token for the account, valid `days` (default SERVICE_TOKEN_DAYS); shown once, kept hashed."""
    _require_manager(actor, cli)
    days = settings.SERVICE_TOKEN_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise ValidationError({"days": [_("令牌有效期应在 1 到 366 天之间。")]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ServiceToken.objects.create(
            account=account,
            key_hash=_hash(raw),
            prefix=raw[:12],
            created_at=now,
            expires_at=now + datetime.timedelta(days=days),
        )
        audit_record(
            action=Action.TOKEN_ISSUED,
            actor=actor,
            actor_name="cli" if actor is None else "",
            target=account.name,
            request=request,
            detail={"token": token.prefix, "expires_at": token.expires_at.isoformat()},
        )
    return token, raw


def service_token_rotate(
    *, actor: User, token: ServiceToken, request: HttpRequest | None = None
) -> tuple[ServiceToken, str]:
    """A new token; the old one keeps working for the grace period (SERVICE_TOKEN_GRACE_SECONDS), then expires."""
    _require_manager(actor, False)
    now = timezone.now()
    if not token.usable(now):
        raise ValidationError({"token": [_("令牌 %(p)s… 已失效，不能轮换，请签发新令牌。") % {"p": token.prefix}]})
    with transaction.atomic():
        new, raw = service_token_issue(actor=actor, account=token.account, request=request)
        token.expires_at = min(token.expires_at, now + datetime.timedelta(seconds=settings.SERVICE_TOKEN_GRACE_SECONDS))
        token.save(update_fields=["expires_at"])
        audit_record(
            action=Action.TOKEN_ROTATED,
            actor=actor,
            target=token.account.name,
            request=request,
            detail={"old": token.prefix, "new": new.prefix, "old_expires_at": token.expires_at.isoformat()},
        )
    return new, raw


def service_token_revoke(*, actor: User, token: ServiceToken, request: HttpRequest | None = None) -> None:
    """Stop a token now."""
    _require_manager(actor, False)
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action=Action.TOKEN_REVOKED,
            actor=actor,
            target=token.account.name,
            request=request,
            detail={"token": token.prefix},
        )


def token_authenticate(request: HttpRequest, raw: str) -> ServiceToken | None:
    """The usable token `raw` is, with its active account and user; None otherwise (and the refusal audited).

    Looked up once per request (the idempotency layer and the API's authentication share it). The
    last-used time is written at most once a minute per token, not on every request.
    """
    cached = getattr(request, "_service_token_checked", None)
    if cached is not None and cached[0] == raw:
        return cached[1]
    now = timezone.now()
    found = (
        ServiceToken.objects.select_related("account__user", "account__org")
        .filter(key_hash=_hash(raw), revoked_at__isnull=True, expires_at__gt=now)
        .filter(account__active=True, account__user__is_active=True)
        .annotate(**held_columns("account__user_id"))  # the account's memberships, as a session's user has them
        .first()
    )
    if found is not None:
        found.account.user.held_memberships = found.held_memberships  # type: ignore[attr-defined]
        found.account.user.held_prefixes = found.held_prefixes  # type: ignore[attr-defined]
    request._service_token_checked = (raw, found)  # type: ignore[attr-defined]
    if found is None:
        audit_record(
            action=Action.TOKEN_REFUSED,
            actor_name="",
            target=f"{request.method} {request.path}"[:200],
            request=request,
            detail={"token": raw[:12]},
        )
        return None
    if found.last_used_at is None or now - found.last_used_at > datetime.timedelta(minutes=1):
        ServiceToken.objects.filter(pk=found.pk).update(last_used_at=now)
        found.last_used_at = now
    request.service_account = found.account  # type: ignore[attr-defined]
    request.service_token = found  # type: ignore[attr-defined]
    return found


def bearer_of(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer …` header, if there is one."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_call_audit(request: HttpRequest, status: int, *, replayed: bool = False) -> None:
    """One audit entry per request a service account makes (what, answer, which token)."""
    token = getattr(request, "service_token", None)
    if token is None:
        return
    detail: dict[str, Any] = {"status": status, "token": token.prefix}
    if replayed:
        detail["replayed"] = True
    audit_record(
        action=Action.API_CALL,
        actor=token.account.user,
        target=f"{request.method} {request.path}"[:200],
        request=request,
        detail=detail,
    )
