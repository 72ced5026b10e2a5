"""Open days (开放日): a center lists days visitors may come; a visitor books places with a
confirmed phone and gets a confirmation code. Places never go below zero, even under races."""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import inputs
from zongzhi.centers.models import Center
from zongzhi.portal import services, throttle
from zongzhi.portal.models import OpenDay, OpenDayBooking

MAX_PEOPLE = 10
CONFIRMATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def open_day_schedule(
    *, center: Center, day: datetime.date, starts: datetime.time, ends: datetime.time, capacity: int
) -> OpenDay:
    """List a day a center opens to visitors (staff, or `manage.py open_day_add`)."""
    errors: dict[str, list[str]] = {}
    if day < timezone.localdate():
        errors["day"] = [_("开放日不能早于今天。")]
    if ends <= starts:
        errors["ends"] = [_("结束时间应晚于开始时间。")]
    if not 1 <= capacity <= 1000:
        errors["capacity"] = [_("名额应在 1 到 1000 之间。")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return OpenDay.objects.create(center=center, day=day, starts=starts, ends=ends, capacity=capacity)
    except IntegrityError:
        raise ValidationError({"day": [_("该中心这一天已经是开放日。")]}) from None


def open_day_book(*, open_day: OpenDay, name: str, phone: str, people: int, ip: str) -> OpenDayBooking:
    """Book places for `people` visitors; refused when full, past, or already booked by this phone."""
    errors = inputs.text_errors(OpenDayBooking, {"name": name})
    if not name.strip():
        errors["name"] = [_("请填写预约人姓名。")]
    if not 1 <= people <= MAX_PEOPLE:
        errors["people"] = [_("每次预约 1 到 %(n)d 人。") % {"n": MAX_PEOPLE}]
    if open_day.day < timezone.localdate():
        errors["people"] = [_("这个开放日已经过去了。")]
    if errors:
        raise ValidationError(errors)
    if not throttle.hit(throttle.BOOK_PER_IP, ip):
        raise services.Throttled(_("今天预约次数过多，请明天再试。"))
    index = services.phone_index(phone)
    try:
        with transaction.atomic():
            # One conditional UPDATE takes the places: two visitors racing for the last place
            # cannot both get it (the database also refuses booked > capacity).
            taken = OpenDay.objects.filter(pk=open_day.pk, booked__lte=F("capacity") - people).update(
                booked=F("booked") + people
            )
            if not taken:
                raise ValidationError({"people": [_("名额不足：这一天只剩 %(n)d 个名额。") % {"n": _left(open_day)}]})
            return OpenDayBooking.objects.create(
                open_day=open_day,
                name=name.strip(),
                phone=phone,
                phone_index=index,
                people=people,
                code="".join(secrets.choice(CONFIRMATION_ALPHABET) for _ in range(8)),
                booked_at=timezone.now(),
            )
    except IntegrityError:
        raise ValidationError({"people": [_("这个手机号已经预约了这一天。")]}) from None


def _left(open_day: OpenDay) -> int:
    open_day.refresh_from_db(fields=["booked", "capacity"])
    return open_day.places_left
