"""Run by test_concurrency.py in a separate process against the test database (committed data).

race transition N: N threads try the same transition with the same version at once.
race intake N:     N threads register cases in the same county at once.
Prints one JSON object with what happened.
"""

import json
import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
django.setup()

from django.db import connection  # noqa: E402

from zongzhi.accounts.models import User  # noqa: E402
from zongzhi.cases import services  # noqa: E402
from zongzhi.cases.models import Case, CaseEvent, Category  # noqa: E402
from zongzhi.cases.workflow import Conflict  # noqa: E402
from zongzhi.regions.models import Region  # noqa: E402


def new_case(title: str) -> Case:
    return services.case_intake(
        actor=User.objects.get(username="demo-intake"),
        category=Category.objects.get(code="neighbour"),
        title=title,
        description=f"{title}：并发测试用纠纷。",
        region=Region.objects.get(code="152502001001"),
        parties=[services.PartyInput(kind="person", role="applicant", name="测试")],
    )


def race(n: int, work) -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results.append(work(i))
        except Conflict:
            results.append("conflict")
        except Exception as exc:
            results.append(f"error: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main() -> None:
    what, n = sys.argv[1], int(sys.argv[2])
    if what == "transition":
        case = new_case("并发受理")
        version = case.version
        clerk = User.objects.get(username="demo-intake")

        def accept(i: int) -> str:
            services.case_act(case=Case.objects.get(pk=case.pk), action="accept", actor=clerk, version=version)
            return "ok"

        results = race(n, accept)
        case.refresh_from_db()
        events = CaseEvent.objects.filter(case=case, kind="accept").count()
        print(json.dumps({"results": results, "state": case.state, "version": case.version, "accept_events": events}))
    else:
        results = race(n, lambda i: new_case(f"并发登记{i}").number)
        print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
