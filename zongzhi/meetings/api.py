"""/api/v1/meetings: monthly joint dispatch meetings (联席调度会议), their agenda, decisions and minutes."""

import datetime
from typing import Annotated, Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, WRITE, Cursor, Filter, Id, Limit, page_schema, paged
from zongzhi.regions.selectors import region_by_code_or_name, region_get

from . import selectors, services
from .models import AgendaItem, DispatchMeeting

router = Router(tags=["meetings"])


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _scope(request: HttpRequest, permission: str) -> access.Scope:
    require_resource(request, permission)
    return access.business_scope(request.user)


class AgendaItemOut(Schema):
    id: int
    order: int
    case: str
    title: str
    reasons: list[str]
    state: str
    due_at: str | None
    lead_org: str
    discussion: str
    decision: str
    supervision: str | None


def _agenda_item(i: AgendaItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "order": i.order,
        "case": i.case.number,
        "title": i.case.title,
        "reasons": [r for r in i.reasons.split(",") if r],
        "state": i.state,
        "due_at": i.due_at.isoformat() if i.due_at else None,
        "lead_org": i.lead_org,
        "discussion": i.discussion,
        "decision": i.decision,
        "supervision": i.supervision.number if i.supervision else None,
    }


class MeetingOut(Schema):
    id: int
    title: str
    region: str
    center: str
    month: datetime.date
    held_on: datetime.date
    chair: str
    status: str


class MeetingDetailOut(MeetingOut):
    attendees: str
    minutes: str
    items: list[AgendaItemOut]


def _meeting(m: DispatchMeeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "title": m.title,
        "region": m.region_code,
        "center": m.center.code,
        "month": m.month,
        "held_on": m.held_on,
        "chair": m.chair.get_username(),
        "status": m.status,
    }


def _detail(user: User, pk: int) -> dict[str, Any]:
    found = selectors.meeting_get(user, pk)
    items = [_agenda_item(i) for i in found.items.all()]
    return {**_meeting(found), "attendees": found.attendees, "minutes": found.minutes, "items": items}


@router.get("/meetings", response={200: page_schema(MeetingOut), **READ})
def meetings(request: HttpRequest, region: Filter = "", cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """Meetings of the caller's jurisdiction (or of `region` in it), newest first."""
    scope = _scope(request, "meetings:read")
    rows = selectors.meetings_visible(_user(request))
    if region:
        rows = rows.filter(access.Scope(prefixes=(region_get(scope, region).prefix,)).q())
    return paged(rows, keys=("-id",), cursor=cursor, limit=limit, show=_meeting)


@router.get("/meetings/{pk}", response={200: MeetingDetailOut, **READ})
def meeting(request: HttpRequest, pk: Id) -> dict[str, Any]:
    _scope(request, "meetings:read")
    return _detail(_user(request), pk)


class MeetingIn(Schema):
    """Convene the meeting of `held_on`'s month for a league, county or township (code or name)."""

    region: str
    held_on: datetime.date
    attendees: str = ""


@router.post("/meetings", response={201: MeetingDetailOut, **WRITE})
def meeting_new(request: HttpRequest, payload: MeetingIn) -> Status:
    """Convene a meeting; its agenda is drawn at once from the jurisdiction's open cases."""
    _scope(request, "meetings:write")
    user = _user(request)
    region = region_by_code_or_name(selectors.jurisdictions(user), payload.region, field="region", label=_("辖区"))
    opened = services.meeting_open(actor=user, region=region, held_on=payload.held_on, attendees=payload.attendees)
    return Status(201, _detail(user, opened.pk))


class DecisionIn(Schema):
    """The meeting's decision; `supervise` (a 督办 kind) also issues that document with `days` to reply."""

    decision: str
    discussion: str = ""
    supervise: str = ""
    days: Annotated[int, Field(ge=1, le=365)] = 5


@router.post("/meeting-items/{pk}/decide", response={200: AgendaItemOut, **WRITE})
def item_decide(request: HttpRequest, pk: Id, payload: DecisionIn) -> dict[str, Any]:
    _scope(request, "meetings:write")
    user = _user(request)
    decided = services.item_decide(
        item=selectors.item_get(user, pk),
        actor=user,
        decision=payload.decision,
        discussion=payload.discussion,
        supervise=payload.supervise,
        days=payload.days,
    )
    return _agenda_item(decided)


class MinutesIn(Schema):
    minutes: str
    attendees: str = ""
    close: bool = False  # archive the meeting too (minutes required); nothing changes after


@router.post("/meetings/{pk}/minutes", response={200: MeetingDetailOut, **WRITE})
def minutes(request: HttpRequest, pk: Id, payload: MinutesIn) -> dict[str, Any]:
    """Save the minutes and attendees, and with `close` archive the meeting."""
    _scope(request, "meetings:write")
    user = _user(request)
    found = selectors.meeting_get(user, pk)
    services.minutes_save(meeting=found, actor=user, minutes=payload.minutes, attendees=payload.attendees)
    if payload.close:
        services.meeting_close(meeting=found, actor=user)
    return _detail(user, pk)
