"""Hierarchical region codes: 12-digit statistical division codes, +3 digits for grids.

2 province + 2 city (league) + 2 county + 3 township + 3 village [+ 3 grid]. A region's
*prefix* is its code cut after its own level; everything under it starts with that prefix,
so "may this user see X" is a prefix test, asked as an index range scan.
"""

from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

LEAGUE, COUNTY, TOWNSHIP, VILLAGE, GRID = "league", "county", "township", "village", "grid"
LEVELS = (LEAGUE, COUNTY, TOWNSHIP, VILLAGE, GRID)
PREFIX_LENGTH = {LEAGUE: 4, COUNTY: 6, TOWNSHIP: 9, VILLAGE: 12, GRID: 15}
CODE_MAX = 15


def prefix_of(code: str, level: str) -> str:
    """The part of `code` that everything below the region shares."""
    return code[: PREFIX_LENGTH[level]]


def level_of_prefix(prefix: str) -> str:
    for level, length in PREFIX_LENGTH.items():
        if len(prefix) == length:
            return level
    raise ValueError(prefix)


def full_code(prefix: str) -> str:
    """The region code a prefix stands for: 1525 -> 152500000000."""
    return prefix if len(prefix) == CODE_MAX else prefix.ljust(12, "0")


def code_errors(code: str, level: str, parent_code: str | None, parent_level: str | None) -> list[str]:
    """Why `code` cannot be a region of `level` under the given parent; empty when it can."""
    expected = 15 if level == GRID else 12
    if not code.isdigit() or len(code) != expected:
        return [
            _("区划代码应为 %(n)d 位数字，收到“%(code)s”（%(len)d 位）。")
            % {"n": expected, "code": code, "len": len(code)}
        ]
    own = PREFIX_LENGTH[level]
    if level != GRID and code[own:].strip("0"):
        return [_("区划代码“%(code)s”的第 %(start)d 位之后应全为 0。") % {"code": code, "start": own}]
    parent_own = PREFIX_LENGTH[LEVELS[LEVELS.index(level) - 1]] if level != LEAGUE else 2
    if not code[parent_own:own].strip("0"):
        return [
            _("区划代码“%(code)s”本级部分（第 %(a)d–%(b)d 位）不能全为 0。")
            % {"code": code, "a": parent_own + 1, "b": own}
        ]
    if level == LEAGUE:
        return [] if parent_code is None else [_("盟市级区划不能有上级区划。")]
    if parent_code is None or parent_level is None:
        return [_("请指定上级区划。")]
    if LEVELS.index(parent_level) != LEVELS.index(level) - 1:
        return [
            _("上级区划的层级不对：%(level)s 的上级应为 %(expected)s。")
            % {"level": level, "expected": LEVELS[LEVELS.index(level) - 1]}
        ]
    if not code.startswith(prefix_of(parent_code, parent_level)):
        return [_("区划代码“%(code)s”不在上级区划“%(parent)s”之下。") % {"code": code, "parent": parent_code}]
    return []


def prefix_q(prefixes: tuple[str, ...], field: str = "region_code") -> Q:
    """Rows whose `field` starts with one of `prefixes`, as range conditions an index can use.

    Codes are digit strings, so [prefix, prefix + 9…9] holds exactly the codes starting with the
    prefix, in every collation; unlike LIKE it needs no special operator class on PostgreSQL.
    Several prefixes are also bounded by the one range spanning them all (`span`): it changes no row,
    and it names the region code the rows are distributed on outside the OR of the ranges, so a
    multi-county reader's query is still routed by its region (docs/national.md).
    """
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= span_q((prefix,), field)
    return span_q(prefixes, field) & q if len(prefixes) > 1 else q


def span(prefixes: Iterable[str]) -> tuple[str, str]:
    """The narrowest range [low, high] of region codes holding every code that starts with one of
    `prefixes` (not empty)."""
    found = list(prefixes)
    return min(found), max(p + "9" * (CODE_MAX - len(p)) for p in found)


def widest(spans: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The narrowest range [low, high] holding every range of `spans` (not empty)."""
    found = list(spans)
    return min(low for low, _high in found), max(high for _low, high in found)


def span_q(prefixes: Iterable[str], field: str = "region_code") -> Q:
    """Rows whose `field` lies in the `span` of `prefixes`."""
    return range_q(span(prefixes), field)


def range_q(found: tuple[str, str] | None, field: str = "region_code") -> Q:
    """Rows whose `field` lies in the range [low, high]; none for no range."""
    if found is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__gte": found[0], f"{field}__lte": found[1]})
