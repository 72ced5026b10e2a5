"""The portal's limits hold across server processes: two processes of ten threads each, each
thread with its own database connection, race for one rate limit and for one open day's places."""

import datetime
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.utils import timezone

from tests.browsing import _database_url
from zongzhi.centers.models import Center
from zongzhi.portal.models import OpenDay, OpenDayBooking, ThrottleCounter

ROOT = Path(__file__).resolve().parents[1]


def in_two_processes(*args: str) -> int:
    """Start two racing processes at once; the total they let through."""
    env = {**os.environ, "DATABASE_URL": _database_url()}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.portal_race", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    total = 0
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        total += json.loads(out.strip().splitlines()[-1])["allowed"]
    return total


def test_a_rate_limit_holds_across_processes(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    who = f"race-{uuid.uuid4().hex}"
    assert in_two_processes("throttle", who, "10") == 5  # the limit is 5 an hour


def test_an_open_day_never_takes_more_than_its_places(django_db_setup, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        day = OpenDay.objects.create(
            center=Center.objects.get(code="ZZ-152502"),
            day=timezone.localdate() + datetime.timedelta(days=400),
            starts=datetime.time(9),
            ends=datetime.time(11),
            capacity=7,
        )
    try:
        assert in_two_processes("book", str(day.pk), "10") == 7
        with django_db_blocker.unblock():
            day.refresh_from_db()
            assert day.booked == 7 and OpenDayBooking.objects.filter(open_day=day).count() == 7
    finally:
        with django_db_blocker.unblock():
            OpenDayBooking.objects.filter(open_day=day).delete()
            day.delete()
            ThrottleCounter.objects.filter(key__startswith="book-ip:").delete()
