"""The staff side of open days (开放日, booked on the public portal): a center's directors list days and see who booked.

Above the portal and the centers, and outside the portal app, whose every message has a Mongolian translation.

Centers of the user's jurisdiction only; a center outside it answers 404 like a missing one.
Visitors' phones are shown masked.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.accounts.decorators import acting_user, staff_page
from zongzhi.accounts.models import Role
from zongzhi.centers.models import Center
from zongzhi.forms import flash_errors
from zongzhi.identity import mask_phone
from zongzhi.portal.models import OpenDay, OpenDayBooking
from zongzhi.portal.openday import open_day_schedule

LIST_SIZE = 60


def _centers(user: object) -> list[Center]:
    return list(centers_for_open_days(user).order_by("code"))


def centers_for_open_days(user: object) -> QuerySet[Center]:
    """The centers of the user's jurisdiction that hold open days (not the village stations)."""
    return Center.objects.filter(access.scope_of(user).q()).exclude(level=Center.Level.VILLAGE)


def open_days_visible(user: object) -> QuerySet[OpenDay]:
    """The open days of those centers (the same 404 outside them as for a missing one)."""
    return OpenDay.objects.filter(center__in=centers_for_open_days(user)).select_related("center")


def bookings_of(open_day: OpenDay) -> QuerySet[OpenDayBooking]:
    """Who booked a (scope-checked) open day, first booked first; phones are masked where shown."""
    return OpenDayBooking.objects.filter(open_day=open_day).order_by("booked_at", "id")


@staff_page(access.may_read_business)
def open_days(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    centers = _centers(user)
    director = Role.CENTER_DIRECTOR in access.roles_of(user)
    if request.method == "POST" and director:
        center = next((c for c in centers if c.code == request.POST.get("center")), None)
        try:
            if center is None:
                raise ValidationError({"center": [_("请选择本辖区的综治中心。")]})
            day = datetime.date.fromisoformat(request.POST.get("day", ""))
            starts = datetime.time.fromisoformat(request.POST.get("starts", ""))
            ends = datetime.time.fromisoformat(request.POST.get("ends", ""))
            capacity = int(request.POST.get("capacity", ""))
            open_day = open_day_schedule(center=center, day=day, starts=starts, ends=ends, capacity=capacity)
        except ValueError:
            messages.error(request, _("日期应为 YYYY-MM-DD，时间应为 09:00 这样的格式，名额应为整数。"))
        except ValidationError as error:
            flash_errors(request, error)
        else:
            messages.success(
                request, _("已发布开放日：%(c)s %(d)s。") % {"c": open_day.center.name, "d": open_day.day.isoformat()}
            )
            return redirect("open_days")
    days = (
        OpenDay.objects.filter(center__in=centers, day__gte=timezone.localdate() - datetime.timedelta(days=30))
        .select_related("center")
        .order_by("-day", "center__code")[:LIST_SIZE]
    )
    return render(
        request,
        "centers/open_days.html",
        {"days": days, "centers": centers, "director": director, "today": timezone.localdate().isoformat()},
    )


@staff_page(access.may_read_business)
def open_day_bookings(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    open_day = get_object_or_404(OpenDay.objects.filter(center__in=_centers(user)).select_related("center"), pk=pk)
    bookings = [
        (b, mask_phone(b.phone)) for b in OpenDayBooking.objects.filter(open_day=open_day).order_by("booked_at")
    ]
    return render(request, "centers/open_day.html", {"open_day": open_day, "bookings": bookings})
