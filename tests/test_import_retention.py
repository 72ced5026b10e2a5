"""Import files are kept only for IMPORT_FILES_RETENTION_HOURS after the import ended: the scheduler
queues the purge, which deletes expired rejects files and uploads left by a failed job."""

import datetime
import os
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from zongzhi.accounts.models import User
from zongzhi.transfer.jobs import import_dir, import_files_purge
from zongzhi.transfer.models import ImportJob
from zongzhi.transfer.tasks import purge_import_files_task

pytestmark = pytest.mark.django_db


def job_with_rejects(name: str, ended_hours_ago: float) -> ImportJob:
    path = import_dir() / f"{name}.rejects.xlsx"
    path.write_bytes(b"PK rejects")
    ended = timezone.now() - datetime.timedelta(hours=ended_hours_ago)
    return ImportJob.objects.create(
        kind="residents",
        file_name=f"{name}.xlsx",
        path=str(import_dir() / f"{name}.xlsx"),
        created_by=User.objects.get(username="demo-director"),
        status=ImportJob.Status.DONE,
        finished_at=ended,
        rejects_path=str(path),
    )


def test_expired_rejects_and_orphans_go_and_fresh_ones_stay(settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_FILES_RETENTION_HOURS = 72
    old = job_with_rejects("retention-old", 73)
    fresh = job_with_rejects("retention-fresh", 1)
    orphan = import_dir() / "retention-orphan.xlsx"  # an upload a crashed worker left behind
    orphan.write_bytes(b"PK upload")
    past = time.time() - 80 * 3600
    os.utime(orphan, (past, past))
    assert import_files_purge() >= 2
    old.refresh_from_db()
    assert old.rejects_path == "" and not (import_dir() / "retention-old.rejects.xlsx").exists()
    assert not orphan.exists()
    assert (import_dir() / "retention-fresh.rejects.xlsx").exists() and ImportJob.objects.get(pk=fresh.pk).rejects_path
    (import_dir() / "retention-fresh.rejects.xlsx").unlink()  # the test's own file
    assert import_dir().stat().st_mode & 0o777 == 0o700


def test_the_scheduler_queues_the_purge() -> None:
    call_command("scheduler", "--once")
    assert DBTaskResult.objects.ready().filter(task_path=purge_import_files_task.module_path).exists()
