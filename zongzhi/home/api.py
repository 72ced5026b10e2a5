"""/api/v1/open-days: a center's open days (开放日, booked by visitors on the portal) and who booked, phones masked."""

import datetime
from typing import Annotated, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from zongzhi import access
from zongzhi.accounts.models import Role, User
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, WRITE, Cursor, Filter, Id, Limit, page_schema, paged
from zongzhi.home.open_days import bookings_of, centers_for_open_days, open_days_visible
from zongzhi.identity import mask_phone
from zongzhi.portal.models import OpenDay
from zongzhi.portal.openday import open_day_schedule

router = Router(tags=["open_days"])


def _user(request: HttpRequest, permission: str) -> User:
    require_resource(request, permission)
    access.business_scope(request.user)
    return cast(User, request.user)


class OpenDayOut(Schema):
    id: int
    center: str
    center_name: str
    day: datetime.date
    starts: str  # 09:00
    ends: str
    capacity: int
    booked: int
    places_left: int


class BookingOut(Schema):
    name: str
    phone: str  # masked
    people: int
    booked_at: str


class OpenDayDetailOut(OpenDayOut):
    bookings: list[BookingOut]


def _open_day(d: OpenDay) -> dict[str, Any]:
    return {
        "id": d.pk,
        "center": d.center.code,
        "center_name": d.center.name,
        "day": d.day,
        "starts": d.starts.strftime("%H:%M"),
        "ends": d.ends.strftime("%H:%M"),
        "capacity": d.capacity,
        "booked": d.booked,
        "places_left": d.places_left,
    }


@router.get("/open-days", response={200: page_schema(OpenDayOut), **READ})
def open_days(
    request: HttpRequest, center: Filter = "", upcoming: bool = True, cursor: Cursor = "", limit: Limit = 50
) -> dict[str, Any]:
    """Open days of the centers of the caller's jurisdiction, by date (`upcoming=false`: past ones too)."""
    user = _user(request, "open_days:read")
    rows = open_days_visible(user)
    if center:
        rows = rows.filter(center__code=center)
    if upcoming:
        rows = rows.filter(day__gte=timezone.localdate())
    return paged(rows, keys=("day", "id"), cursor=cursor, limit=limit, show=_open_day)


@router.get("/open-days/{pk}", response={200: OpenDayDetailOut, **READ})
def open_day(request: HttpRequest, pk: Id) -> dict[str, Any]:
    """An open day and who booked it (names, masked phones, how many people)."""
    user = _user(request, "open_days:read")
    found = get_object_or_404(open_days_visible(user), pk=pk)
    bookings = [
        {"name": b.name, "phone": mask_phone(b.phone), "people": b.people, "booked_at": b.booked_at.isoformat()}
        for b in bookings_of(found)
    ]
    return {**_open_day(found), "bookings": bookings}


Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="时:分，如 09:00")]


class OpenDayIn(Schema):
    """A day a center (code or name) opens to visitors, from `starts` to `ends`, with `capacity` places."""

    center: str
    day: datetime.date
    starts: Clock
    ends: Clock
    capacity: Annotated[int, Field(ge=1, le=1000)]


@router.post("/open-days", response={201: OpenDayOut, **WRITE})
def open_day_new(request: HttpRequest, payload: OpenDayIn) -> Status:
    """List an open day (center directors of the jurisdiction)."""
    user = _user(request, "open_days:write")
    if Role.CENTER_DIRECTOR not in access.roles_of(user) and not access.system_may(user, "open_days:write"):
        raise PermissionDenied(_("只有中心主任可以发布开放日。"))
    typed = payload.center.strip()
    centers = centers_for_open_days(user)
    named = list(centers.filter(name=typed[:100])[:2])
    found = centers.filter(code=typed[:20]).first() or (named[0] if len(named) == 1 else None)
    if found is None:
        raise ValidationError({"center": [_("综治中心“%(c)s”不存在或不在您的辖区。") % {"c": typed[:40]}]})
    created = open_day_schedule(
        center=found,
        day=payload.day,
        starts=datetime.time.fromisoformat(payload.starts),
        ends=datetime.time.fromisoformat(payload.ends),
        capacity=payload.capacity,
    )
    return Status(201, _open_day(created))
