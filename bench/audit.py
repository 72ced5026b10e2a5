"""The audit chain: appends per second (one connection, and eight at once), writers per second with 16
sessions on one lane (the former platform-wide lock) and on the lanes, and verification's speed."""

import threading
import time

from django.conf import settings
from django.db import connection, transaction

from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_record, audit_verify


def _append(n: int) -> None:
    for i in range(n):
        audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="bench", target=f"bench-{i}", detail={"i": i})


def measure(rounds: int) -> None:
    _append(20)  # warm up
    started = time.perf_counter()
    _append(rounds)
    serial = rounds / (time.perf_counter() - started)

    # As a case action appends it: inside the action's transaction, no commit of its own.
    started = time.perf_counter()
    with transaction.atomic():
        _append(rounds)
    inside = rounds / (time.perf_counter() - started)

    threads = 8

    def worker() -> None:
        try:
            _append(rounds // threads)
        finally:
            connection.close()

    started = time.perf_counter()
    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    parallel = (rounds // threads * threads) / (time.perf_counter() - started)

    writers = {lanes: _writers(16, rounds // 16, lanes) for lanes in (1, settings.AUDIT_LANES)}

    started = time.perf_counter()
    result = audit_verify()
    verified = result.checked / (time.perf_counter() - started)
    assert result.intact, result.lines()
    print(f"\naudit chain ({connection.vendor})")
    print(f"  appends, one connection:     {serial:8.0f} entries/s (each its own transaction and commit)")
    print(f"  appends in one transaction:  {inside:8.0f} entries/s (the cost inside a case action)")
    print(f"  appends, {threads} connections at once: {parallel:8.0f} entries/s (spread over the lanes)")
    if connection.vendor == "postgresql":
        one, many = writers[1], writers[settings.AUDIT_LANES]
        print(f"  writers, 16 sessions, 1 lane (a global lock): {one:8.0f} transactions/s")
        print(
            f"  writers, 16 sessions, {settings.AUDIT_LANES} lanes:"
            f"            {many:8.0f} transactions/s ({many / one:.1f}x)"
        )
        print("    (each transaction: one append, then 2 ms of the rest of a case action before its commit)")
    print(f"  audit_verify:                {verified:8.0f} entries/s ({result.checked} entries)")


def _writers(sessions: int, each: int, lanes: int) -> float:
    """Transactions/s of `sessions` connections at once, each appending and then holding its transaction
    open for 2 ms, as a case action does after its event's entry (rollups, outbox, commit)."""
    if connection.vendor != "postgresql":
        return 0.0
    before = settings.AUDIT_LANES
    settings.AUDIT_LANES = lanes
    barrier = threading.Barrier(sessions + 1)

    def writer() -> None:
        barrier.wait()
        try:
            for i in range(each):
                with transaction.atomic():
                    audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="bench", detail={"i": i})
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.002)")
        finally:
            connection.close()

    running = [threading.Thread(target=writer) for _ in range(sessions)]
    for thread in running:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in running:
        thread.join()
    elapsed = time.perf_counter() - started
    settings.AUDIT_LANES = before
    return sessions * each / elapsed
