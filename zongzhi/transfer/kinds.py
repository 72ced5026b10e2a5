"""The import kinds by name, as the CLI, the upload page and the templates name them."""

from zongzhi.transfer.disputes import DisputesImport
from zongzhi.transfer.engine import ImportKind
from zongzhi.transfer.grid_workers import GridWorkersImport
from zongzhi.transfer.orgs import OrgsImport
from zongzhi.transfer.residents import ResidentsImport


def kinds() -> dict[str, ImportKind]:
    return {kind.name: kind for kind in (ResidentsImport(), GridWorkersImport(), OrgsImport(), DisputesImport())}


def kind_of(name: str) -> ImportKind | None:
    return kinds().get(name)
