"""Liveness (`/healthz`) and readiness (`/readyz`) for the load balancer and the operator.

Liveness: the process answers and the database does. Readiness adds what makes the platform
work beyond answering pages: the task worker is picking up queued tasks (deadline sweeps,
deliveries), and whatever other parts register with `readiness_check` (the outbox's backlog, for
one). Each check answers (ok, figure); the page is 200 when all are ok, else 503, with every
check's figure so the operator sees which part is behind.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

Check = Callable[[], tuple[bool, Any]]
_CHECKS: dict[str, Check] = {}


def readiness_check(name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        _CHECKS[name] = check
        return check

    return register


@readiness_check("database")
def _database() -> tuple[bool, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, connection.vendor


@readiness_check("worker")
def _worker() -> tuple[bool, Any]:
    """The oldest task waiting for the worker: ready when none has waited longer than WORKER_MAX_LAG."""
    oldest = DBTaskResult.objects.ready().order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    waited = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return waited <= settings.WORKER_MAX_LAG.total_seconds(), {"oldest_waiting_seconds": round(waited)}


def healthz(request: HttpRequest) -> JsonResponse:
    _database()
    return JsonResponse({"ok": True})


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, Any] = {}
    ready = True
    for name, check in _CHECKS.items():
        try:
            ok, figure = check()
        except DatabaseError as error:
            ok, figure = False, type(error).__name__
        results[name] = {"ok": ok, "figure": figure}
        ready = ready and ok
    return JsonResponse({"ok": ready, "checks": results}, status=200 if ready else 503)
