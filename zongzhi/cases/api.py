"""/api/v1/cases: intake, lists, the case, its transitions and sub-resources; the same services as the pages."""

import datetime
import inspect
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.schema import DjangoGetter
from pydantic import model_validator

from zongzhi import access
from zongzhi.accounts.models import User
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import WRITE, Cursor, Filter, Id, Limit, Out, file_answer, page_schema, paged, refusals
from zongzhi.cases import actions, catalogue, selectors, services
from zongzhi.cases.models import Agreement, State
from zongzhi.cases.presenters import (
    case_detail,
    case_row,
    intake_result,
    overdue_json,
    overdue_row,
    schedule_json,
    schedule_of,
)
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import region_by_code_or_name

router = Router(tags=["cases"])


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _business(request: HttpRequest, permission: str = "cases:read") -> None:
    require_resource(request, permission)
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


class PartyOut(Schema):
    kind: str
    role: str
    name: str
    id_number: str  # a resident ID masked (first 6, last 4); credit codes and passports as they are
    nationality: str
    phone: str  # masked (3 + 4)


class CaseRowOut(Out):
    number: str
    title: str
    state: str
    state_label: str
    category: str
    region: str
    region_name: str
    center: str
    risk_level: str
    channel: str
    registered_at: str
    due_at: str | None
    awaiting_director: bool
    version: int


class IntakeOut(CaseRowOut):
    description: str
    amount: str | None
    people_involved: int
    major: bool
    risk_suggested: str
    risk_reasons: list[str]
    repeats: list[dict[str, Any]]
    # What does not fit the village's registry (more people involved than live there), in Chinese.
    warnings: list[str]
    # Parties whose resident ID is registered in the case's village: their index, household, same name.
    registry: list[dict[str, Any]]
    owner: str
    parties: list[PartyOut]
    allowed_actions: list[str]


class CaseDetailOut(CaseRowOut):
    description: str
    amount: str | None
    people_involved: int
    foreign_related: bool
    major: bool
    risk_suggested: str
    risk_reasons: list[str]
    owner: str
    outcome: str
    escalations: int
    parties: list[PartyOut]
    assignments: list[dict[str, Any]]
    events: list[dict[str, Any]]
    supervisions: list[dict[str, Any]]
    allowed_actions: list[str]


CasePage = page_schema(CaseRowOut)


@router.post("", response={201: IntakeOut, **refusals(401, 403, 422)})
def create_case(request: HttpRequest, payload: CaseIn) -> Status:
    """Register a dispute (受理登记); the caller becomes its accountable owner.

    `category` is a category's code or name, `region` a region's code or name (a name several regions
    share is refused, listing their codes).
    """
    _business(request, "cases:write")
    user = _user(request)
    region = region_by_code_or_name(Region.objects.all(), payload.region, field="region", label=_("发生地区划"))
    related = list(selectors.cases_visible(user).filter(number__in=payload.related)) if payload.related else []
    case = services.case_intake(
        actor=user,
        category=selectors.category_by_code_or_name(payload.category),
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


@router.get("", response={200: CasePage, **refusals(401, 403, 404, 422)})
def list_cases(
    request: HttpRequest,
    q: Filter = "",
    state: Filter = "",
    category: Filter = "",
    risk: Filter = "",
    channel: Filter = "",
    region: Filter = "",
    queue: Filter = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    cursor: Cursor = "",
    limit: Limit = 50,
) -> dict[str, Any]:
    """Cases visible to the caller, filtered, newest registered first, paged by cursor."""
    _business(request)
    user = _user(request)
    cases = selectors.queue(user, queue) if queue else selectors.cases_visible(user)
    filters = selectors.Filters(q, state, category, risk, channel, region, since, until)
    cases = selectors.cases_filtered(cases, filters, user)
    return paged(selectors.list_rows(cases), keys=("-id",), cursor=cursor, limit=limit, show=case_row)


class PaymentOut(Schema):
    paid_on: str
    amount: str
    receipt: str


class InstalmentOut(Schema):
    """An instalment of the agreement: what is due, paid and owed, and every payment (receipts)."""

    id: int
    n: int
    due_on: str
    amount: str
    paid: str
    outstanding: str
    paid_on: str | None  # the day it was paid in full
    days_overdue: int
    payments: list[PaymentOut]


class ScheduleOut(Schema):
    agreement: str
    amount: str | None
    paid: str
    outstanding: str
    instalments: list[InstalmentOut]


class OverdueOut(Schema):
    case: str
    title: str
    instalment: int
    due_on: str
    amount: str
    paid: str
    outstanding: str
    days_overdue: int
    obligors: list[str]
    applicants: list[str]


@router.get("/instalments/overdue", response={200: page_schema(OverdueOut), **refusals(401, 403, 422)})
def overdue_instalments(request: HttpRequest, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """分期逾期: the caller's cases' instalments past due and not paid in full, the longest overdue first."""
    _business(request)
    today = timezone.localdate()
    rows = selectors.instalments_overdue(_user(request), today)
    return paged(
        rows, keys=("due_on", "id"), cursor=cursor, limit=limit, show=lambda i: overdue_json(overdue_row(i, today))
    )


@router.get("/{number}/instalments", response={200: ScheduleOut, **refusals(401, 403, 404, 422)})
def case_instalments(request: HttpRequest, number: str) -> dict[str, Any]:
    """The agreement's schedule with each payment (履行登记); payments are posted as the `payment` action."""
    _business(request)
    case = selectors.case_get(_user(request), number)
    try:
        agreement = case.agreement
    except Agreement.DoesNotExist:
        raise Http404 from None
    schedule = schedule_of(agreement, timezone.localdate())
    return {
        "agreement": agreement.number,
        "amount": str(agreement.amount) if agreement.amount is not None else None,
        "paid": str(schedule.paid),
        "outstanding": str(schedule.outstanding),
        "instalments": schedule_json(schedule),
    }


@router.get("/{number}", response={200: CaseDetailOut, **refusals(401, 403, 404, 422)})
def get_case(request: HttpRequest, number: str) -> dict[str, Any]:
    _business(request, "cases:read")
    return case_detail(selectors.case_get(_user(request), number, related=selectors.API_RELATED), _user(request))


class ActionOut(Schema):
    """The case after the action, what the caller may do next, and what the action made."""

    number: str
    state: str
    state_label: str
    version: int
    allowed_actions: list[str]
    result: dict[str, Any]


REFUSALS: dict[int, Any] = WRITE


def _action_endpoint(entry: catalogue.Action) -> Any:
    """POST /cases/{number}/actions/{name}: the catalogue's action, its body the action's schema."""

    def endpoint(request: HttpRequest, number: str, **kwargs: Any) -> dict[str, Any]:
        user = _user(request)
        _business(request, "cases:write")
        case = selectors.case_for_action(user, number)
        payload = kwargs.get("payload")
        done = actions.run(
            case=case,
            actor=user,
            name=entry.name,
            data=payload if payload is not None else {},
            upload=kwargs.get("file"),
            request=request,
        )
        return {
            **case_row(done.case),
            "allowed_actions": access.allowed_actions(user, done.case),
            "result": done.details,
        }

    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=HttpRequest),
        inspect.Parameter("number", inspect.Parameter.KEYWORD_ONLY, annotation=str),
    ]
    if entry.body.model_fields:
        parameters.append(inspect.Parameter("payload", inspect.Parameter.KEYWORD_ONLY, annotation=entry.body))
    if entry.upload:
        parameters.append(inspect.Parameter("file", inspect.Parameter.KEYWORD_ONLY, annotation=File[UploadedFile]))
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = f"case_{entry.name}"
    endpoint.__doc__ = str(entry.label)
    return endpoint


for _entry in catalogue.ACTIONS.values():
    router.post(
        f"/{{number}}/actions/{_entry.name}",
        response={200: ActionOut, **REFUSALS},
        operation_id=f"case_{_entry.name}",
        summary=str(_entry.label),
        url_name=f"case_action_{_entry.name}",
        description=(
            f"{_entry.label}。可办理的状态：{'、'.join(str(State(s).label) for s in _entry.states)}；"
            f"办理角色：{'、'.join(sorted(_entry.roles))}。"
            + ("请求体须带 `version`（您看到的案件版本），过期版本答 409。" if _entry.versioned else "")
        ),
    )(_action_endpoint(_entry))


@router.get(
    "/{number}/attachments/{aid}",
    response=refusals(401, 403, 404, 422),
    openapi_extra=file_answer(*services.ALLOWED_UPLOADS),
)
def download(request: HttpRequest, number: str, aid: Id) -> FileResponse:
    """Served only to those who may see the case (same 404 otherwise)."""
    _business(request)
    user = _user(request)
    case = selectors.case_for_action(user, number)
    attachment = get_object_or_404(case.attachments.filter(region_code=case.region_code), pk=aid)
    opened = services.attachment_download(case=case, attachment=attachment, actor=user)
    return FileResponse(opened, content_type=attachment.content_type, as_attachment=True, filename=attachment.name)
