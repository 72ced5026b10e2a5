"""Pieces every import kind uses: regions by code or name, choices by label."""

import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from zongzhi.regions.models import Region
from zongzhi.transfer.engine import Context
from zongzhi.transfer.reader import clean_text, compact, parse_bool, parse_date


class RowErrors:
    """Problems of one row, by column key."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, reason: str) -> None:
        self.items.append((key, reason))

    def __bool__(self) -> bool:
        return bool(self.items)


def required_text(values: dict[str, Any], key: str, label: str, errors: RowErrors, max_length: int = 100) -> str:
    text = clean_text(values.get(key))
    if not text:
        errors.add(key, _("缺少必填项“%(label)s”。") % {"label": label})
    elif len(text) > max_length:
        errors.add(
            key,
            _("“%(label)s”不能超过 %(n)d 个字，收到 %(got)d 个。")
            % {"label": label, "n": max_length, "got": len(text)},
        )
    return text


def boolean(values: dict[str, Any], key: str, label: str, default: bool, errors: RowErrors) -> bool:
    try:
        return parse_bool(values.get(key), default)
    except ValueError:
        errors.add(
            key, _("“%(label)s”应填“是”或“否”，收到“%(got)s”。") % {"label": label, "got": clean_text(values.get(key))}
        )
        return default


def date(
    values: dict[str, Any],
    key: str,
    label: str,
    errors: RowErrors,
    *,
    required: bool = False,
    earliest: datetime.date = datetime.date(1950, 1, 1),
) -> datetime.date | None:
    try:
        day = parse_date(values.get(key))
    except ValueError:
        errors.add(
            key,
            _("“%(label)s”不是日期：“%(got)s”（可写 2025-03-05、2025年3月5日、2025.3.5 或 2025/03/05）。")
            % {"label": label, "got": clean_text(values.get(key))},
        )
        return None
    if day is None:
        if required:
            errors.add(key, _("缺少必填项“%(label)s”。") % {"label": label})
        return None
    if not earliest <= day <= datetime.date.today():
        errors.add(
            key,
            _("“%(label)s” %(day)s 超出范围（%(a)s 至今天）。") % {"label": label, "day": day, "a": earliest},
        )
        return None
    return day


def choice(
    values: dict[str, Any],
    key: str,
    label: str,
    options: dict[str, str],
    errors: RowErrors,
    *,
    default: str | None = None,
) -> str:
    """A choice by its Chinese label, a synonym, or its stored value."""
    text = compact(values.get(key))
    if not text:
        if default is None:
            errors.add(key, _("缺少必填项“%(label)s”。") % {"label": label})
            return ""
        return default
    found = options.get(text) or options.get(text.lower())
    if found is None:
        shown = "、".join(dict.fromkeys(k for k in options if not k.isascii()))
        errors.add(
            key,
            _("“%(label)s”应为 %(options)s 之一，收到“%(got)s”。") % {"label": label, "options": shown, "got": text},
        )
        return ""
    return found


def options_of(choices: type[models.TextChoices], **synonyms: str) -> dict[str, str]:
    """Label -> value for a TextChoices, plus the values themselves and extra synonyms (synonym=value)."""
    found = {str(label): value for value, label in choices.choices}
    found.update({value: value for value in choices.values})
    found.update(synonyms)
    return found


class Regions:
    """The regions under the import's scope, loaded once: by code, and grids by unique name."""

    def __init__(self, ctx: Context) -> None:
        rows = Region.objects.filter(ctx.scope.q("code")).values_list("pk", "code", "level", "name")
        self.by_code: dict[str, tuple[int, str, str]] = {code: (pk, level, name) for pk, code, level, name in rows}
        names: dict[tuple[str, str], list[str]] = {}
        for code, (_pk, level, name) in self.by_code.items():
            names.setdefault((level, name), []).append(code)
        self.by_name = names

    @classmethod
    def of(cls, ctx: Context) -> "Regions":
        if "regions" not in ctx.cache:
            ctx.cache["regions"] = cls(ctx)
        return ctx.cache["regions"]

    def find(
        self, raw: Any, level: str | None, key: str, label: str, errors: RowErrors, required: bool = True
    ) -> str | None:
        """The code of a region of `level` (any level when None) given by code or unique name, inside the scope."""
        text = compact(raw)
        if not text:
            if required:
                errors.add(key, _("缺少必填项“%(label)s”。") % {"label": label})
            return None
        if text.isdigit():
            found = self.by_code.get(text)
            if found is None or (level is not None and found[1] != level):
                exists = Region.objects.filter(code=text, **({"level": level} if level else {})).exists()
                reason = _("区划“%(code)s”不在本次导入的范围内。") if exists else _("未知区划代码“%(code)s”。")
                errors.add(key, reason % {"code": text})
                return None
            return text
        name = clean_text(raw)
        if level is None:
            codes = [c for (_level, n), found in self.by_name.items() if n == name for c in found]
        else:
            codes = self.by_name.get((level, name), [])
        if len(codes) != 1:
            reason = (
                _("未知区划“%(name)s”（请填写区划代码）。")
                if not codes
                else _("区划名称“%(name)s”有重名，请填写区划代码。")
            )
            errors.add(key, reason % {"name": clean_text(raw)})
            return None
        return codes[0]

    def pk(self, code: str) -> int:
        return self.by_code[code][0]
