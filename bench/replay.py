"""The bare read endpoints: a platform page's own SQL, recorded once, replayed with a raw cursor.

Issue 16 compares each read endpoint with "a bare endpoint doing the same queries through the same
server". Writing those by hand for every page would drift from what the page really sends, so the
bench records it: `record(session_key, paths)` asks each path once in this process through Django's
test client with `RecordingMiddleware` added innermost (bench only, never in the server that is
measured), and keeps every statement and its parameters that the view sends after the request's
user has been resolved. `GET /bench/bare/replay/<name>` (bench.urls, behind the same server, the
same middleware and the same verified session) runs those statements on a raw cursor, fetches every
row and answers them as `json.dumps`: what a hand-written endpoint would do, minus everything the
platform does in Python (access decisions, forms, schemas, templates, masking).

What both sides share, outside the recording: the session, the user and the second factor (the
middleware and the login check resolve them before the view runs, and the bare view checks
`is_authenticated` and `is_verified()` the same way), and the session's save after the answer.
The platform's own access lookups (memberships, jurisdictions) are part of the recording: the bare
endpoint sends them too, and skips only the Python around them.

The recordings go to a pickle file (`BENCH_REPLAY_FILE`, default var/bench-replay.pickle): parameters
keep their types (datetimes, decimals, lists for `= ANY`), and the file is ours, written by this run.
"""

import json
import os
import pickle
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

ROOT = Path(__file__).resolve().parents[1]
FILE = Path(os.environ.get("BENCH_REPLAY_FILE", str(ROOT / "var" / "bench-replay.pickle")))
MIDDLEWARE = "bench.replay.RecordingMiddleware"

Statement = tuple[str, Any]
_recorded: list[Statement] | None = None  # the statements of the request RecordingMiddleware is in


class RecordingMiddleware:
    """Innermost, recording only: resolves the user and its second factor, then records the view's SQL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        global _recorded
        user = request.user
        if user.is_authenticated:
            user.is_verified()  # type: ignore[union-attr,attr-defined]  # the device, as the bare view's check loads it
        statements: list[Statement] = []

        def keep(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(keep):
            response = self.get_response(request)
        _recorded = statements
        return response


def record(session_key: str, paths: dict[str, str]) -> dict[str, list[Statement]]:
    """Each named path asked twice (the second, steady-state request recorded), written to FILE."""
    from django.conf import settings
    from django.test import Client, override_settings

    global _recorded
    client = Client()
    client.cookies["sessionid"] = session_key
    recordings: dict[str, list[Statement]] = {}
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, MIDDLEWARE]):
        for name, url in paths.items():
            for _ in range(2):
                _recorded = None
                response = client.get(url)
                if response.status_code != 200 or _recorded is None:
                    raise RuntimeError(f"recording {url}: {response.status_code}")
                recordings[name] = _recorded
    FILE.parent.mkdir(parents=True, exist_ok=True)
    FILE.write_bytes(pickle.dumps(recordings))
    return recordings


def writes(statements: list[Statement]) -> list[str]:
    """The statements of a recording that are not reads (a read page that writes says so)."""
    return [sql for sql, _ in statements if not sql.lstrip("( ").upper().startswith(("SELECT", "WITH"))]


_loaded: dict[str, list[Statement]] | None = None


def bare_replay(request: HttpRequest, name: str) -> HttpResponse:
    """The recorded statements of `name` on a raw cursor, every row fetched and answered as JSON."""
    global _loaded
    user = request.user
    if not user.is_authenticated or not user.is_verified():  # type: ignore[union-attr,attr-defined]
        return JsonResponse({"detail": "unauthorized"}, status=401)
    if _loaded is None:
        _loaded = pickle.loads(FILE.read_bytes())  # noqa: S301 - written by this benchmark run
    statements = _loaded[name]
    results: list[list[tuple]] = []
    # A recording with savepoints or writes ran inside the platform's transaction: so does its replay.
    atomic = bool(writes(statements))
    with transaction.atomic() if atomic else nullcontext(), connection.cursor() as cursor:
        for sql, params in statements:
            if atomic and sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
                continue  # the replay's own transaction stands for the platform's savepoints
            cursor.execute(sql, params)
            if cursor.description is not None:
                results.append(cursor.fetchall())
    return HttpResponse(json.dumps(results, default=str, ensure_ascii=False), content_type="application/json")


urlpatterns = [path("bench/bare/replay/<str:name>", bare_replay)]
