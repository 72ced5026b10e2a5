"""Reading the region tree, always through the actor's scope."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from zongzhi.access import Scope
from zongzhi.centers.models import Center
from zongzhi.counting import count_all
from zongzhi.grid.models import BlockHead, GridWorker, PartyGroup
from zongzhi.regions import codes
from zongzhi.regions.models import Region


def regions_visible(scope: Scope) -> QuerySet[Region]:
    return Region.objects.filter(scope.q("code"))


def region_get(scope: Scope, code: str) -> Region:
    """The region with this code, or 404 when it is missing or outside the scope."""
    return get_object_or_404(regions_visible(scope).select_related("parent"), code=code)


def region_roots(scope: Scope) -> QuerySet[Region]:
    """The top regions of a scope: the regions the jurisdiction prefixes stand for."""
    if "" in scope.prefixes:
        return Region.objects.filter(parent__isnull=True)
    return Region.objects.filter(code__in=[codes.full_code(p) for p in scope.prefixes])


def region_ancestors(scope: Scope, region: Region) -> list[Region]:
    """The visible ancestors of a region, top first (for breadcrumbs)."""
    wanted = [codes.full_code(region.code[:n]) for n in codes.PREFIX_LENGTH.values() if n < len(region.prefix)]
    return list(regions_visible(scope).filter(code__in=wanted).order_by("code"))


@dataclass
class Figures:
    """Counts under one region: sub-regions by level and the grid's people."""

    regions: dict[str, int] = field(default_factory=lambda: {level: 0 for level in codes.LEVELS})
    centers: int = 0
    grid_workers: int = 0
    party_groups: int = 0
    block_heads: int = 0


def _grouped(queryset: QuerySet, field_name: str, length: int) -> QuerySet:
    return queryset.annotate(bucket=Substr(field_name, 1, length)).values("bucket")


def figures_by_child(scope: Scope, region: Region) -> dict[str, Figures]:
    """Figures for each child of `region`, keyed by child prefix, in a fixed number of queries."""
    child_level = region.child_level
    if child_level is None:
        return {}
    length = codes.PREFIX_LENGTH[child_level]
    inside = Scope(prefixes=(region.prefix,))
    result: dict[str, Figures] = defaultdict(Figures)
    rows = (
        _grouped(regions_visible(scope).filter(inside.q("code")).exclude(pk=region.pk), "code", length)
        .values("bucket", "level")
        .annotate(n=Count("id"))
    )
    for row in rows:
        result[row["bucket"]].regions[row["level"]] += row["n"]
    for model, attr in (
        (Center, "centers"),
        (GridWorker, "grid_workers"),
        (PartyGroup, "party_groups"),
        (BlockHead, "block_heads"),
    ):
        visible = model.objects.filter(scope.q()).filter(inside.q())
        for row in _grouped(visible, "region_code", length).annotate(n=Count("id")):
            setattr(result[row["bucket"]], attr, row["n"])
    return dict(result)


def region_figures(scope: Scope, region: Region | None = None) -> Figures:
    """Totals under a region (the region itself excluded from its own level), or the whole scope."""
    inside = scope if region is None else Scope(prefixes=(region.prefix,))
    figures = Figures()
    regions = regions_visible(scope).filter(inside.q("code"))
    if region is not None:
        regions = regions.exclude(pk=region.pk)
    for row in regions.values("level").annotate(n=Count("id")):
        figures.regions[row["level"]] = row["n"]
    counted = {
        attr: model.objects.filter(scope.q()).filter(inside.q())
        for model, attr in (
            (Center, "centers"),
            (GridWorker, "grid_workers"),
            (PartyGroup, "party_groups"),
            (BlockHead, "block_heads"),
        )
    }
    for attr, n in count_all(counted).items():  # one statement
        setattr(figures, attr, n)
    return figures


def region_children(scope: Scope, region: Region) -> list[tuple[Region, Figures]]:
    """The visible children of a region, each with the figures under it."""
    figures = figures_by_child(scope, region)
    children = regions_visible(scope).filter(parent=region).order_by("code")
    return [(child, figures.get(child.prefix, Figures())) for child in children]


def region_by_code_or_name(regions: QuerySet[Region], text: str, *, field: str, label: str) -> Region:
    """The region of `regions` a person typed: its code, or its name when one region there has it.

    A name several regions share (every township has a 第一网格) is refused, listing their codes.
    Raises ValidationError keyed by `field`, in Chinese.
    """
    typed = text.strip()
    found = regions.filter(code=typed).first() if typed.isdigit() else None
    if found is not None:
        return found
    named = list(regions.filter(name=typed).order_by("code")[:6]) if typed else []
    if len(named) == 1:
        return named[0]
    if named:
        choices = "、".join(f"{r.code}" for r in named[:5])
        raise ValidationError(
            {field: [_("有多个%(l)s名为“%(n)s”（%(c)s），请填写区划代码。") % {"l": label, "n": typed, "c": choices}]}
        )
    raise ValidationError({field: [_("%(l)s“%(n)s”不存在或不在您的辖区。") % {"l": label, "n": typed[:40]}]})


# ---- the intake's region picker ---------------------------------------------------------------

PICKER_LEVELS = (codes.COUNTY, codes.TOWNSHIP, codes.VILLAGE, codes.GRID)


@dataclass
class PickerLevel:
    """One select of the cascading region picker: its level, its options and the one chosen."""

    level: str
    label: str
    options: list[Region]
    chosen: Region | None
    fixed: bool  # the user's jurisdiction leaves one region at this level: shown, not chosen


def _above_scope(scope: Scope) -> set[str]:
    """The codes of the regions above a jurisdiction (a township clerk's county): passed through, not chosen."""
    return {
        codes.full_code(prefix[:n])
        for prefix in scope.prefixes
        for n in codes.PREFIX_LENGTH.values()
        if n < len(prefix)
    }


def picker_children(scope: Scope, parent: Region | None, level: str = codes.COUNTY) -> list[Region]:
    """The regions the picker offers below `parent` (or at the county level): in scope, or above it."""
    regions = Region.objects.filter(parent=parent) if parent is not None else Region.objects.filter(level=level)
    return list(regions.filter(scope.q("code") | Q(code__in=_above_scope(scope))).order_by("code"))


def picker_parent(scope: Scope, code: str) -> Region:
    """The region whose children the picker asks for: in scope or above it, else 404."""
    found = Region.objects.filter(code=code.strip()).first()
    if found is None or not (scope.covers(found.code) or found.code in _above_scope(scope)):
        raise Http404
    return found


def picker_unchosen(scope: Scope, region: Region) -> bool:
    """True when the clerk chose nothing: the region is the jurisdiction itself (or above it) and has
    regions below to choose from (a grid worker's one grid is chosen by the jurisdiction alone)."""
    fixed = _above_scope(scope) | {codes.full_code(p) for p in scope.prefixes}
    return region.code in fixed and Region.objects.filter(parent=region).exists()


def region_picker(scope: Scope, chosen: Region | None) -> list[PickerLevel]:
    """The county → township → village → grid selects, down from the chosen region's chain.

    A level where the jurisdiction leaves a single region (a county clerk's county) shows it chosen;
    every other level waits for the clerk: nothing is chosen for them.
    """
    chain = {}
    if chosen is not None:
        for level in PICKER_LEVELS:
            length = codes.PREFIX_LENGTH[level]
            if len(chosen.prefix) >= length:
                chain[level] = codes.full_code(chosen.code[:length])
    fixed_codes = _above_scope(scope) | {codes.full_code(p) for p in scope.prefixes}
    labels = dict(Region.Level.choices)
    levels: list[PickerLevel] = []
    parent: Region | None = None
    for index, level in enumerate(PICKER_LEVELS):
        if index and parent is None:
            options: list[Region] = []
        else:
            options = picker_children(scope, parent, level)
        pick = next((r for r in options if r.code == chain.get(level)), None)
        fixed = len(options) == 1 and options[0].code in fixed_codes
        if fixed:
            pick = options[0]
        levels.append(PickerLevel(level, str(labels[level]), options, pick, fixed))
        parent = pick
    return levels


def picker_search(scope: Scope, typed: str, limit: int = 20) -> list[tuple[Region, str]]:
    """Townships, villages and grids in scope whose name contains what was typed, each with its path."""
    typed = typed.strip()
    if len(typed) < 2:
        return []
    found = list(
        Region.objects.filter(scope.q("code"), level__in=PICKER_LEVELS[1:], name__contains=typed).order_by("code")[
            :limit
        ]
    )
    above = {codes.full_code(r.code[:n]) for r in found for n in (9, 12) if n < len(r.prefix)}
    names = dict(Region.objects.filter(code__in=above).values_list("code", "name"))
    paths = []
    for region in found:
        parents = [names.get(codes.full_code(region.code[:n]), "") for n in (9, 12) if n < len(region.prefix)]
        paths.append((region, " · ".join([*filter(None, parents), region.name])))
    return paths
