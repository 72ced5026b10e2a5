"""Writes on centers and the presence of orgs at them."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from zongzhi import access
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.centers.models import Center, Org, Presence, ServiceArea
from zongzhi.regions import codes
from zongzhi.regions.models import Region


def weekday_errors(mode: str, weekdays: list[int]) -> list[str]:
    """Why a rota cannot stand: days out of 1–7, repeated, or a rota without days."""
    bad = [d for d in weekdays if not isinstance(d, int) or not 1 <= d <= 7]
    if bad:
        return [_("轮驻日只能是 1（周一）到 7（周日），收到 %(bad)s。") % {"bad": ", ".join(map(str, bad))}]
    if len(set(weekdays)) != len(weekdays):
        return [_("轮驻日有重复。")]
    if mode == Presence.Mode.ROTATING and not weekdays:
        return [_("轮驻单位至少要有一个轮驻日。")]
    if mode != Presence.Mode.ROTATING and weekdays:
        return [_("只有轮驻单位需要填写轮驻日。")]
    return []


def presence_set(
    *, actor: object, org: Org, center: Center, mode: str, weekdays: list[int], request: HttpRequest | None = None
) -> Presence:
    """Station an org at a center, or change how it is stationed."""
    errors: dict[str, list[str]] = {}
    if mode not in Presence.Mode.values:
        errors["mode"] = [_("未知入驻方式“%(mode)s”。") % {"mode": mode}]
    elif problems := weekday_errors(mode, weekdays):
        errors["weekdays"] = problems
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        presence, _created = Presence.objects.update_or_create(
            org=org, center=center, defaults={"mode": mode, "weekdays": sorted(weekdays)}
        )
        audit_record(
            action=AuditEntry.Action.PRESENCE_SET,
            actor=actor,
            target=f"{org.code}@{center.code}",
            request=request,
            detail={"mode": mode, "weekdays": sorted(weekdays)},
        )
    return presence


def service_area_add(*, actor: Any, org: Org, region: Region, request: HttpRequest | None = None) -> ServiceArea:
    """Let an org take cases of a region outside its own county (a league department, a listed partner).

    Configuration: the system administrator on the page or the command line (`actor` None).
    """
    if actor is not None and not access.may_manage_accounts(actor):
        raise PermissionDenied(_("只有系统管理员可以设置跨辖区服务范围。"))
    if region.prefix.startswith(org.region_code[:6]):
        raise ValidationError(
            {"region": [_("服务区划“%(r)s”在“%(o)s”本旗县之内，无需设置。") % {"r": region.name, "o": org.name}]}
        )
    with transaction.atomic():
        area, created = ServiceArea.objects.get_or_create(org=org, region=region, defaults={"prefix": region.prefix})
        if created:
            _widen_reach(org, region.prefix)
            audit_record(
                action=AuditEntry.Action.SERVICE_AREA_ADDED,
                actor=actor,
                actor_name="cli" if actor is None else "",
                target=org.code,
                request=request,
                detail={"org": org.code, "region": region.code},
            )
    return area


def _widen_reach(org: Org, prefix: str) -> None:
    """Let the org's reach (`Org.reach_from`/`reach_to`) hold the codes under `prefix`, under its row's lock
    so two areas added at once both count."""
    locked = Org.objects.select_for_update().get(pk=org.pk)
    spans = [codes.span([prefix])] + ([(locked.reach_from, locked.reach_to)] if locked.reach_from else [])
    locked.reach_from, locked.reach_to = codes.widest(spans)
    locked.save(update_fields=["reach_from", "reach_to"])
    org.reach_from, org.reach_to = locked.reach_from, locked.reach_to


def service_area_remove(*, actor: Any, area: ServiceArea, request: HttpRequest | None = None) -> None:
    """Stop an org taking new cases of that region (cases already pushed to it stay with it)."""
    if actor is not None and not access.may_manage_accounts(actor):
        raise PermissionDenied(_("只有系统管理员可以设置跨辖区服务范围。"))
    with transaction.atomic():
        detail = {"org": area.org.code, "region": area.region.code}
        area.delete()
        audit_record(
            action=AuditEntry.Action.SERVICE_AREA_REMOVED,
            actor=actor,
            actor_name="cli" if actor is None else "",
            target=detail["org"],
            request=request,
            detail=detail,
        )
