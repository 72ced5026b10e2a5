"""JSON API under /api/v1/ (OpenAPI at /api/v1/docs). Same selectors, same access as the pages."""

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from zongzhi import access
from zongzhi.accounts.decorators import staff_page
from zongzhi.accounts.services import token_user
from zongzhi.cases import actions, catalogue
from zongzhi.cases.api import router as cases_router
from zongzhi.cases.workflow import Conflict
from zongzhi.centers.selectors import center_duty, center_get, centers_visible
from zongzhi.grid.selectors import resident_search
from zongzhi.identity import mask_phone, mask_resident_id
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import Figures, region_children, region_figures, region_get, region_roots
from zongzhi.stats import platform_stats


class VerifiedSession(SessionAuth):
    """A logged-in session that passed both factors."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and user.is_verified():
            return user
        return None


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` from `manage.py issue_token`: a service account."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_user(token)
        if user is not None:
            request.user = user
        return user


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


def _business(request: HttpRequest) -> access.Scope:
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


class FiguresOut(Schema):
    regions: dict[str, int]
    centers: int
    grid_workers: int
    party_groups: int
    block_heads: int


class RegionOut(Schema):
    code: str
    level: str
    kind: str
    name: str
    name_mn: str
    pastoral: bool
    parent: str | None
    centroid: list[float] | None


class RegionChildOut(RegionOut):
    figures: FiguresOut


class RegionDetailOut(RegionOut):
    figures: FiguresOut
    boundary: dict | None


class RoomOut(Schema):
    zone: str
    kind: str
    name: str


class PresenceOut(Schema):
    org: str
    org_name: str
    mode: str
    weekdays: list[int]
    on_duty_today: bool


class CenterOut(Schema):
    code: str
    name: str
    level: str
    region: str


class CenterDetailOut(CenterOut):
    rooms: list[RoomOut]
    presences: list[PresenceOut]


def _region(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "level": region.level,
        "kind": region.kind,
        "name": region.name,
        "name_mn": region.name_mn,
        "pastoral": region.pastoral,
        "parent": region.parent.code if region.parent_id and region.parent else None,
        "centroid": [region.centroid_lng, region.centroid_lat] if region.centroid_lng is not None else None,
    }


def _figures(figures: Figures) -> dict[str, Any]:
    return figures.__dict__


@api.get("/me", response=MeOut)
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


@api.get("/regions", response=list[RegionOut])
def regions(request: HttpRequest) -> list[dict[str, Any]]:
    """The top regions of the caller's jurisdiction."""
    scope = _business(request)
    return [_region(r) for r in region_roots(scope).select_related("parent")]


@api.get("/regions/{code}", response=RegionDetailOut)
def region(request: HttpRequest, code: str) -> dict[str, Any]:
    scope = _business(request)
    found = region_get(scope, code)
    return {**_region(found), "figures": _figures(region_figures(scope, found)), "boundary": found.boundary}


@api.get("/regions/{code}/children", response=list[RegionChildOut])
def region_children_api(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    scope = _business(request)
    parent = region_get(scope, code)
    return [{**_region(child), "figures": _figures(figures)} for child, figures in region_children(scope, parent)]


@api.get("/centers", response=list[CenterOut])
def centers(request: HttpRequest, level: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
    scope = _business(request)
    under = region_get(scope, region).prefix if region else None
    return [
        {"code": c.code, "name": c.name, "level": c.level, "region": c.region_code}
        for c in centers_visible(scope, level=level, under=under)[:1000]
    ]


@api.get("/centers/{code}", response=CenterDetailOut)
def center(request: HttpRequest, code: str, day: datetime.date | None = None) -> dict[str, Any]:
    scope = _business(request)
    found = center_get(scope, code)
    duty = center_duty(found, day or timezone.localdate())
    on_duty = {p.pk for p in duty.on_duty}
    return {
        "code": found.code,
        "name": found.name,
        "level": found.level,
        "region": found.region_code,
        "rooms": [{"zone": r.zone, "kind": r.kind, "name": r.name} for r in found.rooms.all()],
        "presences": [
            {
                "org": p.org.code,
                "org_name": p.org.name,
                "mode": p.mode,
                "weekdays": p.weekdays,
                "on_duty_today": p.pk in on_duty,
            }
            for p in found.presences.all()
        ],
    }


@api.get("/stats")
def stats(request: HttpRequest, region: str | None = None) -> dict[str, Any]:
    """The platform figures of `platform_stats`, for the caller's jurisdiction."""
    scope = _business(request)
    if region:
        found = region_get(scope, region)
        scope = access.Scope.of_region(found.code, found.level)
    return platform_stats(scope)


@api.get("/residents")
def residents(request: HttpRequest, q: str) -> list[dict[str, Any]]:
    """Residents by name (1–2 characters: prefix) or exact ID, in the caller's jurisdiction; masked."""
    scope = _business(request)
    return [
        {
            "id": r.pk,
            "name": r.name,
            "household": r.household.code,
            "grid": r.region_code,
            "id_number": mask_resident_id(r.id_number),
            "phone": mask_phone(r.phone),
            "relation": r.relation,
        }
        for r in resident_search(scope, q)
    ]


api.add_router("/cases", cases_router)


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
