"""Every write on accounts: logging in, lockout, TOTP, users, roles and jurisdictions."""

import datetime
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from zongzhi import access, inputs
from zongzhi.accounts.models import (
    ADMIN_ROLES,
    BUSINESS_ROLES,
    CredentialReset,
    Jurisdiction,
    Membership,
    Role,
    User,
)
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
    if user is not None and access.is_service_account(user):
        # Another system's account: it has no password and never logs in, whatever is typed.
        audit_record(action=Action.LOGIN_FAILED, actor=user, target=username, request=request, detail={"service": True})
        return LoginResult(None, wrong)
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
    until = authenticated.password_temporary_until  # type: ignore[union-attr]
    if until is not None and until <= timezone.now():
        audit_record(
            action=Action.LOGIN_FAILED,
            actor=authenticated,
            target=username,
            request=request,
            detail={"factor": "password", "temporary_password_expired": True},
        )
        return LoginResult(None, _("临时密码已过期，请联系管理员重新申请重置密码。"))
    return LoginResult(authenticated)  # type: ignore[arg-type]


def totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _totp_wait(device: TOTPDevice | None) -> str | None:
    """django-otp refuses any code, even the right one, for 1, 2, 4 … seconds after a wrong one: say so
    instead of calling a right code wrong. Not a failure of its own (the wrong code was counted)."""
    if device is None:
        return None
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return None
    seconds = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    return _("尝试过于频繁，请 %(n)d 秒后再输入动态口令。") % {"n": seconds}


def login_check_totp(*, user: User, token: str, request: HttpRequest) -> LoginResult:
    """Second factor, with the same lockout as the password."""
    if is_locked(user):
        audit_record(action=Action.LOGIN_WHILE_LOCKED, actor=user, target=user.username, request=request)
        return LoginResult(None, _locked_message(user.locked_until))  # type: ignore[arg-type]
    device = totp_device(user)
    if wait := _totp_wait(device):
        return LoginResult(None, wait)
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
    if wait := _totp_wait(device):
        return LoginResult(None, wait)
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


# ---- administration (三员分立) -------------------------------------------------------------------
#
# The system administrator runs accounts, the security administrator grants rights and unlocks,
# the audit administrator reads the audit. Nobody acts on their own rights or credentials, an
# administrator's credentials are reset only by two others (`credential_reset_*`), and an account is
# either an administrator's or a business user's, never both. Every refusal is audited too.

TEMPORARY_PASSWORD_HOURS = 72  # an initial or reset password stops working if not changed by then
CREDENTIAL_RESET_HOURS = 24  # a reset request not confirmed by then lapses


def _refused(*, actor: User | None, target: str, attempt: str, message: str, request: HttpRequest | None) -> Exception:
    """Audit a refused administrator action (outside any transaction that rolls back) and give the error to raise."""
    audit_record(
        action=Action.ADMIN_REFUSED,
        actor=actor,
        actor_name="cli" if actor is None else "",
        target=target,
        request=request,
        detail={"attempt": attempt, "reason": message},
    )
    return PermissionDenied(message)


def _lock_account(user: User) -> None:
    """Serialise changes of one account's rights: a row lock on PostgreSQL (SQLite's IMMEDIATE
    transactions already queue writers), so two concurrent grants see each other's result."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def _rights_refusal(actor: User | None, user: User, allowed: bool) -> str:
    """Why `actor` may not change `user`'s roles or jurisdictions ('' when they may)."""
    if actor is None:
        return ""  # the command line, on the server itself
    if not allowed:
        return _("只有安全管理员可以授予或撤销角色和辖区（三员分立）。")
    if actor.pk == user.pk:
        return _("不能修改本人的角色或辖区。")
    return ""


def _service_account_refusal(user: User, cli: bool) -> str:
    """A service account's role and regions are set only through zongzhi.integration (`cli`)."""
    if not cli and access.is_service_account(user):
        return _("这是服务账号：其单位、辖区由安全管理员在“服务账号”页面设置。")
    return ""


def _role_clash(user: User, role: str) -> str:
    """Why `role` cannot join the account's other rights ('' when it can)."""
    held = set(Membership.objects.filter(user=user).exclude(role=role).values_list("role", flat=True))
    if role in ADMIN_ROLES:
        if held & ADMIN_ROLES:
            return _("一个账号只能担任一种管理员角色（三员分立）。")
        if held & BUSINESS_ROLES or Jurisdiction.objects.filter(user=user).exists():
            return _("该账号已有业务角色或辖区，不能再担任管理员（管理员账号不兼任业务角色）。")
    elif held & ADMIN_ROLES:
        return _("该账号是管理员账号，不能授予业务角色（管理员账号不兼任业务角色）。")
    return ""


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
    """Give a user a role: business roles by the security administrator, administrator roles only from the CLI."""
    if role not in Role.values:
        raise ValidationError({"role": [_("未知角色“%(role)s”。") % {"role": role}]})
    attempt = f"grant_role:{role}"
    if not cli:
        allowed = actor is not None and access.may_grant_role(actor, role)
        if actor is None or role in ADMIN_ROLES:
            why = _("管理员角色只能在服务器上用命令行授予。")
        else:
            why = _rights_refusal(actor, user, allowed) or _service_account_refusal(user, cli)
        if why:
            raise _refused(actor=actor, target=user.username, attempt=attempt, message=why, request=request)
    with transaction.atomic():
        _lock_account(user)
        clash = _role_clash(user, role)
        if not clash:
            membership, _created = Membership.objects.get_or_create(user=user, role=role, org=org, center=center)
            audit_record(
                action=Action.ROLE_GRANTED,
                actor=actor,
                actor_name="cli" if actor is None else "",
                target=user.username,
                request=request,
                detail={"role": role, "org": org.code if org else None, "center": center.code if center else None},
            )
    if clash:
        raise _refused(actor=actor, target=user.username, attempt=attempt, message=clash, request=request)
    return membership


def membership_revoke(
    *, actor: User, membership: Membership, request: HttpRequest | None = None, cli: bool = False
) -> None:
    """Take a business role away (the security administrator, never on their own account)."""
    user = membership.user
    why = _rights_refusal(actor, user, access.may_grant_rights(actor)) or _service_account_refusal(user, cli)
    if not why and membership.role in ADMIN_ROLES:
        why = _("管理员角色只能在服务器上用命令行授予或撤销。")
    if why:
        attempt = f"revoke_role:{membership.role}"
        raise _refused(actor=actor, target=user.username, attempt=attempt, message=why, request=request)
    with transaction.atomic():
        detail: dict[str, Any] = {"role": membership.role}
        membership.delete()
        audit_record(action=Action.ROLE_REVOKED, actor=actor, target=user.username, request=request, detail=detail)


def jurisdiction_grant(
    *, actor: User | None, user: User, region: Region, request: HttpRequest | None = None, cli: bool = False
) -> Jurisdiction:
    """Let a business user see a region (the security administrator, or the CLI when `actor` is None)."""
    attempt = f"grant_region:{region.code}"
    why = _rights_refusal(actor, user, actor is not None and access.may_grant_rights(actor))
    why = why or _service_account_refusal(user, cli)
    if why:
        raise _refused(actor=actor, target=user.username, attempt=attempt, message=why, request=request)
    with transaction.atomic():
        _lock_account(user)
        clash = access.holds_admin_role(user)
        if not clash:
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
    if clash:
        why = _("管理员账号不授予辖区：辖区会打开业务数据（三员分立）。")
        raise _refused(actor=actor, target=user.username, attempt=attempt, message=why, request=request)
    return jurisdiction


def jurisdiction_revoke(
    *, actor: User, jurisdiction: Jurisdiction, request: HttpRequest | None = None, cli: bool = False
) -> None:
    """Take a region away (the security administrator, never on their own account)."""
    user, code = jurisdiction.user, jurisdiction.region.code
    why = _rights_refusal(actor, user, access.may_grant_rights(actor)) or _service_account_refusal(user, cli)
    if why:
        raise _refused(actor=actor, target=user.username, attempt=f"revoke_region:{code}", message=why, request=request)
    with transaction.atomic():
        jurisdiction.delete()
        audit_record(
            action=Action.JURISDICTION_REVOKED,
            actor=actor,
            target=user.username,
            request=request,
            detail={"region": code},
        )


def user_unlock(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    """Lift a lockout (the security administrator, not on their own account)."""
    why = ""
    if not access.may_manage_security(actor):
        why = _("只有安全管理员可以解锁账号。")
    elif actor.pk == user.pk:
        why = _("不能为本人账号解锁。")
    if why:
        raise _refused(actor=actor, target=user.username, attempt="unlock", message=why, request=request)
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
    """Open an account. Without a password the account cannot log in until one is set.

    A password the system administrator chose is temporary: it must be changed at the first login.
    """
    if actor is not None and not access.may_manage_accounts(actor):
        why = _("只有系统管理员可以开设账号。")
        raise _refused(actor=actor, target=username[:150], attempt="create", message=why, request=request)
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
            if actor is not None:
                candidate.password_temporary_until = _temporary_until()
        candidate.save()
        audit_record(action=Action.USER_CREATED, actor=actor, target=username, request=request)
    return candidate


def user_update(
    *, actor: User, user: User, full_name: str, is_active: bool, request: HttpRequest | None = None
) -> None:
    """Edit an account's name and whether it is active (the system administrator)."""
    why = ""
    if not access.may_manage_accounts(actor):
        why = _("只有系统管理员可以修改账号。")
    elif actor.pk == user.pk and not is_active:
        why = _("不能停用本人账号。")
    if why:
        raise _refused(actor=actor, target=user.username, attempt="update", message=why, request=request)
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


def initial_password_refusal(actor: User, user: User) -> str:
    """Why `actor` may not set `user`'s initial password ('' when they may)."""
    if not access.may_manage_accounts(actor):
        return _("只有系统管理员可以设置初始密码。")
    if actor.pk == user.pk:
        return _("不能在管理页面重置本人密码。")
    if access.holds_admin_role(user):
        return _("管理员账号的密码只能由一名管理员申请、另一名管理员复核后重置。")
    if user.last_login is not None:
        return _("该账号已经使用过：重置密码须由一名管理员申请、另一名管理员复核。")
    return ""


def user_set_password(*, actor: User, user: User, password: str, request: HttpRequest | None = None) -> None:
    """Set the initial password of a business account not used yet (temporary: changed at the first login)."""
    if access.is_service_account(user):
        raise ValidationError({"password": [_("服务账号不能设置密码，它只用令牌访问接口。")]})
    why = initial_password_refusal(actor, user)
    if why:
        raise _refused(actor=actor, target=user.username, attempt="set_password", message=why, request=request)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.password_temporary_until = _temporary_until()
        user.save(update_fields=["password", "password_temporary_until"])
        audit_record(action=Action.PASSWORD_SET, actor=actor, target=user.username, request=request)


def totp_reset(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    """Refused: a second factor is reset only through a confirmed `CredentialReset`."""
    why = _("动态口令只能由一名管理员申请、另一名管理员复核后重置。")
    raise _refused(actor=actor, target=user.username, attempt="reset_totp", message=why, request=request)


def _temporary_until() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=TEMPORARY_PASSWORD_HOURS)


def password_change_required(user: User) -> bool:
    """Whether the user logs in with a password someone else chose (initial or reset)."""
    return user.password_temporary_until is not None


def password_change(*, user: User, password: str, request: HttpRequest | None = None) -> None:
    """The user replaces a temporary password with one of their own (at login, after both factors)."""
    if user.check_password(password):
        raise ValidationError({"password": [_("新密码不能与临时密码相同。")]})
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    with transaction.atomic():
        user.set_password(password)
        user.password_temporary_until = None
        user.save(update_fields=["password", "password_temporary_until"])
        audit_record(action=Action.PASSWORD_CHANGED, actor=user, target=user.username, request=request)


# ---- two-person credential reset -----------------------------------------------------------------


def credential_reset_request(
    *, actor: User, target: User, kind: str, reason: str, request: HttpRequest | None = None
) -> CredentialReset:
    """An administrator asks for another account's password or second factor to be reset."""
    attempt = f"reset_request:{kind}"
    why = ""
    if not access.may_handle_credential_resets(actor):
        why = _("只有管理员可以申请重置凭据。")
    elif actor.pk == target.pk:
        why = _("不能为本人申请重置密码或动态口令，请联系另外两名管理员。")
    if why:
        raise _refused(actor=actor, target=target.username, attempt=attempt, message=why, request=request)
    errors = inputs.text_errors(CredentialReset, {"reason": reason})
    if kind not in CredentialReset.Kind.values:
        errors["kind"] = [_("请选择重置内容。")]
    if not reason.strip() and "reason" not in errors:
        errors["reason"] = [_("请填写重置理由。")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        _lock_account(target)
        waiting = CredentialReset.objects.filter(
            target=target, kind=kind, status=CredentialReset.Status.PENDING, expires_at__gt=now
        ).exists()
        if waiting:
            raise ValidationError({"kind": [_("该账号已有一项同类重置申请待复核。")]})
        reset = CredentialReset.objects.create(
            target=target,
            kind=kind,
            reason=reason.strip(),
            requested_by=actor,
            requested_at=now,
            expires_at=now + datetime.timedelta(hours=CREDENTIAL_RESET_HOURS),
        )
        audit_record(
            action=Action.CREDENTIAL_RESET_REQUESTED,
            actor=actor,
            target=target.username,
            request=request,
            detail={"reset": reset.pk, "kind": kind, "reason": reset.reason, "until": reset.expires_at.isoformat()},
        )
    return reset


def _confirm_refusal(actor: User, reset: CredentialReset, now: datetime.datetime) -> str:
    if not access.may_handle_credential_resets(actor):
        return _("只有管理员可以复核凭据重置。")
    if actor.pk == reset.requested_by_id:
        return _("申请人不能复核自己的申请，须由另一名管理员复核。")
    if actor.pk == reset.target_id:
        return _("不能复核本人账号的重置申请。")
    if reset.status != CredentialReset.Status.PENDING:
        return _("该申请已处理（%(s)s），不能再复核。") % {"s": reset.get_status_display()}
    if reset.expires_at <= now:
        return _("该申请已过期，请重新申请。")
    return ""


def credential_reset_confirm(*, actor: User, reset: CredentialReset, request: HttpRequest | None = None) -> str | None:
    """A second administrator confirms: the reset is done. Returns the temporary password (shown once).

    A password reset sets a random temporary password the target must change at the next login,
    within TEMPORARY_PASSWORD_HOURS; the second factor stays. A second-factor reset removes the
    devices: the target enrols a new one at the next login, with their own password. Either ends the
    target's sessions (Django's session hash and django-otp's device check).
    """
    now = timezone.now()
    attempt = f"reset_confirm:{reset.kind}"
    with transaction.atomic():
        locked = CredentialReset.objects.select_for_update().select_related("target").get(pk=reset.pk)
        why = _confirm_refusal(actor, locked, now)
        temporary: str | None = None
        if not why:
            target = locked.target
            if locked.kind == CredentialReset.Kind.PASSWORD:
                temporary = _temporary_password()
                target.set_password(temporary)
                target.password_temporary_until = _temporary_until()
                target.save(update_fields=["password", "password_temporary_until"])
            else:
                TOTPDevice.objects.filter(user=target).delete()
            CredentialReset.objects.filter(pk=locked.pk).update(
                status=CredentialReset.Status.CONFIRMED, decided_by=actor, decided_at=now
            )
            audit_record(
                action=Action.CREDENTIAL_RESET_CONFIRMED,
                actor=actor,
                target=target.username,
                request=request,
                detail={"reset": locked.pk, "kind": locked.kind, "requested_by": locked.requested_by.username},
            )
    if why:
        raise _refused(actor=actor, target=locked.target.username, attempt=attempt, message=why, request=request)
    reset.status, reset.decided_by, reset.decided_at = CredentialReset.Status.CONFIRMED, actor, now
    return temporary


def credential_reset_cancel(*, actor: User, reset: CredentialReset, request: HttpRequest | None = None) -> None:
    """The requester withdraws a pending request, or another administrator turns it down."""
    now = timezone.now()
    with transaction.atomic():
        locked = CredentialReset.objects.select_for_update().select_related("target").get(pk=reset.pk)
        why = ""
        if not access.may_handle_credential_resets(actor):
            why = _("只有管理员可以撤销凭据重置申请。")
        elif actor.pk == locked.target_id and actor.pk != locked.requested_by_id:
            why = _("不能处理本人账号的重置申请。")
        elif locked.status != CredentialReset.Status.PENDING:
            why = _("该申请已处理（%(s)s）。") % {"s": locked.get_status_display()}
        if not why:
            CredentialReset.objects.filter(pk=locked.pk).update(
                status=CredentialReset.Status.CANCELLED, decided_by=actor, decided_at=now
            )
            audit_record(
                action=Action.CREDENTIAL_RESET_CANCELLED,
                actor=actor,
                target=locked.target.username,
                request=request,
                detail={"reset": locked.pk, "kind": locked.kind},
            )
    if why:
        attempt = f"reset_cancel:{locked.kind}"
        raise _refused(actor=actor, target=locked.target.username, attempt=attempt, message=why, request=request)
    reset.status = CredentialReset.Status.CANCELLED


_READABLE = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I to misread


def _temporary_password() -> str:
    """16 random characters in groups of four, easy to read out and type."""
    raw = "".join(secrets.choice(_READABLE) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
