"""The platform figures an operator asks for, read through the scoped selectors."""

from typing import Any

from django.db.models import Count

from zongzhi.access import Scope
from zongzhi.accounts.selectors import accounts_in
from zongzhi.cases.models import Case, State
from zongzhi.centers.selectors import orgs_visible
from zongzhi.grid.selectors import claim_rate, households_visible, residents_visible
from zongzhi.regions import codes
from zongzhi.regions.selectors import region_figures


def platform_stats(scope: Scope) -> dict[str, Any]:
    """Counts under a scope: regions by level, centers, orgs, accounts and the grid's people."""
    figures = region_figures(scope)
    claimed, registered = claim_rate(scope)
    return {
        "regions": {level: figures.regions[level] for level in codes.LEVELS},
        "centers": figures.centers,
        "orgs": orgs_visible(scope).count(),
        "accounts": accounts_in(scope).count(),
        "grids": figures.regions[codes.GRID],
        "grid_workers": figures.grid_workers,
        "party_groups": figures.party_groups,
        "block_heads": figures.block_heads,
        "households": households_visible(scope).count(),
        "residents": residents_visible(scope).count(),
        "claimed_residents": claimed,
        "claim_rate": round(claimed / registered, 4) if registered else None,
        "cases": cases_by_state(scope),
    }


def cases_by_state(scope: Scope) -> dict[str, int]:
    """Cases under the scope by workflow state (every state listed, zeros included)."""
    counts = dict(
        Case.objects.filter(scope.q()).order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    return {state: counts.get(state, 0) for state in State.values}
