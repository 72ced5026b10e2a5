"""The home page of each persona and the region browser: what the apps hold, gathered for one person."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from zongzhi import access
from zongzhi.accounts.decorators import staff_page
from zongzhi.cases.presenters import case_path_prefix
from zongzhi.centers.selectors import centers_visible, presences_of
from zongzhi.grid.selectors import grid_people, grids_of_worker
from zongzhi.home.worklists import work_lists
from zongzhi.regions import codes
from zongzhi.regions.selectors import region_ancestors, region_children, region_figures, region_get, region_roots


@staff_page()
def home(request: HttpRequest) -> HttpResponse:
    """The landing page of each role: what this person works on, scoped to them (`worklists`)."""
    user = request.user
    scope = access.scope_of(user)
    memberships = list(user.memberships.select_related("org", "center"))  # type: ignore[union-attr]
    context = {
        "memberships": memberships,
        "jurisdictions": list(user.jurisdictions.select_related("region")),  # type: ignore[union-attr]
        "business": access.may_read_business(user),
    }
    if context["business"]:
        context["roots"] = list(region_roots(scope))
        context["figures"] = region_figures(scope)
        context["my_centers"] = [m.center for m in memberships if m.center is not None]
        context["my_postings"] = presences_of([m.org for m in memberships if m.org is not None])
        context["centers"] = list(centers_visible(scope).exclude(level="village")[:12])
        context["my_grids"] = list(grids_of_worker(user))
        context.update(work_lists(user, request.GET.get("week", "")))
        context["case_path"] = case_path_prefix()
    return render(request, "accounts/home.html", context)


# ---- the region browser: each region with its centers and, for a grid, its people ----------------


@staff_page(access.may_read_business)
def region_tree(request: HttpRequest) -> HttpResponse:
    scope = access.scope_of(request.user)
    roots = list(region_roots(scope))
    if len(roots) == 1:
        return redirect("regions:detail", roots[0].code)
    return render(request, "regions/tree.html", {"roots": roots, "figures": region_figures(scope)})


@staff_page(access.may_read_business)
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = access.scope_of(request.user)
    region = region_get(scope, code)
    context = {
        "region": region,
        "ancestors": region_ancestors(scope, region),
        "figures": region_figures(scope, region),
        "children": region_children(scope, region),
        "centers": list(centers_visible(scope).filter(region=region)),
        "levels": codes.LEVELS,
    }
    if region.level == codes.GRID:
        context.update(grid_people(scope, region))
    return render(request, "regions/detail.html", context)


@staff_page(access.may_read_business)
def region_children_rows(request: HttpRequest, code: str) -> HttpResponse:
    """The rows under one region, for expanding the tree in place (htmx)."""
    scope = access.scope_of(request.user)
    region = region_get(scope, code)
    depth = request.GET.get("depth", "1")
    depth_shown = min(int(depth), 5) if depth.isdigit() else 1
    return render(request, "regions/_rows.html", {"children": region_children(scope, region), "depth": depth_shown})
