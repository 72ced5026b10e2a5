"""Region boundaries for the map, and the map's data.

The demo has no surveyed boundaries, so `generate_boundaries` draws plausible ones: the league is
the convex hull of its counties' real centres widened a little, and each region is cut among its
children as a Voronoi diagram of their centres clipped to it. Every cell is the intersection of a
convex polygon with half-planes, so cells are convex, do not overlap, and tile their parent.
"""

import math
import random
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from zongzhi.access import Scope
from zongzhi.dashboards.selectors import children_figures, dashboard
from zongzhi.regions import codes
from zongzhi.regions.models import Region
from zongzhi.regions.selectors import regions_visible

Point = tuple[float, float]
LEAGUE_MARGIN = 0.6  # degrees added around the counties' centres


def _hull(points: list[Point]) -> list[Point]:
    """Convex hull, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    upper: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _widen(polygon: list[Point], margin: float) -> list[Point]:
    cx = sum(p[0] for p in polygon) / len(polygon)
    cy = sum(p[1] for p in polygon) / len(polygon)
    widened = []
    for x, y in polygon:
        d = math.hypot(x - cx, y - cy) or 1.0
        widened.append((x + (x - cx) / d * margin, y + (y - cy) / d * margin))
    return widened


def _clip(polygon: list[Point], site: Point, other: Point) -> list[Point]:
    """The part of a convex polygon nearer to `site` than to `other` (Sutherland–Hodgman, one edge)."""
    nx, ny = other[0] - site[0], other[1] - site[1]
    mx, my = (site[0] + other[0]) / 2, (site[1] + other[1]) / 2

    def side(p: Point) -> float:
        return (p[0] - mx) * nx + (p[1] - my) * ny

    result: list[Point] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        a, b = side(previous), side(current)
        if (a <= 0) != (b <= 0):
            t = a / (a - b)
            result.append((previous[0] + t * (current[0] - previous[0]), previous[1] + t * (current[1] - previous[1])))
        if b <= 0:
            result.append(current)
    return result


def _inside(polygon: list[Point], p: Point) -> bool:
    """Strictly inside a counter-clockwise convex polygon."""
    for i, b in enumerate(polygon):
        a = polygon[i - 1]
        if (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) <= 0:
            return False
    return True


def _sites(parent: list[Point], children: list[Region]) -> list[Point]:
    """One distinct point inside the parent per child: its centre when that lies inside, else a drawn one."""
    xs, ys = [p[0] for p in parent], [p[1] for p in parent]
    sites: list[Point] = []
    for child in children:
        rng = random.Random(child.code)
        point = (child.centroid_lng or 0.0, child.centroid_lat or 0.0)
        while not _inside(parent, point) or point in sites:
            point = (rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys)))
        sites.append(point)
    return sites


def _cells(parent: list[Point], children: list[Region]) -> dict[str, tuple[list[Point], Point]]:
    sites = _sites(parent, children)
    cells = {}
    for i, child in enumerate(children):
        cell = parent
        for j, other in enumerate(sites):
            if j != i and cell:
                cell = _clip(cell, sites[i], other)
        cells[child.code] = (cell, sites[i])
    return cells


def _geojson(polygon: list[Point]) -> dict[str, Any]:
    ring = [[round(x, 5), round(y, 5)] for x, y in polygon]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _ring(boundary: dict[str, Any]) -> list[Point]:
    return [(x, y) for x, y in boundary["coordinates"][0][:-1]]


def generate_boundaries() -> int:
    """Draw a boundary for every region that has none (top-down); returns how many were drawn."""
    regions = list(Region.objects.order_by("code"))
    by_parent: dict[int | None, list[Region]] = defaultdict(list)
    for region in regions:
        by_parent[region.parent_id].append(region)
    changed: list[Region] = []
    for root in by_parent[None]:
        if root.boundary is None:
            counties = [(c.centroid_lng, c.centroid_lat) for c in by_parent[root.pk] if c.centroid_lng is not None]
            hull = _hull([(float(x), float(y)) for x, y in counties if y is not None])
            if len(hull) < 3:
                hull = [(115.0, 42.0), (119.0, 42.0), (119.0, 46.0), (115.0, 46.0)]
            root.boundary = _geojson(_widen(hull, LEAGUE_MARGIN))
            changed.append(root)
        pending = [root]
        while pending:
            parent = pending.pop()
            children = by_parent[parent.pk]
            if not children:
                continue
            if any(c.boundary is None for c in children) and parent.boundary:
                cells = _cells(_ring(parent.boundary), children)
                for child in children:
                    cell, site = cells[child.code]
                    if child.boundary is None and len(cell) >= 3:
                        child.boundary = _geojson(cell)
                        if child.centroid_lng is None:
                            child.centroid_lng, child.centroid_lat = round(site[0], 5), round(site[1], 5)
                        changed.append(child)
            pending.extend(children)
    Region.objects.bulk_update(changed, ["boundary", "centroid_lng", "centroid_lat"], batch_size=500)
    return len(changed)


def children_map(scope: Scope, region: Region, *, figure: str, label: str) -> dict[str, Any]:
    """GeoJSON of the visible children of `region` (or the region itself, for a grid) with one figure each."""
    if region.child_level is None:
        shapes = [region]
        board = dashboard(scope, region)
        figures = {region.code: {**board["totals"], **board["rates"]}}
    else:
        shapes = list(regions_visible(scope).filter(parent=region).order_by("code"))
        figures = {f["code"]: f for f in children_figures(scope, region)}
    features = []
    for shape in shapes:
        if not shape.boundary:
            continue
        found = figures.get(shape.code, {})
        features.append(
            {
                "type": "Feature",
                "geometry": shape.boundary,
                "properties": {
                    "name": shape.name,
                    "code": shape.code,
                    "value": found.get(figure),
                    "cases": found.get("cases", 0),
                    "drill": shape.level != codes.GRID,
                },
            }
        )
    values = [f["properties"]["value"] for f in features if f["properties"]["value"] is not None]
    if not values and figure == "per_thousand" and any(f["properties"]["cases"] for f in features):
        # Neither a population recorded nor anyone in the registry: colour by the number of disputes.
        for feature in features:
            feature["properties"]["value"] = feature["properties"]["cases"]
        values = [f["properties"]["value"] for f in features]
        label = _("纠纷总数（下级区划无人口数据）")
    return {
        "type": "FeatureCollection",
        "region": {"code": region.code, "name": region.name},
        "figure": figure,
        "label": label,
        "min": min(values, default=0),
        "max": max(values, default=0),
        "empty": not values,
        "features": features,
    }
