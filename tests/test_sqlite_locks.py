"""Why tests/test_plaintext_scan.py reads SQLite's files through another process (`read_from_elsewhere`).

SQLite's locks are POSIX advisory locks, held per process: closing any descriptor of the database's
files in a process drops the locks all its connections hold on them. After the scan's plain
`read_bytes()` of the database, its WAL and its -shm, a server process closing its connection took
itself for the last one, checkpointed and removed the WAL and the -shm; the next process made new
ones, while this process's connection went on with the old shared-memory index: rows committed by
the others missing (`tests.portal_race` lost an open day), then "disk I/O error". Shown here with
three plain sqlite3 connections in three processes; no Django, no server.
"""

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.test_plaintext_scan import read_from_elsewhere

WRITE_AND_CLOSE = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('INSERT INTO t VALUES (2)'); c.close()"  # noqa: E501
WRITE_AND_STAY = "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('INSERT INTO t VALUES (3)'); print('written', flush=True); sys.stdin.read()"  # noqa: E501


def rows_seen_after(read: Callable[[Path], bytes], db: Path) -> int:
    """Rows this process's open connection sees after reading the files with `read` while two other
    processes wrote a row each (the first then closed its connection, the second stays connected)."""
    here = sqlite3.connect(db, isolation_level=None)
    here.execute("PRAGMA journal_mode=wal")
    here.execute("CREATE TABLE t (x)")
    here.execute("INSERT INTO t VALUES (1)")
    for suffix in ("", "-wal", "-shm"):
        read(Path(f"{db}{suffix}"))
    subprocess.run([sys.executable, "-c", WRITE_AND_CLOSE, str(db)], check=True)
    staying = subprocess.Popen(
        [sys.executable, "-c", WRITE_AND_STAY, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert staying.stdout is not None and staying.stdout.readline().strip() == "written"
        return here.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        staying.communicate("")
        here.close()


def test_reading_the_files_in_this_process_loses_what_others_commit(tmp_path: Path) -> None:
    assert rows_seen_after(Path.read_bytes, tmp_path / "here.sqlite3") < 3  # the stale view


def test_reading_them_from_another_process_keeps_the_view(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "elsewhere.sqlite3"
    monkeypatch.setattr("tests.test_plaintext_scan._sqlite_files", lambda: {db, Path(f"{db}-wal"), Path(f"{db}-shm")})
    assert rows_seen_after(read_from_elsewhere, db) == 3
