"""Staff accounts, their memberships (org or center + role) and jurisdictions (region prefixes)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
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

    class Meta:
        verbose_name = _("账号")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username


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
