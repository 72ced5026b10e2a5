"""The public portal's own data: applications (a case's receipt), phone codes, throttle counters,
open days and their bookings. The dispute itself is a `cases.Case`; nothing here duplicates it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zongzhi.cases.models import Case
from zongzhi.centers.models import Center
from zongzhi.crypto import EncryptedTextField


class Application(models.Model):
    """A case applied for online: how the applicant finds it again (receipt code) and who they are."""

    case = models.OneToOneField(Case, models.PROTECT, related_name="portal_application")
    # Only a keyed hash of the receipt code is kept: a database leak does not open anyone's case.
    receipt_index = models.CharField(max_length=64, unique=True)
    phone = EncryptedTextField(_("联系电话"))
    phone_index = models.CharField(max_length=64, db_index=True)
    language = models.CharField(max_length=10, default="zh-hans")
    submitted_at = models.DateTimeField()
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("网上申请")


class PhoneCode(models.Model):
    """A one-time code sent by SMS to confirm the applicant holds the phone."""

    phone_index = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["phone_index", "sent_at"], name="phonecode_phone_sent")]


class ThrottleCounter(models.Model):
    """Hits of one key (an IP, a phone, by keyed hash) in one fixed time window.

    In the database, so the limit holds across server processes and restarts.
    """

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="throttle_key_window")]
        indexes = [models.Index(fields=["window_start"], name="throttle_window")]


class OpenDay(models.Model):
    """A day a center opens its doors to visitors (开放日), with the number of places."""

    center = models.ForeignKey(Center, models.CASCADE, related_name="open_days", verbose_name=_("中心"))
    day = models.DateField(_("日期"))
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))
    capacity = models.PositiveSmallIntegerField(_("名额"))
    booked = models.PositiveSmallIntegerField(_("已预约人数"), default=0)

    class Meta:
        verbose_name = _("开放日")
        ordering = ["day", "center"]
        constraints = [
            models.UniqueConstraint(fields=["center", "day"], name="openday_center_day"),
            models.CheckConstraint(condition=models.Q(booked__lte=models.F("capacity")), name="openday_not_overbooked"),
        ]

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)


class OpenDayBooking(models.Model):
    """One visitor's booking (with the people coming along) for an open day."""

    open_day = models.ForeignKey(OpenDay, models.PROTECT, related_name="bookings")
    name = models.CharField(_("姓名"), max_length=50)
    phone = EncryptedTextField(_("联系电话"))
    phone_index = models.CharField(max_length=64)
    people = models.PositiveSmallIntegerField(_("人数"))
    code = models.CharField(_("确认码"), max_length=12, unique=True)
    booked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["open_day", "phone_index"], name="openday_booking_one_per_phone")
        ]
