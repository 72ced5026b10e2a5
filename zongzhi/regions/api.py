"""/api/v1/regions: the caller's part of the region tree, each region with the figures under it."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from zongzhi import access
from zongzhi.api_access import require_resource
from zongzhi.api_schemas import READ, Cursor, Limit, Out, page_schema, paged
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import (
    Figures,
    figures_by_child,
    region_figures,
    region_get,
    region_roots,
    regions_visible,
)

router = Router(tags=["regions"])


class FiguresOut(Out):
    regions: dict[str, int]
    centers: int
    grid_workers: int
    party_groups: int
    block_heads: int


class RegionOut(Out):
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


def region_out(region: Region) -> dict[str, Any]:
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


def _scope(request: HttpRequest) -> access.Scope:
    require_resource(request, "regions:read")
    return access.business_scope(request.user)


@router.get("/regions", response={200: page_schema(RegionOut), **READ})
def regions(request: HttpRequest, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """The top regions of the caller's jurisdiction."""
    scope = _scope(request)
    return paged(
        region_roots(scope).select_related("parent"), keys=("code",), cursor=cursor, limit=limit, show=region_out
    )


@router.get("/regions/{code}", response={200: RegionDetailOut, **READ})
def region(request: HttpRequest, code: str) -> dict[str, Any]:
    scope = _scope(request)
    found = region_get(scope, code)
    return {**region_out(found), "figures": region_figures(scope, found).__dict__, "boundary": found.boundary}


@router.get("/regions/{code}/children", response={200: page_schema(RegionChildOut), **READ})
def region_children(request: HttpRequest, code: str, cursor: Cursor = "", limit: Limit = 50) -> dict[str, Any]:
    """The regions right below one, each with the figures under it, by code."""
    scope = _scope(request)
    parent = region_get(scope, code)
    figures = figures_by_child(scope, parent)
    children = regions_visible(scope).filter(parent=parent).select_related("parent")

    def show(child: Region) -> dict[str, Any]:
        return {**region_out(child), "figures": figures.get(child.prefix, Figures()).__dict__}

    return paged(children, keys=("code",), cursor=cursor, limit=limit, show=show)
