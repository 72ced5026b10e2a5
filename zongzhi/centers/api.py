"""/api/v1/centers and /orgs: the centers of the caller's jurisdiction, their rooms, the agencies and
who is stationed where (入驻), with who is on duty on a given day."""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from zongzhi import access
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, WRITE, Cursor, Filter, Limit, page_schema, paged
from zongzhi.centers import services
from zongzhi.centers.models import Center, Org, Presence
from zongzhi.centers.selectors import center_get, centers_visible, orgs_visible, presences_of
from zongzhi.regions.selectors import region_get

router = Router(tags=["centers"])


class RoomOut(Schema):
    zone: str
    kind: str
    name: str


class PresenceOut(Schema):
    org: str
    org_name: str
    center: str
    center_name: str
    mode: str
    weekdays: list[int]
    on_duty_today: bool  # on the day asked for (today unless `day` is given)


class CenterOut(Schema):
    code: str
    name: str
    level: str
    region: str
    address: str
    phone: str
    parent: str | None


class CenterDetailOut(CenterOut):
    day: datetime.date
    rooms: list[RoomOut]
    presences: list[PresenceOut]


class OrgOut(Schema):
    code: str
    kind: str
    kind_label: str
    name: str
    region: str
    mediator_name: str
    political_legal: bool


class OrgDetailOut(OrgOut):
    domains: list[str]
    presences: list[PresenceOut]


def _scope(request: HttpRequest, permission: str = "centers:read") -> access.Scope:
    require_resource(request, permission)
    return access.business_scope(request.user)


def _center(c: Center) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "level": c.level,
        "region": c.region_code,
        "address": c.address,
        "phone": c.phone,
        "parent": c.parent.code if c.parent else None,
    }


def _presence(p: Presence, day: datetime.date) -> dict[str, Any]:
    return {
        "org": p.org.code,
        "org_name": p.org.name,
        "center": p.center.code,
        "center_name": p.center.name,
        "mode": p.mode,
        "weekdays": p.weekdays,
        "on_duty_today": p.on_duty(day),
    }


def _org(o: Org) -> dict[str, Any]:
    return {
        "code": o.code,
        "kind": o.kind,
        "kind_label": o.get_kind_display(),
        "name": o.name,
        "region": o.region_code,
        "mediator_name": o.mediator_name,
        "political_legal": o.political_legal,
    }


@router.get("/centers", response={200: page_schema(CenterOut), **READ})
def centers(
    request: HttpRequest, level: Filter = "", region: Filter = "", cursor: Cursor = "", limit: Limit = 50
) -> dict[str, Any]:
    """Centers of the jurisdiction by code; `level` (league, county, township, village) and `region` narrow it."""
    scope = _scope(request)
    under = region_get(scope, region).prefix if region else None
    rows = centers_visible(scope, level=level or None, under=under).select_related("parent")
    return paged(rows, keys=("code",), cursor=cursor, limit=limit, show=_center)


@router.get("/centers/{code}", response={200: CenterDetailOut, **READ})
def center(request: HttpRequest, code: str, day: datetime.date | None = None) -> dict[str, Any]:
    """A center with its rooms and the agencies stationed there, each saying whether it is on duty on `day` (today)."""
    scope = _scope(request)
    found = center_get(scope, code)
    on = day or timezone.localdate()
    return {
        **_center(found),
        "day": on,
        "rooms": [{"zone": r.zone, "kind": r.kind, "name": r.name} for r in found.rooms.all()],
        "presences": [_presence(p, on) for p in found.presences.all()],
    }


@router.get("/orgs", response={200: page_schema(OrgOut), **READ})
def orgs(
    request: HttpRequest,
    kind: Filter = "",
    region: Filter = "",
    name: Filter = "",
    cursor: Cursor = "",
    limit: Limit = 50,
) -> dict[str, Any]:
    """Agencies of the caller's jurisdiction by code; `kind`, `region` and `name` (a part of it) narrow it."""
    scope = _scope(request)
    rows = orgs_visible(scope)
    if region:
        rows = rows.filter(access.Scope(prefixes=(region_get(scope, region).prefix,)).q())
    if kind:
        rows = rows.filter(kind=kind)
    if name.strip():
        rows = rows.filter(name__contains=name.strip())
    return paged(rows, keys=("code",), cursor=cursor, limit=limit, show=_org)


@router.get("/orgs/{code}", response={200: OrgDetailOut, **READ})
def org(request: HttpRequest, code: str, day: datetime.date | None = None) -> dict[str, Any]:
    """An agency, the dispute domains it handles and the centers it is stationed at."""
    scope = _scope(request)
    found = get_object_or_404(orgs_visible(scope).prefetch_related("domains"), code=code)
    on = day or timezone.localdate()
    return {
        **_org(found),
        "domains": [d.name for d in found.domains.all()],
        "presences": [_presence(p, on) for p in presences_of([found])],
    }


# ---- presence (入驻) ------------------------------------------------------------------------------


class PresenceIn(Schema):
    """Station an org at a center, or change how: `mode` resident|rotating|on_call (or 常驻/轮驻/随驻),
    `weekdays` 1 (Monday) – 7 for a rotating org."""

    org: str
    center: str
    mode: str
    weekdays: list[int] = []


def _mode(typed: str) -> str:
    for value, label in Presence.Mode.choices:
        if typed.strip() in (value, str(label)):
            return str(value)
    return typed  # the service names the field


@router.post("/presences", response={200: PresenceOut, **WRITE}, tags=["centers"])
def presence_new(request: HttpRequest, payload: PresenceIn) -> dict[str, Any]:
    """The system administrator's setting, as on the page (`/staff/centers/presence/`); audited.

    Configuration, not business: another system never sets it (a service account holds no administrator
    right, 三员分立), and a business role neither.
    """
    require_resource(request, "centers:write")
    if access.is_service_account(request.user) or not access.may_manage_accounts(request.user):
        raise PermissionDenied(_("入驻由系统管理员设置（服务账号和业务角色不能设置）。"))
    errors: dict[str, list[str]] = {}
    org = Org.objects.filter(code=payload.org.strip()[:30]).first()
    if org is None:
        errors["org"] = [_("单位“%(c)s”不存在。") % {"c": payload.org.strip()[:30]}]
    center = Center.objects.filter(code=payload.center.strip()[:20]).first()
    if center is None:
        errors["center"] = [_("综治中心“%(c)s”不存在。") % {"c": payload.center.strip()[:20]}]
    if errors:
        raise ValidationError(errors)
    assert org is not None and center is not None
    services.presence_set(
        actor=request.user, org=org, center=center, mode=_mode(payload.mode), weekdays=payload.weekdays, request=request
    )
    found = Presence.objects.select_related("org", "center").get(org=org, center=center)
    return _presence(found, timezone.localdate())
