"""Event delivery: from a change's commit to its webhook's receipt, through the real task worker.

A receiver on loopback (tests/webhook_receiver.py, checking every signature) subscribes to case
events; `manage.py db_worker` runs as its own process on the same database, as in production
(`--interval 0.1`, its default is 1 s). Latency: one case registered at a time, the time from the
commit to the receiver holding it (p50/p95). Throughput: a burst of cases waiting in the outbox (the
subscription paused while they commit), the deliveries per second once it resumes.

Run alone on a fresh database: `python bench/webhooks.py` (SQLite under var/, or PG_URL if it answers).
"""

import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = secrets.token_urlsafe(32)  # the receiver and the subscription share it for this run


def _register(i: int) -> tuple[int, float]:
    """One case registered (its own transaction); its outbox event id and the time after the commit."""
    from tests.test_case_lifecycle import register
    from zongzhi.outbox.models import Event

    case = register(title=f"推送基准{i}")
    committed = time.time()
    event = Event.objects.filter(case=case, kind="case.intake").values_list("pk", flat=True).get()
    return event, committed


def measure(rounds: int | None = None, burst: int | None = None) -> None:
    from django.db import connection

    from tests.service_accounts import service_account
    from tests.webhook_receiver import receiving
    from zongzhi.outbox.models import Subscription
    from zongzhi.outbox.tasks import dispatch_soon
    from zongzhi.outbox.webhooks import subscription_create

    rounds = rounds or int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "100"))
    burst = burst or int(os.environ.get("BENCH_WEBHOOK_BURST", "500"))
    account, _token = service_account("bench-webhooks", region="152502000000")
    with receiving(SECRET) as receiver:
        subscription, _secret = subscription_create(
            user=account, actor=account, name="基准", url=receiver.url, kinds=["case.intake"], secret=SECRET
        )
        settings = connection.settings_dict
        database_url = os.environ["DATABASE_URL"]
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "ZONGZHI_DEBUG": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def arrival(event_id: int, limit: float = 30) -> float:
                deadline = time.monotonic() + limit
                while time.monotonic() < deadline:
                    for item in receiver.unique().values():
                        if item.event["id"] == event_id:
                            return item.at
                    time.sleep(0.002)
                raise RuntimeError(f"event {event_id} did not arrive within {limit} s")

            for i in range(5):  # warm up the worker (its start may take minutes on a loaded machine)
                arrival(_register(i)[0], limit=600)
            latencies = []
            for i in range(rounds):
                event, committed = _register(1000 + i)
                latencies.append((arrival(event) - committed) * 1000)
            latencies.sort()
            before = len(receiver.unique())
            # The burst waits in the outbox (subscription paused), then goes out at once: the sending alone.
            Subscription.objects.filter(pk=subscription.pk).update(active=False)
            events = [_register(10_000 + i)[0] for i in range(burst)]
            started = time.time()
            Subscription.objects.filter(pk=subscription.pk).update(active=True)
            dispatch_soon()
            last = max(arrival(e, limit=600) for e in events)
            elapsed = last - started
        finally:
            worker.terminate()
            worker.wait(20)
            Subscription.objects.filter(pk=subscription.pk).update(active=False)
    assert all(r.valid for r in receiver.received)
    print(f"\nwebhook delivery ({connection.vendor}, db_worker --interval 0.1, {settings.get('NAME')})")
    print(
        f"  commit → receipt, one case at a time ({rounds}): p50 {statistics.median(latencies):.0f} ms,"
        f" p95 {latencies[int(len(latencies) * 0.95) - 1]:.0f} ms"
    )
    print(
        f"  burst of {burst} events waiting in the outbox: all received {elapsed:.1f} s after the subscription"
        f" resumed: {burst / elapsed:.0f} deliveries/s ({len(receiver.unique()) - before} received)"
    )


def main() -> None:
    from bench.run import _database_url

    os.environ["DATABASE_URL"] = _database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "zongzhi.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--scale", "small", stdout=open(os.devnull, "w"))  # noqa: SIM115
    measure()


if __name__ == "__main__":
    main()
