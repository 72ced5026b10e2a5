"""Open days (开放日): a center lists days visitors may come; a visitor books places with a
confirmed phone and gets a confirmation code. Places never go below zero, even under races."""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zongzhi import inputs
from zongzhi.centers.models import Center
from zongzhi.portal import selectors, services, throttle
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


# ---- pages ----------------------------------------------------------------------------------------


def open_day_list(request: HttpRequest) -> HttpResponse:
    from zongzhi.portal.views import verified_phone

    return render(
        request,
        "portal/open_days.html",
        {"days": selectors.open_days()[:100], "verified": verified_phone(request) is not None, "max": MAX_PEOPLE},
    )


@require_POST
def open_day_book_view(request: HttpRequest, pk: int) -> HttpResponse:
    from zongzhi.portal.views import client_ip, verified_phone

    open_day = get_object_or_404(selectors.open_days(), pk=pk)
    phone = verified_phone(request)
    problems: list[str] = []
    booking = None
    if phone is None:
        problems = [_("请先验证手机号。")]
    else:
        try:
            people = int(request.POST.get("people", "1") or "1")
        except ValueError:
            people = 0
        try:
            booking = open_day_book(
                open_day=open_day, name=request.POST.get("name", ""), phone=phone, people=people, ip=client_ip(request)
            )
        except ValidationError as error:
            problems = [m for ms in error.message_dict.values() for m in ms]
        except services.Throttled as error:
            problems = [str(error)]
    return render(
        request,
        "portal/open_day_booked.html",
        {
            "open_day": open_day,
            "booking": booking,
            "problems": problems,
            "verify_url": f"{reverse('portal:verify')}?next={reverse('portal:open_days')}",
            "lang_next": reverse("portal:open_days"),
        },
        status=200 if booking else 422,
    )
