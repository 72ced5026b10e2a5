"""Run by test_portal_races.py in separate processes against the test database (committed data).

python -m tests.portal_race throttle KEY N: N threads hit one rate limit (5 an hour) for KEY.
python -m tests.portal_race book DAY_ID N:  N threads each book one place on the open day.
Prints one JSON object: how many were let through.
"""

import json
import os
import sys
import threading
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
django.setup()

from django.db import connection  # noqa: E402

from zongzhi.portal import openday, throttle  # noqa: E402
from zongzhi.portal.models import OpenDay  # noqa: E402

LIMIT = throttle.Limit("race-test", 5, 3600)


def race(n: int, work: Callable[[int], bool]) -> list[bool]:
    barrier = threading.Barrier(n)
    results: list[bool] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results.append(work(i))
        except Exception:
            results.append(False)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main() -> None:
    what, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if what == "throttle":
        results = race(n, lambda i: throttle.hit(LIMIT, target))
    else:
        day = OpenDay.objects.get(pk=int(target))

        def book(i: int) -> bool:
            phone = f"1{os.getpid() % 1000:03d}{i:07d}"
            openday.open_day_book(open_day=day, name="并发", phone=phone, people=1, ip=f"10.0.{i}.{os.getpid() % 250}")
            return True

        results = race(n, book)
    print(json.dumps({"allowed": sum(results)}))


if __name__ == "__main__":
    main()
