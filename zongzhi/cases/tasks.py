"""Background tasks of the case workflow, run by the django-tasks database worker (`db_worker`)."""

from typing import Any

from django_tasks import task

from zongzhi.cases.deadlines import sweep


@task()
def sweep_deadlines_task() -> dict[str, Any]:
    """The deadline sweep (reminders, supervision, escalation); its report is the task's result."""
    return sweep().as_dict()
