"""The outbox: every change told outside (event feed, webhooks, SMS, the upper-level exchange).

An `Event` is written in the transaction of the change it tells, so it exists exactly when the change
does. It has no place in the feed until it is *published*: one publisher at a time (a row lock on
`Publisher`) gives the committed events their `seq`, in the order they became visible. A reader that
follows `seq` therefore never passes an event that commits late with an earlier id (docs/integration.md).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zongzhi.cases.models import Case, Party
from zongzhi.crypto import EncryptedTextField


class Event(models.Model):
    """One change, as the feed, the webhooks and the SMS read it; `seq` is set once it is published."""

    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    kind = models.CharField(_("事件类型"), max_length=40)
    case = models.ForeignKey(Case, models.CASCADE, null=True, blank=True, related_name="+")
    case_number = models.CharField(max_length=18, blank=True)
    region_code = models.CharField(max_length=15)
    major = models.BooleanField(default=False)  # 重大疑难, 上提 or 督办 when it happened
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    # For events raised by a clock (an instalment due, a month's figures): each is told once.
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # When the row was written (`at` is when the change happened: an imported or offline one may be
    # old). On PostgreSQL the table is partitioned by month of it, and kept by it (docs/deploy.md).
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("对外事件")
        indexes = [models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="outbox_unpublished")]


class Publisher(models.Model):
    """The one row whose lock makes publishing sequential; `last_seq` is the last number given."""

    last_seq = models.BigIntegerField(default=0)
    # The highest seq whose month was archived: a feed cursor below it has missed events (HTTP 410).
    archived_seq = models.BigIntegerField(default=0)


class Subscription(models.Model):
    """A webhook of a service account: which events (kinds, jurisdiction), where, signed with which secret."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="webhook_subscriptions", verbose_name=_("服务账号")
    )
    # The person answerable for the account: sees its delivery log and may redeliver.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("负责人")
    )
    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    secret = EncryptedTextField(_("签名密钥"))
    kinds = models.JSONField(_("事件类型"), default=list, blank=True)  # [] = all; "case.*" = a family
    region_prefix = models.CharField(_("辖区代码前缀"), max_length=15, blank=True)
    major_only = models.BooleanField(_("仅重大案件"), default=False)
    max_attempts = models.PositiveSmallIntegerField(_("最多投递次数"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    cursor = models.BigIntegerField(default=0)  # the last published seq fanned out to deliveries
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is sending its deliveries
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("事件订阅")
        ordering = ["id"]


class Delivery(models.Model):
    """One event to one subscription: retried with backoff until delivered or dead-lettered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待投递")
        DELIVERED = "delivered", _("已送达")
        DEAD = "dead", _("投递失败（死信）")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(Subscription, models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, models.CASCADE, related_name="+")
    seq = models.BigIntegerField()  # the event's, kept here for the ordered send
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    last_status = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("投递")
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once")]
        indexes = [models.Index(fields=["subscription", "status", "seq"], name="delivery_queue")]


class Attempt(models.Model):
    """One try of a delivery: what the receiver answered (the delivery log)."""

    delivery = models.ForeignKey(Delivery, models.CASCADE, related_name="attempts_made")
    at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    milliseconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]


class Cursor(models.Model):
    """How far an internal consumer of the outbox (the SMS notices) has read."""

    name = models.CharField(max_length=40, unique=True)
    seq = models.BigIntegerField(default=0)


class SmsPreference(models.Model):
    """A phone's wishes, found by its keyed hash: the language of notices, or no notices at all."""

    phone_index = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=10, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)


class SmsReceipt(models.Model):
    """A portal case's receipt code, kept encrypted until the 'accepted' notice has carried it."""

    case = models.OneToOneField(Case, models.CASCADE, related_name="+")
    code = EncryptedTextField()


class SmsMessage(models.Model):
    """One notice to one party about their case; the phone and text stay encrypted."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        DEAD = "dead", _("发送失败")
        OPTED_OUT = "opted_out", _("已退订")

    event = models.ForeignKey(Event, models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15)
    notice = models.CharField(_("通知"), max_length=30)
    language = models.CharField(max_length=10)
    phone = EncryptedTextField()
    phone_index = models.CharField(max_length=64, db_index=True)
    text = EncryptedTextField()
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)  # the partition key on PostgreSQL

    class Meta:
        verbose_name = _("短信通知")
        constraints = [models.UniqueConstraint(fields=["event", "party"], name="sms_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sms_queue")]


class ExchangeSource(models.Model):
    """On the receiving (upper-level) instance: a lower instance allowed to push to it, and its secret."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    secret = EncryptedTextField()


class ExchangeItem(models.Model):
    """On the receiving instance: one delivery received (a major case's event or a month's figures)."""

    source = models.ForeignKey(ExchangeSource, models.CASCADE, related_name="items")
    delivery = models.UUIDField(unique=True)  # a repeated delivery is stored once
    kind = models.CharField(max_length=40)
    seq = models.BigIntegerField()
    case_number = models.CharField(max_length=18, blank=True)
    region_code = models.CharField(max_length=15)
    period = models.CharField(max_length=7, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["source", "seq"]
        indexes = [models.Index(fields=["region_code", "kind"], name="exchange_region_kind")]
