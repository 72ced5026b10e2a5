"""Writes on the region tree."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from zongzhi import inputs
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.regions import codes
from zongzhi.regions.models import Region

DEFAULT_KIND = {
    codes.LEAGUE: "league",
    codes.COUNTY: "banner",
    codes.TOWNSHIP: "sumu",
    codes.VILLAGE: "gacha",
    codes.GRID: "grid",
}


def region_create(
    *,
    actor: object,
    code: str,
    level: str,
    parent: Region | None,
    name: str,
    name_mn: str = "",
    kind: str = "",
    pastoral: bool = False,
    request: HttpRequest | None = None,
) -> Region:
    """Add a region under its parent; the code must sit under the parent's prefix."""
    code = code.strip()
    errors = inputs.text_errors(Region, {"code": code, "name": name, "name_mn": name_mn, "kind": kind})
    if level not in codes.LEVELS:
        errors["level"] = [_("未知层级“%(level)s”。") % {"level": level}]
    else:
        code_problems = codes.code_errors(
            code, level, parent.code if parent else None, parent.level if parent else None
        )
        if code_problems:
            errors["code"] = code_problems
    if not name.strip():
        errors["name"] = [_("请填写名称。")]
    if "code" not in errors and Region.objects.filter(code=code).exists():
        errors["code"] = [_("区划代码“%(code)s”已存在。") % {"code": code}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        region = Region.objects.create(
            code=code,
            level=level,
            parent=parent,
            name=name.strip(),
            name_mn=name_mn.strip(),
            kind=kind or DEFAULT_KIND[level],
            pastoral=pastoral,
        )
        audit_record(
            action=AuditEntry.Action.REGION_CREATED,
            actor=actor,
            target=code,
            request=request,
            detail={"name": region.name},
        )
    return region
