"""Export jobs as their owner sees them: the bar rising while the worker writes, the same file from the
pool of worker processes as from one, a job whose worker died marked failed with a reason, and files
deleted after their retention period (audited), queued by the scheduler."""

import csv
import dataclasses
import datetime
import io
import itertools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from tests.messy_files import person_id, write_csv
from zongzhi.access import Scope
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.grid.models import Resident
from zongzhi.transfer import exports
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.export_jobs import export_dir, export_files_purge, export_job_run, export_jobs_recover
from zongzhi.transfer.models import ExportJob
from zongzhi.transfer.residents import ResidentsImport
from zongzhi.transfer.tasks import purge_export_files_task

pytestmark = pytest.mark.django_db
COUNTY = "152502"


@pytest.fixture(autouse=True)
def county_residents(db, tmp_path) -> int:  # type: ignore[no-untyped-def]
    """Sixty residents in thirty households of a Xilinhot grid, imported as a county's would be."""
    headers = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号", "联系电话"]
    rows = [
        [f"HPRG-{n // 2}", "152502001001001", f"居民{n}", "子女" if n % 2 else "户主", "蒙古族", person_id(600 + n)]
        + [f"138{n:08d}" if n % 3 else ""]
        for n in range(60)
    ]
    file = write_csv(tmp_path / "r.csv", headers, rows, "utf-8")
    report = run_import(ResidentsImport(), file, scope=Scope.everything())
    assert report.inserted == 60
    return Resident.objects.filter(region_code__startswith=COUNTY).count()


def county_job(fmt: str = "csv") -> ExportJob:
    director = User.objects.get(username="demo-director")
    return ExportJob.objects.create(list_name="residents", fmt=fmt, filters={"region": COUNTY}, created_by=director)


def shown(page: Client, job: ExportJob) -> dict[str, Any]:
    """What the job's progress fragment (polled by the page every second) shows its owner."""
    html = page.get(f"/staff/transfer/exports/{job.pk}/progress/").content.decode()
    percent = re.search(r'<progress id="bar" max="100" value="(\d+)"', html)
    done = re.search(r'id="done">(\d+)<', html)
    assert percent and done, html
    return {"percent": int(percent.group(1)), "done": int(done.group(1)), "html": html}


def test_the_bar_rises_while_the_worker_writes_and_ends_at_100(client_as, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    # The page is asked for the job's progress each time the export reads its next chunk from the
    # database, i.e. while the job runs (the same thread, so each look is at a known moment).
    total = Resident.objects.filter(region_code__startswith=COUNTY).count()
    assert total >= 60
    settings.EXPORT_CHUNK_ROWS, settings.EXPORT_PROGRESS_ROWS = max(1, total // 6), 1
    director = client_as("director")
    job = county_job()
    seen: list[dict[str, Any]] = []
    found = exports.LISTS["residents"]
    assert found.chunks is not None

    def watched(user: Any, params: Any) -> Iterator[list[tuple[Any, ...]]]:
        for chunk in found.chunks(user, params):  # type: ignore[misc]
            seen.append(shown(director, job))
            yield chunk

    monkeypatch.setitem(exports.LISTS, "residents", dataclasses.replace(found, chunks=watched))
    assert export_job_run(job.pk) == total
    end = shown(director, job)
    assert all("进行中" in look["html"] and "hx-get" in look["html"] for look in seen)  # polled on while running
    percents = [look["percent"] for look in seen] + [end["percent"]]
    assert len(seen) >= 6 and percents[0] == 0 and percents[-1] == 100
    assert all(a < b for a, b in itertools.pairwise(percents)), percents
    assert [look["done"] for look in seen][1:] == sorted({look["done"] for look in seen[1:]})
    assert end["done"] == total and "已完成" in end["html"] and 'id="download"' in end["html"]


def test_the_pool_of_worker_processes_writes_the_same_file(settings, client_as) -> None:  # type: ignore[no-untyped-def]
    # A large job is decrypted and rendered by forked processes: the file is byte for byte the one a
    # single process writes (CSV), and the same rows (XLSX).
    if not exports.may_fork():
        print("skipped: worker processes cannot be forked on this system")
        pytest.skip("no fork")
    files: dict[tuple[str, int], bytes] = {}
    for fmt in ("csv", "xlsx"):
        for processes in (1, 2):
            settings.EXPORT_PROCESSES, settings.EXPORT_PARALLEL_ROWS = processes, 1
            job = county_job(fmt)
            export_job_run(job.pk)
            job.refresh_from_db()
            assert job.status == ExportJob.Status.DONE
            files[fmt, processes] = Path(job.path).read_bytes()
    single, pooled = files["csv", 1], files["csv", 2]
    assert pooled == single and pooled.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(pooled.decode("utf-8-sig"))))
    assert len(rows) - 1 == Resident.objects.filter(region_code__startswith=COUNTY).count()
    assert all(re.fullmatch(r"[0-9A-Z]{6}\*+[0-9A-Z]{4}|\**", r[8]) for r in rows[1:])

    def sheet(data: bytes) -> list[tuple[Any, ...]]:
        return list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].values)

    assert sheet(files["xlsx", 2]) == sheet(files["xlsx", 1]) and len(sheet(files["xlsx", 2])) == len(rows)


def test_a_job_whose_worker_died_is_marked_failed_with_the_reason(client_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The worker stops mid-file (killed: no exception handler of ours runs), leaving the job 进行中
    # and a partial file. After EXPORT_STALE_MINUTES without progress the purge marks it failed.
    job = county_job()
    found = exports.LISTS["residents"]

    def dies(user: Any, params: Any) -> Iterator[list[tuple[Any, ...]]]:
        yield next(found.chunks(user, params))  # type: ignore[misc]
        raise KeyboardInterrupt  # as a SIGTERM/SIGKILL'd worker: not an error the job records

    monkeypatch.setitem(exports.LISTS, "residents", dataclasses.replace(found, chunks=dies))
    with pytest.raises(KeyboardInterrupt):
        export_job_run(job.pk)
    job.refresh_from_db()
    partial = Path(job.path)
    assert job.status == ExportJob.Status.RUNNING and partial.exists() and partial.parent == export_dir()
    director = client_as("director")
    assert "进行中" in shown(director, job)["html"]
    assert export_jobs_recover() == 0  # not yet: a slow worker is not a dead one
    later = timezone.now() + datetime.timedelta(minutes=16)
    alive = county_job()  # another job whose worker reported a minute before that
    ExportJob.objects.filter(pk=alive.pk).update(
        status=ExportJob.Status.RUNNING, heartbeat_at=later - datetime.timedelta(minutes=1)
    )
    assert export_jobs_recover(now=later) == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and not partial.exists()
    page = shown(director, job)["html"]
    assert "出错" in page and "导出中断" in page and "请重新导出" in page and "hx-get" not in page
    assert ExportJob.objects.get(pk=alive.pk).status == ExportJob.Status.RUNNING
    api = director.get(f"/staff/transfer/exports/{job.pk}/download/")
    assert api.status_code == 404


def test_files_past_their_retention_go_audited_and_the_job_says_so(settings, client_as) -> None:  # type: ignore[no-untyped-def]
    settings.EXPORT_FILES_RETENTION_HOURS = 24
    old, fresh = county_job(), county_job("xlsx")
    export_job_run(old.pk)
    export_job_run(fresh.pk)
    old.refresh_from_db()
    fresh.refresh_from_db()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - datetime.timedelta(hours=25))
    stray = export_dir() / "0123456789abcdef.csv"  # left by a worker that died before a job named it
    stray.touch(mode=0o600)
    past = time.time() - 25 * 3600
    os.utime(stray, (past, past))
    mark = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    call_command("export_files", stdout=io.StringIO())
    assert not Path(old.path).exists() and not stray.exists() and Path(fresh.path).exists()
    director = client_as("director")
    page = shown(director, old)["html"]
    assert "已超过保留期限（24 小时）被删除" in page and 'id="download"' not in page
    assert director.get(f"/staff/transfer/exports/{old.pk}/download/").status_code == 404
    assert director.get(f"/staff/transfer/exports/{fresh.pk}/download/").status_code == 200
    (entry,) = AuditEntry.objects.filter(pk__gt=mark, action=AuditEntry.Action.FILES_PURGED)
    assert entry.detail["jobs"] == [old.pk] and entry.detail["strays"] == 1 and entry.detail["retention_hours"] == 24
    assert export_files_purge() == 0  # nothing more to do, and nothing more audited
    assert not AuditEntry.objects.filter(pk__gt=entry.pk, action=AuditEntry.Action.FILES_PURGED).exists()
    Path(fresh.path).unlink()


def test_the_scheduler_queues_the_export_purge() -> None:
    call_command("scheduler", "--once", stdout=io.StringIO())
    assert DBTaskResult.objects.ready().filter(task_path=purge_export_files_task.module_path).exists()
