"""Reading the grid's people through the actor's scope."""

from typing import Any

from django.db.models import QuerySet

from zongzhi.access import Scope
from zongzhi.grid.models import BlockHead, GridWorker, PartyGroup
from zongzhi.regions.models import Region


def grid_workers_visible(scope: Scope) -> QuerySet[GridWorker]:
    return GridWorker.objects.filter(scope.q())


def grid_people(scope: Scope, grid: Region) -> dict[str, list]:
    """The workers, party groups and block heads of one (already scope-checked) grid."""
    inside = Scope(prefixes=(grid.prefix,))
    return {
        "workers": list(GridWorker.objects.filter(scope.q()).filter(inside.q()).select_related("user")),
        "party_groups": list(PartyGroup.objects.filter(scope.q()).filter(inside.q())),
        "block_heads": list(BlockHead.objects.filter(scope.q()).filter(inside.q())),
    }


def grids_of_worker(user: Any) -> QuerySet[Region]:
    """The grids a grid worker account serves."""
    return Region.objects.filter(grid_workers__user=user).distinct()
