"""Open311 GeoReport v2 at /open311/v2/: a 12345 hotline or a civic app sends cases without custom code.

discovery, services (the case categories), requests (POST creates a case through intake, with the
channel configured for the service account; GET lists and shows them), each as .json or .xml.
The api_key is a service account's token (query, form field or `Authorization: Bearer`); requests
need it, with the account's `cases:write` to post and `cases:read` to read. Errors are Open311's
list of {code, description}. See docs/open311.md.
"""

import datetime
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from zongzhi import access
from zongzhi.api_access import require_resource
from zongzhi.cases import services as case_services
from zongzhi.cases.models import Case, Category, Party, State
from zongzhi.cases.selectors import by_number
from zongzhi.integration import selectors, services
from zongzhi.integration.models import ServiceToken
from zongzhi.regions import codes
from zongzhi.regions.models import Region

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
CLOSED_STATES = {State.CLOSED, State.REJECTED, State.WITHDRAWN}
MAX_RESULTS = 1000
DEFAULT_DAYS = 90  # GET requests without dates: the last 90 days, as the specification suggests
# Plural and singular element names of the XML bodies (the JSON bodies are the same lists).
XML_NAMES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


class Open311Error(Exception):
    """An answer of Open311's error list: one code, one or more descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(descriptions[0])
        self.status = status
        self.descriptions = descriptions


def _xml(value: Any, tag: str) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_xml(item, key))
    elif isinstance(value, list):
        # A list inside an item (keywords, endpoints' formats): each under the singular of its name.
        child = "format" if tag == "formats" else "endpoint" if tag == "endpoints" else "item"
        if tag == "keywords":
            element.text = ",".join(str(v) for v in value)
        else:
            for item in value:
                element.append(_xml(item, child))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def _render(data: Any, fmt: str, kind: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        if kind == "discovery":
            root = _xml(data, "discovery")
        else:
            plural, singular = XML_NAMES[kind]
            root = ElementTree.Element(plural)
            for item in data:
                root.append(_xml(item, singular))
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="unicode").encode()
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def _endpoint(kind: str) -> Callable[[Callable[..., Any]], Callable[..., HttpResponse]]:
    """Render what the view returns in the asked format; Open311 errors as Open311's error list."""

    def wrap(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # the api_key authenticates, never a session cookie: nothing for a forged form to ride on
        def endpoint(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in FORMATS:
                return _render([{"code": 404, "description": _("格式应为 .json 或 .xml。")}], "json", "errors", 404)
            try:
                status, data = view(request, **kwargs)
            except Open311Error as error:
                errors = [{"code": error.status, "description": d} for d in error.descriptions]
                return _render(errors, fmt, "errors", error.status)
            except PermissionDenied as error:
                return _render([{"code": 403, "description": str(error)}], fmt, "errors", 403)
            return _render(data, fmt, kind, status)

        endpoint.__name__ = view.__name__
        return endpoint

    return wrap


def _methods(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise Open311Error(405, _("不支持的请求方法 %(m)s。") % {"m": request.method})


def _account(request: HttpRequest, permission: str) -> ServiceToken:
    """The service account of the api_key, holding `permission`; 403 otherwise."""
    raw = services.bearer_of(request) or request.POST.get("api_key") or request.GET.get("api_key")
    if not raw:
        raise Open311Error(403, _("缺少 api_key（服务账号的令牌）。"))
    token = services.token_authenticate(request, raw)
    if token is None:
        raise Open311Error(403, _("api_key 无效、已过期或已吊销。"))
    require_resource(request, permission)
    return token


@_endpoint("discovery")
def discovery(request: HttpRequest) -> tuple[int, Any]:
    _methods(request, "GET")
    base = request.build_absolute_uri("/open311/v2/")
    return 200, {
        "changeset": "2026-12-01T00:00:00+08:00",
        "contact": _("锡林郭勒盟综治中心（电话 12345）"),
        "key_service": _("api_key 即服务账号令牌，由安全管理员在“服务账号”页面签发。"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-12-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": _(category.name),
        "description": _(category.name),
        "metadata": False,  # no extra attributes: a request needs only the fields of the specification
        "type": "realtime",
        "keywords": [category.code],
        "group": _(category.parent.name) if category.parent else _(category.name),
    }


@_endpoint("services")
def service_list(request: HttpRequest) -> tuple[int, Any]:
    _methods(request, "GET")
    return 200, [_service(c) for c in selectors.open311_services()]


def _status(case: Case) -> str:
    return "closed" if case.state in CLOSED_STATES else "open"


def _local(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _request(case: Case) -> dict[str, Any]:
    return {
        "service_request_id": case.number,
        "status": _status(case),
        "status_notes": str(case.get_state_display()),
        "service_name": _(case.category.name),
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": case.center.name,
        "service_notice": "",
        "requested_datetime": _local(case.registered_at),
        "updated_datetime": _local(getattr(case, "updated_at", None) or case.registered_at),
        "expected_datetime": _local(case.due_at) if case.is_open else None,
        "address": case.location,
        "address_id": "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lng,
        "media_url": "",
    }


def _float(request: HttpRequest, name: str) -> float | None:
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Open311Error(400, _("%(f)s：“%(v)s”不是数字。") % {"f": name, "v": raw[:30]}) from None


def _region(request: HttpRequest, token: ServiceToken) -> Region:
    """jurisdiction_id (a region code inside the account's jurisdiction), else the account's own region."""
    wanted = request.POST.get("jurisdiction_id", "").strip()
    if wanted:
        region = Region.objects.filter(code=codes.full_code(wanted)).first() if wanted.isdigit() else None
        if region is None or not access.scope_of(token.account.user).covers(region.code):
            raise Open311Error(400, _("jurisdiction_id：区划“%(c)s”不存在或不在本账号的辖区内。") % {"c": wanted[:20]})
        return region
    own = token.account.user.jurisdictions.select_related("region").order_by("prefix").first()
    if own is None:
        raise Open311Error(403, _("服务账号没有辖区，请联系安全管理员。"))
    return own.region


def _create(request: HttpRequest) -> tuple[int, Any]:
    token = _account(request, "cases:write")
    form = request.POST
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code：缺少服务代码。"))
    category = selectors.open311_services().filter(code=code).first()
    if category is None:
        raise Open311Error(400, _("service_code：未知的服务代码“%(c)s”。") % {"c": code[:40]})
    lat, lng = _float(request, "lat"), _float(request, "long")
    address = form.get("address_string", "").strip()
    if (lat is None or lng is None) and not address and not form.get("address_id", "").strip():
        raise Open311Error(400, _("位置：请提供 lat 和 long，或 address_string。"))
    description = form.get("description", "").strip()
    name = (form.get("last_name", "").strip() + form.get("first_name", "").strip()) or _("来电群众")
    first_line = description.splitlines()[0] if description else ""
    account = token.account
    try:
        case = case_services.case_intake(
            actor=account.user,
            channel=account.open311_channel,
            category=category,
            title=f"{_(category.name)}：{first_line}"[:40],
            description=description,
            region=_region(request, token),
            location=address[:200],
            lat=lat,
            lng=lng,
            parties=[
                case_services.PartyInput(
                    kind=Party.Kind.PERSON,
                    role=Party.Role.APPLICANT,
                    name=name[:100],
                    phone=form.get("phone", "").strip(),
                )
            ],
        )
    except ValidationError as error:
        raise Open311Error(
            400, *(f"{field}：{m}" for field, messages in error.message_dict.items() for m in messages)
        ) from None
    notice = _("已登记，等待%(c)s受理。") % {"c": case.center.name}
    return 200, [{"service_request_id": case.number, "service_notice": notice, "account_id": None}]


def _date(request: HttpRequest, name: str) -> datetime.datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw.replace(" ", "+"))  # a "+" of a zone offset arrives as a space
    except ValueError:
        moment = None
    if moment is None:
        raise Open311Error(400, _("%(f)s：“%(v)s”不是 ISO 8601 时间。") % {"f": name, "v": raw[:40]})
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _search(request: HttpRequest) -> tuple[int, Any]:
    token = _account(request, "cases:read")
    cases = selectors.open311_requests(token.account.user)
    numbers = [n.strip() for n in request.GET.get("service_request_id", "").split(",") if n.strip()]
    if numbers:  # by id the other filters do not apply (the specification)
        return 200, [_request(c) for c in cases.filter(number__in=numbers[:MAX_RESULTS])]
    if request.GET.get("service_code"):
        cases = cases.filter(category__code__in=request.GET["service_code"].split(","))
    start, end = _date(request, "start_date"), _date(request, "end_date")
    if start is None and end is None:
        start = timezone.now() - datetime.timedelta(days=DEFAULT_DAYS)
    if start is not None:
        cases = cases.filter(registered_at__gte=start)
    if end is not None:
        cases = cases.filter(registered_at__lte=end)
    status = request.GET.get("status", "").strip()
    if status:
        if status not in ("open", "closed"):
            raise Open311Error(400, _("status：应为 open 或 closed。"))
        cases = cases.filter(state__in=CLOSED_STATES) if status == "closed" else cases.exclude(state__in=CLOSED_STATES)
    return 200, [_request(c) for c in cases[:MAX_RESULTS]]


@_endpoint("requests")
def requests(request: HttpRequest) -> tuple[int, Any]:
    _methods(request, "GET", "POST")
    return _create(request) if request.method == "POST" else _search(request)


@_endpoint("requests")
def request_detail(request: HttpRequest, number: str) -> tuple[int, Any]:
    _methods(request, "GET")
    token = _account(request, "cases:read")
    case = selectors.open311_requests(token.account.user).filter(by_number(number)).first()
    if case is None:  # missing or not this account's: the same answer
        raise Open311Error(404, _("未找到服务请求“%(n)s”。") % {"n": number[:30]})
    return 200, [_request(case)]


urlpatterns = [
    path("discovery.<str:fmt>", discovery, name="open311_discovery"),
    path("services.<str:fmt>", service_list, name="open311_services"),
    path("requests.<str:fmt>", requests, name="open311_requests"),
    path("requests/<str:number>.<str:fmt>", request_detail, name="open311_request"),
]
