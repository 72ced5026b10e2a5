"""The audit chain: appends per second (one connection, and eight at once), and verification's speed."""

import threading
import time

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

    started = time.perf_counter()
    result = audit_verify()
    verified = result.checked / (time.perf_counter() - started)
    assert result.intact, result.lines()
    print(f"\naudit chain ({connection.vendor})")
    print(f"  appends, one connection:     {serial:8.0f} entries/s (each its own transaction and commit)")
    print(f"  appends in one transaction:  {inside:8.0f} entries/s (the cost inside a case action)")
    print(f"  appends, {threads} connections at once: {parallel:8.0f} entries/s (serialised by the chain lock)")
    print(f"  audit_verify:                {verified:8.0f} entries/s ({result.checked} entries)")
