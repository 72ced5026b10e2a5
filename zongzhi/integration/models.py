"""Other systems as service accounts (not people), their bearer tokens, and the API's idempotency keys."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zongzhi.crypto import EncryptedTextField


class ServiceAccount(models.Model):
    """A department system, a hotline or the regional platform: an org, a jurisdiction, per-resource rights.

    It acts through a non-human `accounts.User` (one to one) that holds its org membership (as the
    org's liaison) and its jurisdictions, so scopes, case roles and the audit treat it like any actor;
    that user has no usable password and the login refuses it.
    """

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("12345热线")
        PORTAL = "portal", _("网上申请")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="service_account", verbose_name=_("账号")
    )
    name = models.CharField(_("名称"), max_length=100, unique=True)
    org = models.ForeignKey("centers.Org", models.PROTECT, related_name="service_accounts", verbose_name=_("所属单位"))
    permissions = models.JSONField(_("接口权限"), default=list, blank=True)
    # The channel of the cases it registers through Open311 (the hotline or the civic app it is).
    open311_channel = models.CharField(
        _("Open311 来源渠道"), max_length=20, choices=Channel.choices, default=Channel.HOTLINE
    )
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("服务账号")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceToken(models.Model):
    """A bearer token of a service account; only its SHA-256 is kept, the token is shown once."""

    account = models.ForeignKey(ServiceAccount, models.PROTECT, related_name="tokens", verbose_name=_("服务账号"))
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=12)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    def usable(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed to the same caller until it expires.

    The row is inserted before the request runs, in the request's transaction: a concurrent request with
    the same key waits on the unique index (PostgreSQL) or the write lock (SQLite) and then replays.
    The body may hold what the caller was allowed to see, so it is encrypted at rest.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]
