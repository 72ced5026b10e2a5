"""What every service checks in what people type, before the database sees it.

PostgreSQL refuses a string longer than its varchar column and any NUL byte (a server error), where
SQLite stores both silently; so both are refused here, in Chinese, naming the field. A datetime
without a zone (an API body's `2026-12-01T09:00`, a page's datetime-local input) is read in the
platform's zone, Asia/Shanghai (settings.TIME_ZONE).
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import dateparse, timezone
from django.utils.translation import gettext as _

NUL = "\x00"
# Beyond these a year is a typing error, and year 1 or 9999 overflows when shifted to UTC.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100


def nul_message(label: str) -> str:
    return _("%(t)s含有不允许的空字符（NUL），请删除后重试。") % {"t": label}


def _column(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def text_errors(
    model: type[models.Model] | None,
    values: Mapping[str, Any],
    *,
    prefix: str = "",
    where: str = "",
    columns: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """NUL bytes and texts longer than their column, keyed `prefix + name`.

    `values` maps an input name to what was typed; it is stored in the model's field of the same
    name unless `columns` says another; the field's verbose name labels it unless `labels` does.
    A name that is no column (a reason kept in the timeline) is only checked for NUL bytes.
    `where` ("第 2 位当事人") starts each message.
    """
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        field = _column(model, (columns or {}).get(name, name))
        label = (labels or {}).get(name) or (str(field.verbose_name) if field is not None else name)
        lead = f"{where}：" if where else ""
        limit = getattr(field, "max_length", None)
        length = len(value.strip())
        if NUL in value:
            errors[f"{prefix}{name}"] = [lead + nul_message(label)]
        elif limit is not None and length > limit:
            errors[f"{prefix}{name}"] = [
                lead + _("%(f)s最多 %(n)d 个字（现为 %(got)d 个）。") % {"f": label, "n": limit, "got": length}
            ]
    return errors


def check_text(
    model: type[models.Model] | None,
    values: Mapping[str, Any],
    *,
    columns: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """`text_errors`, raised as one ValidationError."""
    errors = text_errors(model, values, columns=columns, labels=labels)
    if errors:
        raise ValidationError(errors)


def aware(value: datetime.datetime, field: str) -> datetime.datetime:
    """The datetime with its zone: a naive one is Asia/Shanghai time; a year outside 1900–2100 is refused."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            {
                field: [
                    _("时间 %(t)s 不在 %(a)d–%(b)d 年之间，请核对。")
                    % {"t": value.strftime("%Y-%m-%d %H:%M"), "a": EARLIEST_YEAR, "b": LATEST_YEAR}
                ]
            }
        )
    if timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_default_timezone())
    return value


def datetime_from(raw: str, field: str) -> datetime.datetime:
    """A page's datetime (`2026-12-01T09:00` from a datetime-local input, or with a zone), zone-aware."""
    try:
        parsed = dateparse.parse_datetime((raw or "").strip())
    except ValueError:  # well formed but impossible, like 2026-02-30
        parsed = None
    if parsed is None:
        raise ValidationError(
            {field: [_("时间“%(v)s”无效，应为 YYYY-MM-DD HH:MM。") % {"v": (raw or "").replace(NUL, "")[:40]}]}
        )
    return aware(parsed, field)
