"""Background tasks of the grid, run by the task worker (`db_worker`)."""

from typing import Any

from django_tasks import task

from zongzhi.grid.seasons import SwitchFailed, seasonal_switch


@task()
def seasonal_switch_task() -> dict[str, Any]:
    """Today's seasonal moves, county by county; its report (county → households moved) is the result."""
    try:
        return {"moved": seasonal_switch()}
    except SwitchFailed as failed:
        return {"moved": failed.moved, "failed": failed.failed}
