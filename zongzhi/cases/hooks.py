"""Who follows changes to a case. Apps above `cases` subscribe here (the dashboards' rollups, from
their `AppConfig.ready`), so the cases app calls them without importing them."""

from collections.abc import Callable

CaseChanged = Callable[[int], None]

_case_changed: list[CaseChanged] = []


def on_case_changed(subscriber: CaseChanged) -> None:
    """Have `subscriber(case_id)` called inside the transaction of every change to a case."""
    if subscriber not in _case_changed:
        _case_changed.append(subscriber)


def case_changed(case_id: int) -> None:
    """Tell every subscriber that this case changed (call inside the transaction that changed it)."""
    for subscriber in _case_changed:
        subscriber(case_id)
