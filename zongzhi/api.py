"""JSON API under /api/v1/ (OpenAPI at /api/v1/docs). Same selectors, same access as the pages."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import create_model

from zongzhi import access
from zongzhi.accounts.decorators import staff_page
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, Filter, Out
from zongzhi.cases import actions, catalogue
from zongzhi.cases.api import router as cases_router
from zongzhi.cases.models import State
from zongzhi.cases.workflow import Conflict
from zongzhi.centers.api import router as centers_router
from zongzhi.dashboards.api import router as dashboards_router
from zongzhi.field.api import router as field_router
from zongzhi.grid.api import router as grid_router
from zongzhi.home.api import router as open_days_router
from zongzhi.integration.services import token_authenticate
from zongzhi.meetings.api import router as meetings_router
from zongzhi.outbox.api import router as events_router
from zongzhi.outbox.api import sms_router, webhooks_router
from zongzhi.regions import codes
from zongzhi.regions.api import router as regions_router
from zongzhi.regions.selectors import region_get
from zongzhi.stats import platform_stats
from zongzhi.transfer.api import router as transfer_router


class VerifiedSession(SessionAuth):
    """A logged-in session that passed both factors."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and user.is_verified():
            return user
        return None


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` of a service account (zongzhi.integration); never CSRF-checked.

    A token that is unknown, expired, revoked or of a deactivated account is refused (401) outright,
    rather than falling through to the session's CSRF check. People have no tokens.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_authenticate(request, token)
        if found is None:
            raise HttpError(401, _("令牌无效、已过期或已吊销。"))
        request.user = found.account.user
        return found.account.user


api = NinjaAPI(
    title="综治平台 API",
    version="1",
    urls_namespace="api",
    # The token first: the session's CSRF check refuses any POST without a CSRF cookie before the next
    # method is tried, which would shut service accounts out of every write.
    auth=[BearerToken(), VerifiedSession()],
    docs_url="/docs",  # Swagger UI from ninja's own static files ("ninja" is an installed app)
    # In production the docs and openapi.json are for logged-in staff only (docs/security.md).
    docs_decorator=staff_page() if settings.PROD else None,
)


def _business(request: HttpRequest, resource: str) -> access.Scope:
    require_resource(request, resource)
    if not access.may_read_business(request.user):
        raise HttpError(403, "您的角色无权读取业务数据。")
    return access.scope_of(request.user)


class MembershipOut(Schema):
    role: str
    role_label: str
    org: str | None
    center: str | None


class MeOut(Schema):
    username: str
    full_name: str
    roles: list[MembershipOut]
    jurisdictions: list[str]


@api.get("/me", response={200: MeOut, **READ})
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.get_username(),
        "full_name": user.full_name,  # type: ignore[union-attr]
        "roles": [
            {
                "role": m.role,
                "role_label": m.get_role_display(),
                "org": m.org.code if m.org else None,
                "center": m.center.code if m.center else None,
            }
            for m in user.memberships.select_related("org", "center")  # type: ignore[union-attr]
        ],
        "jurisdictions": list(user.jurisdictions.values_list("region__code", flat=True)),  # type: ignore[union-attr]
    }


# One field per region level and per case state, named as in the code (`village`, `in_progress`).
RegionCountsOut = create_model("RegionCountsOut", __base__=Out, **{level: (int, ...) for level in codes.LEVELS})  # type: ignore[call-overload]
CaseCountsOut = create_model("CaseCountsOut", __base__=Out, **{state: (int, ...) for state in State.values})  # type: ignore[call-overload]


class StatsOut(Out):
    """The platform figures under the caller's jurisdiction (or `region` in it)."""

    regions: RegionCountsOut  # type: ignore[valid-type]
    centers: int
    orgs: int
    accounts: int
    grids: int
    grid_workers: int
    party_groups: int
    block_heads: int
    households: int
    residents: int
    claimed_residents: int
    claim_rate: float | None  # claimed / registered residents, 0–1; null with no resident registered
    cases: CaseCountsOut  # type: ignore[valid-type]


@api.get("/stats", response={200: StatsOut, **READ}, tags=["dashboards"])
def stats(request: HttpRequest, region: Filter = "") -> dict[str, Any]:
    """The platform figures of `platform_stats`, for the caller's jurisdiction."""
    scope = _business(request, "dashboards:read")
    if region:
        found = region_get(scope, region)
        scope = access.Scope.of_region(found.code, found.level)
    return platform_stats(scope)


api.add_router("/cases", cases_router)
for _router in (
    regions_router,
    centers_router,
    grid_router,
    field_router,
    meetings_router,
    transfer_router,
    dashboards_router,
    open_days_router,
):
    api.add_router("", _router)
api.add_router("/events", events_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/sms", sms_router)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> Any:
    return api.create_response(
        request, {"detail": "请先登录（会话与动态口令），或带上有效的访问令牌（Bearer）。"}, status=401
    )


@api.exception_handler(HttpError)
def refused(request: HttpRequest, exc: HttpError) -> Any:
    """ninja's own refusals; a body that is not JSON at all is bad input like any other (422, never 400)."""
    if exc.status_code == 400:
        message = "请求体不是有效的 JSON（或表单），无法读取。"
        return api.create_response(request, {"detail": message, "errors": {"body": [message]}}, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> Any:
    return api.create_response(request, {"detail": "未找到。"}, status=404)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> Any:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    detail = "；".join(m for messages in errors.values() for m in messages)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(NinjaValidationError)
def invalid_body(request: HttpRequest, exc: NinjaValidationError) -> Any:
    """A body or query that does not fit its schema: the same Chinese messages by field as the pages give."""
    name = getattr(request.resolver_match, "url_name", "") or ""
    entry = catalogue.ACTIONS.get(name.removeprefix("case_action_")) if name.startswith("case_action_") else None
    errors = actions.messages_of(entry.body if entry else None, exc.errors)
    detail = "；".join(m for messages in errors.values() for m in messages)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> Any:
    return api.create_response(request, {"detail": str(exc) or "无权执行该操作。"}, status=403)


@api.exception_handler(Conflict)
def conflict(request: HttpRequest, exc: Conflict) -> Any:
    return api.create_response(request, {"detail": str(exc), "version": exc.case.version}, status=409)
