"""Reads from a PostgreSQL streaming replica where they can be: dashboards, lists, exports.

With `DATABASE_REPLICA_URL` set, the `replica` database alias exists and:

- `ReplicaReadsMiddleware` marks a GET request to one of `REPLICA_VIEWS` as a replica read, for the
  whole request (templates and the API's serialisation read lazily, after the view returns);
- `ReplicaRouter` sends the reads of such a request to the replica; every write, every read of
  any other request, and all reads of accounts, sessions, second factors and the audit log go to
  the primary (a revoked role or a logout must take effect at once, not after the replica's lag);
- read your own writes: after a request that may have written (any method but GET/HEAD/OPTIONS),
  the answer carries the primary's WAL position in a cookie; while the replica has not replayed up
  to it, that browser's reads go to the primary;
- a replica that does not answer is left alone for `REPLICA_RETRY_SECONDS`: reads go to the
  primary, and a request that failed on the replica midway is answered again from the primary;
- what the replica answered (that it is up, how far it has replayed) is kept by the process for
  `REPLICA_CHECK_SECONDS`, so a replica read costs no extra round trip per request: replay only
  moves forward, so a write the replica had replayed stays replayed; a position beyond the kept one
  is asked afresh; a replica gone down meanwhile fails the request's first read, which is answered
  again from the primary (above).
"""

import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
LSN_COOKIE = "zz_wal"
_LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")
# Pages and API reads that may be a moment behind: figures, lists, exports.
REPLICA_VIEWS = frozenset(
    {
        "dashboards:home",
        "dashboards:page",
        "dashboards:wall",
        "dashboards:data",
        "dashboards:map",
        "dashboards:report",
        "cases:list",
        "transfer:export",
        "api:create_case",  # GET on this path is the case list
        "api:stats",
        "api:regions",
        "api:region",
        "api:region_children",
        "api:centers",
        "api:dashboard",
        "api:households",
        "api:residents",
    }
)
PRIMARY_ONLY_APPS = frozenset({"accounts", "sessions", "auth", "contenttypes", "otp_totp", "django_otp", "audit"})

_reading: ContextVar[bool] = ContextVar("replica_read", default=False)
_down_until = 0.0
# (monotonic time of the replica's answer, the position it had replayed to, or -1 when it replays nothing)
_seen: tuple[float, int] | None = None


def configured() -> bool:
    return REPLICA in settings.DATABASES


def _mark_down() -> None:
    global _down_until, _seen
    _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    _seen = None
    connections[REPLICA].close()


def lsn_value(lsn: str) -> int:
    """A WAL position (`16/B374D848`) as a number, in WAL order."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def replica_usable(wal: str | None) -> bool:
    """The replica answers and, when the browser wrote lately, has replayed up to that write."""
    global _seen
    now = time.monotonic()
    if not configured() or now < _down_until:
        return False
    wanted = lsn_value(wal) if wal and _LSN.match(wal) else None
    seen = _seen
    fresh = seen is not None and now - seen[0] < settings.REPLICA_CHECK_SECONDS
    if fresh and seen is not None and (wanted is None or seen[1] >= wanted):
        return True  # answered a moment ago, and had replayed this far already
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()::text")
            replayed = cursor.fetchone()[0]
    except DatabaseError:
        _mark_down()
        return False
    position = lsn_value(replayed) if replayed else -1  # NULL: not replaying (no write of ours is there)
    _seen = (time.monotonic(), position)
    return wanted is None or position >= wanted


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading.get() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        return True  # the same rows, whichever copy they were read from

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


class ReplicaReadsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _reading.set(False)
        try:
            response = self.get_response(request)
        finally:
            _reading.reset(token)
        if configured() and request.method not in ("GET", "HEAD", "OPTIONS"):
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                response.set_cookie(
                    LSN_COOKIE, cursor.fetchone()[0], max_age=300, httponly=True, samesite="Lax",
                    secure=settings.SESSION_COOKIE_SECURE,
                )  # fmt: skip
        return response

    def process_view(self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> None:
        match = request.resolver_match
        if request.method == "GET" and match is not None and match.view_name in REPLICA_VIEWS:
            _reading.set(replica_usable(request.COOKIES.get(LSN_COOKIE)))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A replica that failed midway: the same GET once more, from the primary."""
        if not (_reading.get() and isinstance(exception, DatabaseError)):
            return None
        _mark_down()
        _reading.set(False)
        match = request.resolver_match
        assert match is not None
        return match.func(request, *match.args, **match.kwargs)
