"""Writes on the configurable case data: taxonomy, deadline policies, calendar, document names."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zongzhi import inputs
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record
from zongzhi.cases.models import CalendarDay, Case, Category, DeadlinePolicy, SupervisionName


def _audit(actor: Any, target: str, **detail: Any) -> None:
    audit_record(action=AuditEntry.Action.CONFIG_CHANGED, actor=actor, target=target, detail=detail)


def category_save(*, actor: Any, code: str, name: str, parent: Category | None = None, active: bool = True) -> Category:
    """Add a category (or rename / switch on and off an existing one, by code)."""
    code, name = code.strip(), name.strip()
    errors = inputs.text_errors(Category, {"code": code, "name": name})
    if not code or not code.replace(".", "").replace("_", "").isalnum() or not code.isascii():
        errors["code"] = [_("类别代码只能由字母、数字、点和下划线组成。")]
    if not name:
        errors["name"] = [_("请填写类别名称。")]
    if parent is not None and parent.code == code:
        errors["parent"] = [_("类别不能以自己为上级。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        category, _created = Category.objects.update_or_create(
            code=code,
            defaults={"name": name, "parent": parent, "active": active, "domain": parent.domain if parent else None},
        )
        _audit(actor, f"category:{code}", name=name, parent=parent.code if parent else None, active=active)
    return category


def policy_save(
    *,
    actor: Any,
    name: str,
    category: Category | None,
    risk_level: str,
    sign_for_days: int,
    handle_days: int,
    accept_days: int = 1,
) -> DeadlinePolicy:
    """Set the working days for a category and/or risk level (the most specific rule wins)."""
    errors = inputs.text_errors(DeadlinePolicy, {"name": name})
    if risk_level and risk_level not in Case.Risk.values:
        errors["risk_level"] = [_("未知风险等级。")]
    if not 1 <= accept_days <= 10:
        errors["accept_days"] = [_("受理时限应在 1 到 10 个工作日之间。")]
    if not 1 <= sign_for_days <= 10:
        errors["sign_for_days"] = [_("签收时限应在 1 到 10 个工作日之间。")]
    if not 1 <= handle_days <= 90:
        errors["handle_days"] = [_("办理时限应在 1 到 90 个工作日之间。")]
    if not name.strip():
        errors["name"] = [_("请填写规则名称。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy, _created = DeadlinePolicy.objects.update_or_create(
            category=category,
            risk_level=risk_level,
            defaults={
                "name": name.strip(),
                "accept_days": accept_days,
                "sign_for_days": sign_for_days,
                "handle_days": handle_days,
            },
        )
        _audit(
            actor,
            f"policy:{policy.pk}",
            category=category.code if category else None,
            risk=risk_level,
            accept_days=accept_days,
            sign_for_days=sign_for_days,
            handle_days=handle_days,
        )
    return policy


def calendar_set(*, actor: Any, day: datetime.date, workday: bool, name: str = "") -> CalendarDay:
    """Mark a date as a holiday, or a weekend as a working day (调休)."""
    inputs.check_text(CalendarDay, {"name": name})
    if workday == (day.isoweekday() <= 5) and not CalendarDay.objects.filter(day=day).exists():
        raise ValidationError(
            {
                "workday": [
                    _("%(d)s 本来就是%(w)s，无需设置。") % {"d": day, "w": _("工作日") if workday else _("休息日")}
                ]
            }
        )
    with transaction.atomic():
        entry, _created = CalendarDay.objects.update_or_create(
            day=day, defaults={"workday": workday, "name": name.strip()}
        )
        _audit(actor, f"calendar:{day}", workday=workday, name=name.strip())
    return entry


def supervision_rename(*, actor: Any, kind: str, name: str) -> None:
    inputs.check_text(SupervisionName, {"name": name}, labels={"name": _("文书名称")})
    if not name.strip() or len(name.strip()) > 30:
        raise ValidationError({"name": [_("文书名称应为 1–30 个字。")]})
    with transaction.atomic():
        SupervisionName.objects.update_or_create(kind=kind, defaults={"name": name.strip()})
        _audit(actor, f"supervision_name:{kind}", name=name.strip())
