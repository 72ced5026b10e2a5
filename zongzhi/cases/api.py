"""/api/v1/cases: intake, lists, the case, its transitions and sub-resources; the same services as the pages."""

import datetime
import inspect
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
from zongzhi.api_access import require_resource
from zongzhi.cases import actions, catalogue, selectors, services
from zongzhi.cases.models import Category, State
from zongzhi.cases.presenters import case_detail, case_row, intake_result
from zongzhi.regions.models import Region

router = Router(tags=["cases"])


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _business(request: HttpRequest, resource: str) -> None:
    require_resource(request, resource)
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


def _lookup(model: Any, field: str, value: str, label: str) -> Any:
    found = model.objects.filter(**{field: value}).first()
    if found is None:
        raise ValidationError({label: [_("“%(v)s”不存在。") % {"v": value}]})
    return found


@router.post("", response={201: dict})
def create_case(request: HttpRequest, payload: CaseIn) -> Status:
    """Register a dispute (受理登记); the caller becomes its accountable owner."""
    _business(request, "cases:write")
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
    _business(request, "cases:read")
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
    _business(request, "cases:read")
    return case_detail(selectors.case_get(_user(request), number, related=selectors.API_RELATED), _user(request))


class ErrorOut(Schema):
    """Why a request was refused: a Chinese message, and for 422 the messages by field."""

    detail: str
    errors: dict[str, list[str]] | None = None
    version: int | None = None


class ActionOut(Schema):
    """The case after the action, what the caller may do next, and what the action made."""

    number: str
    state: str
    state_label: str
    version: int
    allowed_actions: list[str]
    result: dict[str, Any]


REFUSALS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


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


@router.get("/{number}/attachments/{aid}")
def download(request: HttpRequest, number: str, aid: int) -> FileResponse:
    """Served only to those who may see the case (same 404 otherwise)."""
    require_resource(request, "cases:read")
    user = _user(request)
    case = selectors.case_for_action(user, number)
    attachment = get_object_or_404(case.attachments.all(), pk=aid)
    opened = services.attachment_download(case=case, attachment=attachment, actor=user)
    return FileResponse(opened, content_type=attachment.content_type, as_attachment=True, filename=attachment.name)
