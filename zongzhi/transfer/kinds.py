"""The import kinds by name, as the CLI, the upload page and the templates name them."""

from zongzhi.transfer.engine import ImportKind
from zongzhi.transfer.residents import ResidentsImport


def kinds() -> dict[str, ImportKind]:
    return {kind.name: kind for kind in (ResidentsImport(),)}


def kind_of(name: str) -> ImportKind | None:
    return kinds().get(name)
