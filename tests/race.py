"""Run by test_concurrency.py in a separate process against the test database (committed data).

race transition N: N threads try the same transition with the same version at once.
race intake N:     N threads register cases in the same county at once.
race booking N:    N threads book the same room for the same free slot at once.
race household N:  N threads register households in the same grid at once (removed afterwards).
race reach N:      N threads give one org a service area each, in N other counties, at once (removed afterwards).
Prints one JSON object with what happened.
"""

import datetime
import json
import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings")
django.setup()

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from zongzhi.accounts.models import User  # noqa: E402
from zongzhi.cases import services  # noqa: E402
from zongzhi.cases.models import Case, CaseEvent, Category, RoomBooking  # noqa: E402
from zongzhi.cases.workflow import Conflict  # noqa: E402
from zongzhi.centers import services as center_services  # noqa: E402
from zongzhi.centers.models import Org, Room, ServiceArea  # noqa: E402
from zongzhi.grid import services as grid_services  # noqa: E402
from zongzhi.grid.models import GridWorker, Household  # noqa: E402
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
        except ValidationError as exc:
            results.append("refused: " + "；".join(m for ms in exc.message_dict.values() for m in ms))
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
    elif what == "booking":
        clerk = User.objects.get(username="demo-intake")
        case = new_case("并发预约")
        case = services.case_act(case=case, action="accept", actor=clerk, version=case.version)
        case = services.case_assign(
            case=case,
            actor=User.objects.get(username="demo-director"),
            version=case.version,
            lead=Org.objects.get(code="152502-D05"),
        )  # rooms are booked for a case being handled
        room = Room.objects.filter(center__code="ZZ-152502", kind="mediation").order_by("pk").first()
        assert room is not None
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=2)
        while RoomBooking.objects.filter(room=room, starts_at__lt=start + HOUR, ends_at__gt=start).exists():
            start += HOUR  # a slot nobody booked before this race

        def book(i: int) -> str:
            services.room_book(case=case, actor=clerk, room=room, starts_at=start, ends_at=start + HOUR)
            return "ok"

        results = race(n, book)
        booked = RoomBooking.objects.filter(room=room, starts_at__lt=start + HOUR, ends_at__gt=start).count()
        events = CaseEvent.objects.filter(case=case, kind="booking").count()
        print(json.dumps({"results": results, "room": room.name, "bookings": booked, "events": events}))
    elif what == "household":
        worker = GridWorker.objects.select_related("grid__parent").get(user__username="demo-gridworker")
        village = worker.grid.parent
        assert village is not None
        before = set(Household.objects.filter(grid=worker.grid).values_list("pk", flat=True))

        def register(i: int) -> str:
            return grid_services.household_register(
                actor=worker.user, village=village, grid=worker.grid, address=f"并发测试 {i} 号"
            ).code

        results = race(n, register)
        # Leave the grid as the seed made it: other tests count its households.
        Household.objects.filter(grid=worker.grid).exclude(pk__in=before).delete()
        print(json.dumps({"results": results}))
    elif what == "reach":
        # A Duolun office no other test lists as serving anywhere, and N counties other than Duolun.
        org = Org.objects.filter(region_code__startswith="152531", service_areas__isnull=True).order_by("-code")[0]
        counties = list(Region.objects.filter(level="county").exclude(code__startswith="152531").order_by("code")[:n])
        assert len(counties) == n, f"the league has {len(counties)} other counties"
        reach_before = (org.reach_from, org.reach_to)

        def serve(i: int) -> str:
            center_services.service_area_add(actor=None, org=Org.objects.get(pk=org.pk), region=counties[i])
            return "ok"

        results = race(n, serve)
        stored = Org.objects.get(pk=org.pk)
        reach = [stored.reach_from, stored.reach_to]
        areas = ServiceArea.objects.filter(org=org).count()
        # Leave the org as the seed made it: its reach is never narrowed by the platform itself.
        for area in ServiceArea.objects.filter(org=org):
            center_services.service_area_remove(actor=None, area=area)
        Org.objects.filter(pk=org.pk).update(reach_from=reach_before[0], reach_to=reach_before[1])
        prefixes = [c.code[:6] for c in counties]
        print(json.dumps({"results": results, "reach": reach, "areas": areas, "prefixes": prefixes}))
    else:
        results = race(n, lambda i: new_case(f"并发登记{i}").number)
        print(json.dumps({"results": results}))


HOUR = datetime.timedelta(hours=1)


if __name__ == "__main__":
    main()
