"""An import killed while writing leaves nothing of its batch; run again, it completes; once more, it changes nothing.

The import runs as `manage.py import_data` in a real process on the test database and is killed
(SIGKILL, no chance to clean up) once it reports writing.
"""

import datetime
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browsing import ROOT, _database_url
from tests.messy_files import write_csv
from zongzhi.grid.models import Household, Resident
from zongzhi.identity import make_resident_id

ROWS = 12_000
PREFIX = "HKILL-"


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Autocommit access to the test database, which the import process writes to; cleaned after."""
    with django_db_blocker.unblock():
        yield
        Resident.objects.filter(household__code__startswith=PREFIX).delete()
        Household.objects.filter(code__startswith=PREFIX).delete()


def big_file(path: Path) -> Path:
    rows = []
    for i in range(ROWS):
        birth = datetime.date(1947, 1, 1) + datetime.timedelta(days=i // 500)  # before the random IDs' 1950
        number = make_resident_id("152502", birth, 500 + i % 500)
        rows.append(
            [f"{PREFIX}{i // 4:05d}", "152502001001001", f"居民{i}", "户主" if i % 4 == 0 else "子女", "汉族", number]
        )
    return write_csv(path, ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"], rows, "gb18030")


def import_data(path: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "import_data", "residents", str(path), "--chunk", "300", *extra]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_while_writing_leaves_nothing_and_a_rerun_completes(committed: None, tmp_path: Path) -> None:
    path = big_file(tmp_path / "big.csv")
    process = import_data(path)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("写入") and not line.rstrip().endswith(f"{ROWS}/{ROWS}"):
            process.send_signal(signal.SIGKILL)
            break
    stdout, _stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL and "文件：" not in stdout  # killed before its report
    assert not Household.objects.filter(code__startswith=PREFIX).exists()
    assert not Resident.objects.filter(household__code__startswith=PREFIX).exists()

    rerun = import_data(path)
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stdout + stderr
    assert f"新增 {ROWS}，更新 0，未变 0，退回 0。" in stdout
    assert Resident.objects.filter(household__code__startswith=PREFIX).count() == ROWS
    assert Household.objects.filter(code__startswith=PREFIX).count() == ROWS // 4

    again = import_data(path)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0 and f"新增 0，更新 0，未变 {ROWS}，退回 0。" in stdout
