"""Staff accounts, their memberships (org or center + role) and jurisdictions (region prefixes)."""

import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zongzhi.centers.models import Center, Org
from zongzhi.regions.models import Region


class Role(models.TextChoices):
    """The personas of DESIGN.md. The last three are the separated administrators (三员分立)."""

    INTAKE_CLERK = "intake_clerk", _("窗口受理员")
    CENTER_DIRECTOR = "center_director", _("中心主任")
    DEPT_LIAISON = "dept_liaison", _("部门联络员")
    MEDIATOR = "mediator", _("调解员")
    JUDGE = "judge", _("速裁法庭法官")
    GRID_WORKER = "grid_worker", _("网格员")
    LEADER = "leader", _("政法委领导")
    SYS_ADMIN = "sys_admin", _("系统管理员")
    SEC_ADMIN = "sec_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


ADMIN_ROLES = frozenset({Role.SYS_ADMIN, Role.SEC_ADMIN, Role.AUDIT_ADMIN})
BUSINESS_ROLES = frozenset(set(Role) - ADMIN_ROLES)


class User(AbstractUser):
    """A staff account. Lockout state lives here so it survives restarts and is shared by workers."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    failed_logins = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    # Set with a password someone else chose (initial or reset): it must be changed at the next
    # login, and stops working at this time.
    password_temporary_until = models.DateTimeField(_("临时密码有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("账号")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username


# A membership as `access._held` reads it: the role, where it is held, and the org's reach (`access._org_reach`).
MEMBERSHIP_COLUMNS = ("role", "org_id", "center_id", "org__region_code", "org__reach_from", "org__reach_to")


class Membership(models.Model):
    """A role the user holds, at an org (department, committee, court) or at a center."""

    user = models.ForeignKey(User, models.CASCADE, related_name="memberships", verbose_name=_("账号"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    org = models.ForeignKey(
        Org, models.PROTECT, null=True, blank=True, related_name="memberships", verbose_name=_("单位")
    )
    center = models.ForeignKey(
        Center, models.PROTECT, null=True, blank=True, related_name="memberships", verbose_name=_("中心")
    )

    class Meta:
        verbose_name = _("角色任职")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "org", "center"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"


class Jurisdiction(models.Model):
    """A region the user may see everything under (the region's code prefix)."""

    user = models.ForeignKey(User, models.CASCADE, related_name="jurisdictions", verbose_name=_("账号"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("辖区"))
    prefix = models.CharField(_("辖区代码前缀"), max_length=15)

    class Meta:
        verbose_name = _("辖区")
        constraints = [models.UniqueConstraint(fields=["user", "region"], name="jurisdiction_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.region}"


class ApiToken(models.Model):
    """Retired: the bearer tokens people once had. None is accepted any more (only service accounts'
    tokens, `zongzhi.integration.ServiceToken`); the table waits for a migration of this app to drop it."""

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens", verbose_name=_("账号"))
    name = models.CharField(_("用途"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(_("已吊销"), default=False)

    class Meta:
        verbose_name = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"


class CredentialReset(models.Model):
    """A reset of an account's password or second factor: requested by one administrator, confirmed
    by a second one (neither the requester nor the target), before it expires (三员分立, 双人复核)."""

    class Kind(models.TextChoices):
        PASSWORD = "password", _("密码")
        TOTP = "totp", _("动态口令")

    class Status(models.TextChoices):
        PENDING = "pending", _("待复核")
        CONFIRMED = "confirmed", _("已复核并重置")
        CANCELLED = "cancelled", _("已撤销")

    target = models.ForeignKey(User, models.PROTECT, related_name="credential_resets", verbose_name=_("账号"))
    kind = models.CharField(_("重置内容"), max_length=10, choices=Kind.choices)
    reason = models.CharField(_("理由"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(User, models.PROTECT, related_name="+", verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"))
    expires_at = models.DateTimeField(_("有效期至"))
    decided_by = models.ForeignKey(
        User, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("复核人")
    )
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("凭据重置")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.target} {self.get_kind_display()} {self.get_status_display()}"

    def is_expired(self, now: datetime.datetime) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= now

    @property
    def state_label(self) -> str:
        """The status as the pages show it: a pending request past its time reads as expired."""
        if self.is_expired(timezone.now()):
            return str(_("已过期"))
        return str(self.get_status_display())
