"""An export job written by the task worker (a real `db_worker` process) while another connection
commits in a loop, as pages and the scheduler do on a live server.

On SQLite (WAL) a connection that keeps a read open across its own write is refused that write once
another connection has committed since the read began ("database is locked", SQLITE_BUSY_SNAPSHOT; no
busy timeout helps). The export reads in keyset-paged chunks, each fetched whole, so the job's progress
and heartbeat are written after every chunk: the bar rises to 100 %, the job is never taken for dead,
and its file holds every row. The same on PostgreSQL.
"""

import csv
import datetime
import io
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from tests.browsing import _database_url
from tests.messy_files import person_id, write_csv
from tests.task_worker import task_worker, wait_until
from zongzhi.access import Scope
from zongzhi.accounts.models import User
from zongzhi.grid.models import Household, Resident
from zongzhi.regions.models import Region
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.export_jobs import export_job_create
from zongzhi.transfer.exports import export_list
from zongzhi.transfer.models import ExportJob
from zongzhi.transfer.residents import ResidentsImport
from zongzhi.transfer.tasks import export_task

GRID = "152502001001001"  # the exported grid (Xilinhot); the writer's household is in Duolun
PREFIX = "HBUSY-"
PEOPLE = 400
CHUNK = 4  # rows a read, and between two progress updates: a hundred chunks, each followed by a write


@pytest.fixture(scope="module")
def residents(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """PEOPLE residents in the exported grid and one household elsewhere for the writer, committed
    (the worker process reads them); deleted after the module. Yields how many live in the grid then:
    earlier modules of a whole run may have left residents of their own there."""
    headers = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号", "联系电话"]
    birth = datetime.date(1977, 7, 7)
    with django_db_blocker.unblock():
        duolun = Region.objects.filter(level="grid", code__startswith="152531").order_by("code")[0]
        rows = [
            [f"{PREFIX}{n // 4:03d}", GRID, f"居民{n}", "户主" if n % 4 == 0 else "子女", "蒙古族"]
            + [person_id(n, birth), f"139{n:08d}" if n % 3 else ""]
            for n in range(PEOPLE)
        ]
        rows.append([f"{PREFIX}W", duolun.code, "写入者", "户主", "汉族", person_id(1, birth, "152531"), ""])
        file = write_csv(tmp_path_factory.mktemp("busy") / "r.csv", headers, rows, "utf-8")
        assert run_import(ResidentsImport(), file, scope=Scope.everything()).inserted == PEOPLE + 1
        try:
            yield Resident.objects.filter(region_code__startswith=GRID).count()
        finally:
            ExportJob.objects.filter(filters={"region": GRID}).delete()
            DBTaskResult.objects.filter(task_path=export_task.module_path).delete()
            Resident.objects.filter(household__code__startswith=PREFIX).delete()
            Household.objects.filter(code__startswith=PREFIX).delete()


class Writer(threading.Thread):
    """Another connection committing in a loop: the writer's resident's `living` flag flipped, one
    autocommitted UPDATE at a time, until stopped; then the flag as it was."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.commits: list[float] = []  # when each commit returned (time.monotonic)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            mine = Resident.objects.filter(household__code=f"{PREFIX}W")
            living = mine.get().living
            while not self.stop.is_set():
                mine.update(living=len(self.commits) % 2 == 0)
                self.commits.append(time.monotonic())
                time.sleep(0.002)
            mine.update(living=living)
        except BaseException as error:  # reported by the test, which joins this thread
            self.error = error
        finally:
            connection.close()


def watched(job: ExportJob, seconds: float) -> list[dict[str, Any]]:
    """The job's row as its page shows it, looked at every few milliseconds until it finished (a bound
    on waiting, not a timed assertion)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.append(
            {"at": time.monotonic(), "status": job.status, "percent": job.percent, "done": job.done}
            | {"heartbeat": job.heartbeat_at}
        )
        if job.finished:
            break
        time.sleep(0.005)
    return seen


def file_rows(data: bytes, fmt: str) -> list[tuple[Any, ...]]:
    if fmt == "csv":
        return [tuple(r) for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [tuple("" if v is None else str(v) for v in r) for r in sheet.values]


@pytest.mark.parametrize(("fmt", "processes"), [("csv", 1), ("xlsx", 2)])
def test_an_export_job_beside_a_writer_reports_every_chunk_and_has_every_row(
    residents: int, django_db_blocker: Any, fmt: str, processes: int
) -> None:
    assert residents >= PEOPLE  # ours, and whoever earlier modules left there
    env = {
        "ZONGZHI_EXPORT_CHUNK_ROWS": str(CHUNK),
        "ZONGZHI_EXPORT_PROGRESS_ROWS": str(CHUNK),
        "ZONGZHI_EXPORT_PROCESSES": str(processes),
        "ZONGZHI_EXPORT_PARALLEL_ROWS": "1",  # 2 processes: the forked pool writes the file
    }
    with django_db_blocker.unblock():
        director = User.objects.get(username="demo-director")
        writer = Writer()
        with task_worker(_database_url(), **env):
            writer.start()
            assert wait_until(lambda: len(writer.commits) >= 5, 30)
            job = export_job_create(actor=director, list_name="residents", fmt=fmt, filters={"region": GRID})
            seen = watched(job, 120)
        writer.stop.set()
        writer.join(30)
        assert writer.error is None, writer.error
        task = DBTaskResult.objects.filter(task_path=export_task.module_path).latest("enqueued_at")
        assert job.status == ExportJob.Status.DONE, (job.error, task.status, task.traceback)

        running = [look for look in seen if look["status"] == ExportJob.Status.RUNNING]
        assert running, "the job was never seen running"
        started, ended = running[0]["at"], seen[-1]["at"]
        assert any(started < commit < ended for commit in writer.commits)  # commits during the export

        # The bar as the page polls it: from 0, rising strictly (each new value above the last), to 100.
        percents = [look["percent"] for look in seen if look["status"] != ExportJob.Status.QUEUED]
        shown = [p for p, _ in itertools.groupby(percents)]
        assert shown[-1] == 100 and all(a < b for a, b in itertools.pairwise(shown)), shown
        assert len([p for p in shown if 0 < p < 100]) >= 3, shown  # progress written while it ran
        assert [look["done"] for look in running] == sorted(look["done"] for look in running)

        # The heartbeat renewed as it went: the last one written after the claim's, never back.
        # (On the code before, the claim's heartbeat was the last until the end: a long job looked dead.)
        beats = [look["heartbeat"] for look in running] + [job.heartbeat_at]
        assert None not in beats and beats == sorted(beats) and len(set(beats)) >= 3, beats
        assert job.heartbeat_at is not None and job.finished_at is not None
        assert running[0]["heartbeat"] < job.heartbeat_at <= job.finished_at

        # Every row: the file is the one the list page's own export gives of the grid now.
        assert job.rows == job.done == job.total == residents
        written = Path(job.path).read_bytes()
        params = QueryDict(mutable=True)
        params.update({"region": GRID})
        direct, count = export_list(actor=director, name="residents", fmt=fmt, params=params)
        with direct:
            expected = direct.read()
        assert count == residents
        if fmt == "csv":
            assert written == expected
        rows = file_rows(written, fmt)
        assert rows == file_rows(expected, fmt) and len(rows) == 1 + residents
        assert {f"居民{n}" for n in range(PEOPLE)} <= {r[4] for r in rows[1:]}  # every one of ours
        Path(job.path).unlink()
