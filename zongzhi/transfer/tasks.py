"""The import and export as background tasks, and their files' purge, run by `manage.py db_worker`."""

from typing import Any

from django_tasks import task

from zongzhi.transfer.export_jobs import export_files_purge, export_job_run, export_jobs_recover
from zongzhi.transfer.jobs import import_files_purge, job_run


@task()
def import_task(job_id: int) -> dict[str, Any]:
    """Carry out one uploaded import; its report is the task's result (and stored on the job)."""
    return job_run(job_id)


@task()
def export_task(job_id: int) -> int:
    """Write one export asked for through the API; returns its row count."""
    return export_job_run(job_id)


@task()
def purge_import_files_task() -> dict[str, Any]:
    """Delete import rejects files past their retention period (queued by `manage.py scheduler`)."""
    return {"removed": import_files_purge()}


@task()
def purge_export_files_task() -> dict[str, Any]:
    """Mark failed the export jobs whose worker died, then delete export files past their retention
    period (queued by `manage.py scheduler`)."""
    return {"recovered": export_jobs_recover(), "removed": export_files_purge()}
