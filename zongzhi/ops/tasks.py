"""Background tasks of operations, queued by `manage.py scheduler` (settings.SCHEDULED_TASKS)."""

from django.db import DatabaseError
from django_tasks import task

from zongzhi.ops.partitions import partitions_ensure


@task()
def partitions_ensure_task() -> dict[str, list[str]]:
    """Make the history tables' partitions months ahead (PostgreSQL; nothing on SQLite), idempotently."""
    try:
        return partitions_ensure()
    except DatabaseError as error:
        # The application's own role may not own the tables (audit_db_role): the owner's
        # `manage.py partitions` makes them then, and the default partition takes rows meanwhile.
        return {"made": [], "waiting": [], "refused": [str(error).strip()]}
