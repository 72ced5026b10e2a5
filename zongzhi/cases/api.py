"""/api/v1/cases: intake, lists, the case, its transitions and sub-resources; the same services as the pages."""

import datetime
import json
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.schema import DjangoGetter
from pydantic import model_validator

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.cases import actions, selectors, services
from zongzhi.cases.models import Category, CourtReferral, Instalment, Supervision
from zongzhi.cases.presenters import case_detail, case_row, intake_result
from zongzhi.cases.workflow import allowed_actions
from zongzhi.centers.models import Org, Room
from zongzhi.regions.models import Region

router = Router(tags=["cases"])


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _business(request: HttpRequest) -> None:
    if access.is_admin(_user(request)) and not access.may_read_business(_user(request)):
        raise PermissionDenied(_("管理员不查看业务内容。"))


class PartyIn(Schema):
    kind: str
    role: str
    name: str
    id_number: str = ""
    nationality: str = ""
    phone: str = ""
    address: str = ""


class CaseIn(Schema):
    """A dispute to register. The channel is not a field: it follows the caller (window, department, grid)."""

    category: str
    title: str
    description: str
    region: str
    parties: list[PartyIn]
    amount: Decimal | None = None
    people_involved: int = 1
    foreign_related: bool = False
    location: str = ""
    lng: float | None = None
    lat: float | None = None
    occurred_on: datetime.date | None = None
    risk_level: str | None = None
    risk_override_reason: str = ""
    major: bool = False
    related: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _no_channel(cls, data: Any) -> Any:
        # Refused rather than ignored: a client that sends a channel believes it sets one.
        raw = data._obj if isinstance(data, DjangoGetter) else data  # ninja wraps the body before validators
        if isinstance(raw, dict) and "channel" in raw:
            raise ValidationError(
                {"channel": [_("来源渠道由登记入口确定（窗口、部门、网格员等），登记时不能指定，请去掉 channel。")]}
            )
        return data


class TransitionIn(Schema):
    """`action` and `version`, plus what the action needs (lead, co, reason, terms …)."""

    action: str
    version: int
    reason: str = ""


def _lookup(model: Any, field: str, value: str, label: str) -> Any:
    found = model.objects.filter(**{field: value}).first()
    if found is None:
        raise ValidationError({label: [_("“%(v)s”不存在。") % {"v": value}]})
    return found


@router.post("", response={201: dict})
def create_case(request: HttpRequest, payload: CaseIn) -> Status:
    """Register a dispute (受理登记); the caller becomes its accountable owner."""
    _business(request)
    user = _user(request)
    region = _lookup(Region, "code", payload.region, "region")
    related = list(selectors.cases_visible(user).filter(number__in=payload.related)) if payload.related else []
    case = services.case_intake(
        actor=user,
        category=_lookup(Category, "code", payload.category, "category"),
        title=payload.title,
        description=payload.description,
        region=region,
        parties=[services.PartyInput(**p.dict()) for p in payload.parties],
        amount=payload.amount,
        people_involved=payload.people_involved,
        foreign_related=payload.foreign_related,
        location=payload.location,
        lng=payload.lng,
        lat=payload.lat,
        occurred_on=payload.occurred_on,
        risk_level=payload.risk_level,
        risk_override_reason=payload.risk_override_reason,
        major=payload.major,
        related=related,
    )
    # Built from what intake just wrote (no re-read): the case, its masked parties, risk and repeats.
    return Status(201, intake_result(case, user))


@router.get("")
def list_cases(
    request: HttpRequest,
    q: str = "",
    state: str = "",
    category: str = "",
    risk: str = "",
    channel: str = "",
    region: str = "",
    queue: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    """Cases visible to the caller, filtered and paged (page_size at most 100)."""
    _business(request)
    user = _user(request)
    page_size = max(1, min(page_size, 100))
    cases = selectors.queue(user, queue) if queue else selectors.cases_visible(user)
    cases = selectors.cases_filtered(cases, selectors.Filters(q, state, category, risk, channel, region, since, until))
    total = cases.count()
    start = (max(page, 1) - 1) * page_size
    rows = list(selectors.for_list(cases)[start : start + page_size])
    return {"count": total, "page": page, "page_size": page_size, "results": [case_row(c) for c in rows]}


@router.get("/{number}")
def get_case(request: HttpRequest, number: str) -> dict[str, Any]:
    _business(request)
    return case_detail(selectors.case_get(_user(request), number, related=selectors.API_RELATED), _user(request))


@router.post("/{number}/transitions")
def transition(request: HttpRequest, number: str, payload: TransitionIn) -> dict[str, Any]:
    """Perform an action of the workflow: 409 on a stale version, 422 with the reason when not allowed now."""
    user = _user(request)
    case = selectors.case_for_action(user, number)
    extra = json.loads(request.body or b"{}")
    params = {k: v for k, v in extra.items() if k not in ("action", "version")} if isinstance(extra, dict) else {}
    case = actions.run_action(case=case, actor=user, action=payload.action, version=payload.version, params=params)
    # The new state, version and what the caller may do next; GET the case for the full body.
    return {
        **case_row(case),
        "allowed_actions": [t.action for t in allowed_actions(case, access.case_roles(user, case))],
    }


class SessionIn(Schema):
    held_at: datetime.datetime
    place_kind: str
    mediators: str
    record: str
    room_id: int | None = None
    place: str = ""
    attendees: str = ""


@router.post("/{number}/sessions", response={201: dict})
def add_session(request: HttpRequest, number: str, payload: SessionIn) -> Status:
    case = selectors.case_for_action(_user(request), number)
    room = get_object_or_404(Room, pk=payload.room_id) if payload.room_id else None
    session = services.session_record(
        case=case,
        actor=_user(request),
        held_at=payload.held_at,
        place_kind=payload.place_kind,
        mediators=payload.mediators,
        record=payload.record,
        room=room,
        place=payload.place,
        attendees=payload.attendees,
    )
    return Status(201, {"id": session.pk})


class FollowUpIn(Schema):
    method: str
    performance: str
    satisfaction: str
    note: str = ""


@router.post("/{number}/follow-ups", response={201: dict})
def add_follow_up(request: HttpRequest, number: str, payload: FollowUpIn) -> Status:
    case = selectors.case_for_action(_user(request), number)
    follow_up = services.follow_up_record(case=case, actor=_user(request), **payload.dict())
    return Status(201, {"id": follow_up.pk})


class SupervisionIn(Schema):
    kind: str
    reason: str
    target_org: str = ""
    days: int = 5


@router.post("/{number}/supervisions", response={201: dict})
def add_supervision(request: HttpRequest, number: str, payload: SupervisionIn) -> Status:
    case = selectors.case_for_action(_user(request), number)
    target = _lookup(Org, "code", payload.target_org, "target_org") if payload.target_org else None
    supervision = services.supervision_issue(
        case=case,
        actor=_user(request),
        kind=payload.kind,
        reason=payload.reason,
        target_org=target,
        days=payload.days,
    )
    return Status(201, {"id": supervision.pk, "number": supervision.number})


class ReplyIn(Schema):
    reply: str = ""
    effect: str = ""


@router.post("/{number}/supervisions/{sid}/reply")
def reply_supervision(request: HttpRequest, number: str, sid: int, payload: ReplyIn) -> dict[str, Any]:
    case = selectors.case_for_action(_user(request), number)
    supervision = get_object_or_404(Supervision, pk=sid, case=case)
    services.supervision_reply(supervision=supervision, actor=_user(request), reply=payload.reply)
    return {"ok": True}


@router.post("/{number}/supervisions/{sid}/assess")
def assess_supervision(request: HttpRequest, number: str, sid: int, payload: ReplyIn) -> dict[str, Any]:
    case = selectors.case_for_action(_user(request), number)
    supervision = get_object_or_404(Supervision, pk=sid, case=case)
    services.supervision_assess(supervision=supervision, actor=_user(request), effect=payload.effect)
    return {"ok": True}


class CoordinationIn(Schema):
    to_org: str
    message: str


@router.post("/{number}/coordination", response={201: dict})
def coordinate(request: HttpRequest, number: str, payload: CoordinationIn) -> Status:
    case = selectors.case_for_action(_user(request), number)
    made = services.coordination_request(
        case=case,
        actor=_user(request),
        to_org=_lookup(Org, "code", payload.to_org, "to_org"),
        message=payload.message,
    )
    return Status(201, {"id": made.pk})


class BookingIn(Schema):
    room_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@router.post("/{number}/bookings", response={201: dict})
def book_room(request: HttpRequest, number: str, payload: BookingIn) -> Status:
    case = selectors.case_for_action(_user(request), number)
    room = get_object_or_404(Room, pk=payload.room_id)
    booking = services.room_book(
        case=case,
        actor=_user(request),
        room=room,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return Status(201, {"id": booking.pk})


@router.post("/{number}/confirmation", response={201: dict})
def request_confirmation(request: HttpRequest, number: str) -> Status:
    case = selectors.case_for_action(_user(request), number)
    referral = services.confirmation_request(case=case, actor=_user(request))
    return Status(201, {"id": referral.pk})


class PaymentIn(Schema):
    paid_on: datetime.date
    paid_amount: Decimal
    receipt: str = ""


@router.post("/{number}/instalments/{iid}/payment")
def pay_instalment(request: HttpRequest, number: str, iid: int, payload: PaymentIn) -> dict[str, Any]:
    """Record the performance of one instalment of the agreement, with its receipt."""
    case = selectors.case_for_action(_user(request), number)
    instalment = get_object_or_404(Instalment, pk=iid, agreement__case=case)
    services.instalment_pay(
        instalment=instalment,
        actor=_user(request),
        paid_on=payload.paid_on,
        paid_amount=payload.paid_amount,
        receipt=payload.receipt,
    )
    return {"ok": True}


class DecisionIn(Schema):
    result: str
    note: str = ""


@router.post("/{number}/court-referrals/{rid}/decision")
def decide(request: HttpRequest, number: str, rid: int, payload: DecisionIn) -> dict[str, Any]:
    case = selectors.case_for_action(_user(request), number)
    referral = get_object_or_404(CourtReferral, pk=rid, case=case)
    services.court_decide(referral=referral, actor=_user(request), result=payload.result, note=payload.note)
    return {"ok": True}


@router.post("/{number}/attachments", response={201: dict})
def upload(request: HttpRequest, number: str, file: File[UploadedFile]) -> Status:
    case = selectors.case_for_action(_user(request), number)
    attachment = services.attachment_add(case=case, actor=_user(request), upload=file)
    return Status(201, {"id": attachment.pk, "content_type": attachment.content_type, "size": attachment.size})


@router.get("/{number}/attachments/{aid}")
def download(request: HttpRequest, number: str, aid: int) -> FileResponse:
    """Served only to those who may see the case (same 404 otherwise)."""
    case = selectors.case_for_action(_user(request), number)
    attachment = get_object_or_404(case.attachments.all(), pk=aid)
    return FileResponse(
        attachment.file.open("rb"), content_type=attachment.content_type, as_attachment=True, filename=attachment.name
    )
