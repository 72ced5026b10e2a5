"""Every write on accounts: logging in, lockout, TOTP, users, roles and jurisdictions."""

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from zongzhi import access, inputs
from zongzhi.accounts.models import ApiToken, Jurisdiction, Membership, Role, User
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.centers.models import Center, Org
from zongzhi.regions.models import Region

Action = AuditEntry.Action


@dataclass
class LoginResult:
    user: User | None
    error: str = ""


def _locked_message(until: datetime.datetime) -> str:
    local = timezone.localtime(until)
    return _("登录失败次数过多，账号已锁定，请于 %(time)s 之后再试，或联系安全管理员解锁。") % {
        "time": local.strftime("%H:%M")
    }


def is_locked(user: User, now: datetime.datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or timezone.now())


def _register_failure(user: User, request: HttpRequest | None, *, factor: str) -> str:
    """Count a failed factor; the limit-th failure in a row locks the account."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins", "locked_until"])
        audit_record(
            action=Action.LOGIN_FAILED,
            actor=user,
            target=user.username,
            request=request,
            detail={"factor": factor, "failures": user.failed_logins},
        )
        if user.failed_logins < settings.LOGIN_FAILURE_LIMIT:
            return ""
        user.locked_until = timezone.now() + datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
        user.failed_logins = 0
        user.save(update_fields=["locked_until", "failed_logins"])
        audit_record(
            action=Action.LOCKED,
            actor=user,
            target=user.username,
            request=request,
            detail={"until": user.locked_until.isoformat()},
        )
        return _locked_message(user.locked_until)


def login_failed_message() -> str:
    """The one answer of the password step to a wrong password, an unknown user and a locked account
    alike: which of them it was would tell that the username exists."""
    return _("用户名或密码错误。连续失败 %(n)d 次的账号将锁定 %(m)d 分钟，可联系安全管理员解锁。") % {
        "n": settings.LOGIN_FAILURE_LIMIT,
        "m": settings.LOGIN_LOCKOUT_SECONDS // 60,
    }


def login_check_password(*, username: str, password: str, request: HttpRequest) -> LoginResult:
    """First factor. A locked account is refused whatever the password, with the wrong-password answer."""
    wrong = login_failed_message()
    if inputs.NUL in username or inputs.NUL in password:  # no account has one; PostgreSQL cannot even look
        return LoginResult(None, wrong)
    user = User.objects.filter(username=username).first()
    # The password is hashed in every case (Django hashes for unknown users too), so the time taken
    # does not tell a locked account from a wrong password either.
    authenticated = authenticate(request, username=username, password=password)
    if user is not None and is_locked(user):
        audit_record(action=Action.LOGIN_WHILE_LOCKED, actor=user, target=username, request=request)
        return LoginResult(None, wrong)
    if authenticated is None:
        if user is None:
            audit_record(
                action=Action.LOGIN_FAILED,
                actor_name=username[:150],
                target=username[:150],
                request=request,
                detail={"factor": "password", "unknown_user": True},
            )
            return LoginResult(None, wrong)
        _register_failure(user, request, factor="password")
        return LoginResult(None, wrong)
    return LoginResult(authenticated)  # type: ignore[arg-type]


def totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def login_check_totp(*, user: User, token: str, request: HttpRequest) -> LoginResult:
    """Second factor, with the same lockout as the password."""
    if is_locked(user):
        audit_record(action=Action.LOGIN_WHILE_LOCKED, actor=user, target=user.username, request=request)
        return LoginResult(None, _locked_message(user.locked_until))  # type: ignore[arg-type]
    device = totp_device(user)
    if device is not None and token.isdigit() and device.verify_token(token):
        return LoginResult(user)
    return LoginResult(None, _register_failure(user, request, factor="totp") or _("动态口令错误或已过期。"))


def login_succeeded(*, user: User, request: HttpRequest) -> None:
    """Both factors passed: clear the failure count and record the login."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, last_login=timezone.now())
        audit_record(action=Action.LOGIN, actor=user, target=user.username, request=request)


def totp_enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device a user is enrolling, created on first need."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("手机动态口令"), confirmed=False)
    return device


def totp_enrol_confirm(*, user: User, token: str, request: HttpRequest) -> LoginResult:
    """Confirm the enrolling device with a first code; counts as the second factor."""
    if is_locked(user):
        return LoginResult(None, _locked_message(user.locked_until))  # type: ignore[arg-type]
    device = totp_enrolment_device(user)
    if not (token.isdigit() and device.verify_token(token)):
        return LoginResult(
            None,
            _register_failure(user, request, factor="totp_enrol") or _("动态口令错误，请核对手机上显示的 6 位数字。"),
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(action=Action.TOTP_ENROLLED, actor=user, target=user.username, request=request)
    return LoginResult(user)


def totp_reset(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    """Remove a user's TOTP devices; they enrol again at the next login."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(action=Action.TOTP_RESET, actor=actor, target=user.username, request=request)


def user_unlock(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(locked_until=None, failed_logins=0)
        audit_record(action=Action.UNLOCKED, actor=actor, target=user.username, request=request)


def user_create(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    password: str | None,
    request: HttpRequest | None = None,
) -> User:
    """Open an account. Without a password the account cannot log in until one is set."""
    username = username.strip()
    errors = inputs.text_errors(User, {"username": username, "full_name": full_name})
    if not username:
        errors["username"] = [_("请填写用户名。")]
    elif "username" not in errors and User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("用户名“%(name)s”已被使用。") % {"name": username}]
    candidate = User(username=username, full_name=full_name.strip())
    if password is not None:
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if password is None:
            candidate.set_unusable_password()
        else:
            candidate.set_password(password)
        candidate.save()
        audit_record(action=Action.USER_CREATED, actor=actor, target=username, request=request)
    return candidate


def user_update(
    *, actor: User, user: User, full_name: str, is_active: bool, request: HttpRequest | None = None
) -> None:
    inputs.check_text(User, {"full_name": full_name})
    with transaction.atomic():
        user.full_name = full_name.strip()
        user.is_active = is_active
        user.save(update_fields=["full_name", "is_active"])
        audit_record(
            action=Action.USER_UPDATED,
            actor=actor,
            target=user.username,
            request=request,
            detail={"full_name": user.full_name, "is_active": is_active},
        )


def user_set_password(*, actor: User, user: User, password: str, request: HttpRequest | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            action=Action.USER_UPDATED, actor=actor, target=user.username, request=request, detail={"password": "set"}
        )


def membership_grant(
    *,
    actor: User | None,
    user: User,
    role: str,
    org: Org | None = None,
    center: Center | None = None,
    request: HttpRequest | None = None,
    cli: bool = False,
) -> Membership:
    """Give a user a role. Administrator roles only from the command line (三员分立)."""
    if not cli and (actor is None or not access.may_grant_role(actor, role)):
        raise ValidationError({"role": [_("您无权授予该角色。")]})
    if role not in Role.values:
        raise ValidationError({"role": [_("未知角色“%(role)s”。") % {"role": role}]})
    with transaction.atomic():
        membership, _created = Membership.objects.get_or_create(user=user, role=role, org=org, center=center)
        audit_record(
            action=Action.ROLE_GRANTED,
            actor=actor,
            actor_name="cli" if actor is None else "",
            target=user.username,
            request=request,
            detail={"role": role, "org": org.code if org else None, "center": center.code if center else None},
        )
    return membership


def membership_revoke(*, actor: User, membership: Membership, request: HttpRequest | None = None) -> None:
    if not access.may_grant_role(actor, membership.role):
        raise ValidationError({"role": [_("您无权撤销该角色。")]})
    with transaction.atomic():
        detail: dict[str, Any] = {"role": membership.role}
        username = membership.user.username
        membership.delete()
        audit_record(action=Action.ROLE_REVOKED, actor=actor, target=username, request=request, detail=detail)


def jurisdiction_grant(
    *, actor: User | None, user: User, region: Region, request: HttpRequest | None = None
) -> Jurisdiction:
    with transaction.atomic():
        jurisdiction, _created = Jurisdiction.objects.get_or_create(
            user=user, region=region, defaults={"prefix": region.prefix}
        )
        audit_record(
            action=Action.JURISDICTION_GRANTED,
            actor=actor,
            actor_name="cli" if actor is None else "",
            target=user.username,
            request=request,
            detail={"region": region.code},
        )
    return jurisdiction


def jurisdiction_revoke(*, actor: User, jurisdiction: Jurisdiction, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        username, code = jurisdiction.user.username, jurisdiction.region.code
        jurisdiction.delete()
        audit_record(
            action=Action.JURISDICTION_REVOKED, actor=actor, target=username, request=request, detail={"region": code}
        )


def token_issue(*, user: User, name: str, actor_name: str = "cli") -> str:
    """Create a bearer token for `user`; only its hash is stored, the token is shown once."""
    inputs.check_text(ApiToken, {"name": name})
    token = "zz_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(
            user=user, name=name, key_hash=hashlib.sha256(token.encode()).hexdigest(), prefix=token[:10]
        )
        audit_record(action=Action.TOKEN_ISSUED, actor_name=actor_name, target=user.username, detail={"name": name})
    return token


def token_user(token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    found = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hashlib.sha256(token.encode()).hexdigest(), revoked=False, user__is_active=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)  # a write per minute, not per request
    return found.user
