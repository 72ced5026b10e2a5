"""Writes on centers and the presence of orgs at them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.centers.models import Center, Org, Presence


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
