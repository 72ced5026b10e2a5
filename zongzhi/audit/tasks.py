"""Background tasks of the audit log, run by the django-tasks database worker (`db_worker`)."""

from typing import Any

from django_tasks import task

from zongzhi.audit.services import audit_checkpoint


@task()
def audit_checkpoint_task() -> dict[str, Any]:
    """Write a signed checkpoint of the chain; what it recorded is the task's result."""
    written = audit_checkpoint()
    return {"seq": written.seq, "head_id": written.head_id, "count": written.count, "file": written.source}
