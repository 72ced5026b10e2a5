"""The import as a background task, run by the django-tasks database worker (`manage.py db_worker`)."""

from typing import Any

from django_tasks import task

from zongzhi.transfer.jobs import import_files_purge, job_run


@task()
def import_task(job_id: int) -> dict[str, Any]:
    """Carry out one uploaded import; its report is the task's result (and stored on the job)."""
    return job_run(job_id)


@task()
def purge_import_files_task() -> dict[str, Any]:
    """Delete import rejects files past their retention period (queued by `manage.py scheduler`)."""
    return {"removed": import_files_purge()}
