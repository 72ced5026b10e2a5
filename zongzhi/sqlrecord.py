"""Records the SQL templates a process issues, when `ZONGZHI_SQL_RECORD` names a directory.

The test suite turns it on (in its own process and, through the environment, in every server and
command process it starts) to check that each statement on a case-side table names the region code
its rows are distributed on at national scale (`tests/sql_regions.py`, `docs/national.md`).

Only the statement's template is kept, never its parameters; quoted literals and long digit runs in
the template are blanked too, and digits in request paths, so no personal data reaches the disk.
Each process appends to a file of its own a line per (origin, caller, statement), written once:
the origin is the request path, the test or the command; the caller the frame of `zongzhi/` that
issued it (or of `tests/` when the test itself queried).
"""

import contextlib
import contextvars
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import connections
from django.db.backends.signals import connection_created

ENV = "ZONGZHI_SQL_RECORD"
ORIGINS_PER_STATEMENT = 3  # enough to say where a statement comes from

_request_path: contextvars.ContextVar[str] = contextvars.ContextVar("sql_record_request_path", default="")
_label: contextvars.ContextVar[str] = contextvars.ContextVar("sql_record_label", default="")
_PACKAGE = str(Path(__file__).resolve().parent) + os.sep
_ROOT = str(Path(__file__).resolve().parents[1]) + os.sep
_lock = threading.Lock()
_origins: dict[str, set[str]] = {}
_out: list[Path] = []

_STRING = re.compile(r"'(?:[^']|'')*'")
_DIGITS = re.compile(r"\b\d{5,}\b")
_SPACE = re.compile(r"\s+")
_PLACEHOLDERS = re.compile(r"%s(?:\s*,\s*%s)+")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')
# A bulk update's `CASE WHEN (id = %s) THEN %s …` has one arm per row: any number of them is one shape.
_CASE_ARMS = re.compile(r'(WHEN \("\w+"\."\w+" = %s\) THEN %s)(?: WHEN \("\w+"\."\w+" = %s\) THEN %s)+')


def normalise(sql: str) -> str:
    """One line per statement shape: literals blanked, `IN (%s, %s, …)` of any length the same, and a bulk
    update's `CASE` of any number of rows."""
    sql = _STRING.sub("%s", sql)
    sql = _DIGITS.sub("%s", sql)
    sql = _SPACE.sub(" ", sql).strip()
    sql = _PLACEHOLDERS.sub("%s, …", sql)
    sql = _CASE_ARMS.sub(r"\1 …", sql)
    return _SAVEPOINT.sub('"s_x"', sql)


def _path_shape(path: str) -> str:
    return "/".join("<n>" if any(c.isdigit() for c in part) else part for part in path.split("/"))


@contextlib.contextmanager
def labelled(label: str) -> Iterator[None]:
    """Name the origin of what runs inside (the test session's seeding, say)."""
    token = _label.set(label)
    try:
        yield
    finally:
        _label.reset(token)


def origin() -> str:
    """The request path (digits blanked), else a label, else the running test, else the command."""
    path = _request_path.get()
    if path:
        return f"request {path}"
    if _label.get():
        return _label.get()
    test = os.environ.get("PYTEST_CURRENT_TEST")
    if test:
        return "test " + test.rsplit(" (", 1)[0]
    return "command " + " ".join(Path(a).name for a in sys.argv[:2])


def caller() -> str:
    """The innermost frame of our code that issued the statement (`zongzhi/…` before `tests/…`)."""
    frame = sys._getframe(2)
    first_test = ""
    while frame is not None:
        name = frame.f_code.co_filename
        here = f"{name[len(_ROOT) :]}:{frame.f_lineno} {frame.f_code.co_name}"
        if name == __file__:
            pass  # the recorder's own frames
        elif name.startswith(_PACKAGE):
            return here
        elif not first_test and name.startswith(_ROOT) and "/.venv/" not in name:
            first_test = here
        frame = frame.f_back  # type: ignore[assignment]
    return first_test or "-"


def _record(sql: str) -> None:
    statement = normalise(sql)
    where, by = origin(), caller()
    with _lock:
        seen = _origins.setdefault(f"{by}\t{statement}", set())
        if where in seen or len(seen) >= ORIGINS_PER_STATEMENT:
            return
        seen.add(where)
        with _out[0].open("a", encoding="utf-8") as out:
            out.write(f"{where}\t{by}\t{statement}\n")


def _wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    try:
        _record(sql)
    except Exception as error:  # recording must never break a query
        print(f"sql record: {error}", file=sys.stderr)
    return execute(sql, params, many, context)


def _attach(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    if connection is not None and _wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_wrapper)


def _request_begins(sender: Any = None, environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
    _request_path.set(_path_shape((environ or {}).get("PATH_INFO", "?")))


def _request_ends(sender: Any = None, **kwargs: Any) -> None:
    _request_path.set("")


def install_from_env() -> None:
    """Record this process's SQL if the environment asks for it; a no-op otherwise."""
    folder = os.environ.get(ENV)
    if not folder or _out:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    _out.append(Path(folder) / f"sql-{os.getpid()}.tsv")
    connection_created.connect(_attach, weak=False, dispatch_uid="zongzhi.sqlrecord")
    request_started.connect(_request_begins, weak=False, dispatch_uid="zongzhi.sqlrecord.begins")
    request_finished.connect(_request_ends, weak=False, dispatch_uid="zongzhi.sqlrecord.ends")
    for connection in connections.all(initialized_only=True):
        _attach(connection=connection)
