"""Cases routed to a township center or registered at a village station are handled there, on the pages.

A grid worker's report from a Xilinhot village goes to its township's center. The county center's
director reads it but it is not in their 待受理 (it is not theirs to accept); the township's director
accepts it and pushes it to the township's people's mediation committee, whose mediator signs for it,
records the session and the agreement. A village station's clerk registers a case at the station; the
station's head pushes it to the village committee, whose mediator resolves it. Every step after the
intake is a form of the case page posted through a real HTTP client to the live server.
"""

import datetime
import re
import uuid

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.http_client import HttpClient, logged_in
from tests.test_case_lifecycle import register, who
from zongzhi.accounts import services as accounts
from zongzhi.accounts.models import Role, User
from zongzhi.cases import selectors
from zongzhi.cases.models import Case, State
from zongzhi.centers.models import Center, Org, Room
from zongzhi.regions.models import Region


def staff(role: str, region: Region, *, center: Center | None = None, org: Org | None = None) -> User:
    """A new account of `role` at a center or an org, jurisdiction `region`, second factor enrolled."""
    user = accounts.user_create(actor=None, username=f"t-{role}-{uuid.uuid4().hex[:6]}", full_name="丙", password=None)
    accounts.membership_grant(actor=None, user=user, role=role, center=center, org=org, cli=True)
    accounts.jurisdiction_grant(actor=None, user=user, region=region)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def act(client: HttpClient, number: str, action: str, fields: dict[str, str]) -> None:
    """Post one form of the case page (with the version it shows) and expect it done (a redirect)."""
    page = client.get(f"/staff/cases/{number}/").text
    assert f'data-action="{action}"' in page, (action, page[:2000])
    version = re.search(r'name="version" value="(\d+)"', page)
    body = {**fields, **({"version": version.group(1)} if version else {})}
    answer = client.post_form(f"/staff/cases/{number}/do/{action}/", body)
    assert answer.status == 302, (action, answer.status, answer.text[:3000])


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def handled_by_committee(base: str, number: str, director: User, committee: Org, mediator: User, room: Room) -> None:
    head = logged_in(base, director.username)
    page = head.get(f"/staff/cases/{number}/").text
    assert committee.code in options(page, "lead")  # the center's own committee can be chosen
    act(head, number, "assign", {"lead": committee.code})
    handler = logged_in(base, mediator.username)
    act(handler, number, "sign_for", {})
    held = timezone.localtime() - datetime.timedelta(hours=1)
    act(
        handler,
        number,
        "session",
        {
            "held_at": held.strftime("%Y-%m-%dT%H:%M"),
            "place_kind": "room",
            "room": str(room.pk),
            "mediators": "调委会主任",
            "attendees": "双方当事人",
            "record": "双方达成一致。",
        },
    )
    act(
        handler,
        number,
        "resolve",
        {
            "facts": "草场边界争议。",
            "terms": "按原围栏位置恢复边界。",
            "performance_method": "自行履行",
            "performance_due": (timezone.localdate() + datetime.timedelta(days=15)).isoformat(),
            "signed_on": timezone.localdate().isoformat(),
        },
    )


def test_a_township_center_handles_what_is_routed_to_it(server: dict[str, str], django_db_blocker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # a browser module's event loop may still run
    base = server["url"]
    with django_db_blocker.unblock():  # the ORM on the committed data the server sees
        grid = who("gridworker").jurisdictions.select_related("region").get().region
        case = register(actor=who("gridworker"), channel=Case.Channel.GRID, region=grid)
        center = case.center
        assert center.level == Center.Level.TOWNSHIP  # routed to the township's center
        township = center.region
        committee = Org.objects.get(code=f"{township.code[:9]}-MC")
        director = staff(Role.CENTER_DIRECTOR, township, center=center)
        mediator = staff(Role.MEDIATOR, township, org=committee)
        room = Room.objects.filter(center=center, kind="mediation").first()
        assert room is not None
        county_queue = selectors.queue(who("director"), "to_accept").filter(number=case.number)
        assert not county_queue.exists()  # not the county center's to accept
        assert selectors.queue(director, "to_accept").filter(number=case.number).exists()
        head = logged_in(base, director.username)
        home = head.get("/staff/").text
        assert 'data-queue="to_accept"' in home
        act(head, case.number, "accept", {})
        handled_by_committee(base, case.number, director, committee, mediator, room)
        done = Case.objects.get(pk=case.pk)
        assert done.state == State.RESOLVED and done.center_id == center.pk
        assert done.assignments.get().org == committee


def test_a_village_station_handles_what_it_registers(server: dict[str, str], django_db_blocker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # a browser module's event loop may still run
    base = server["url"]
    with django_db_blocker.unblock():
        station = Center.objects.filter(level=Center.Level.VILLAGE, region_code__startswith="152502").order_by("code")[
            0
        ]
        village = station.region
        committee = Org.objects.get(code=f"{village.code}-MC")
        clerk = staff(Role.INTAKE_CLERK, village, center=station)
        head = staff(Role.CENTER_DIRECTOR, village, center=station)
        mediator = staff(Role.MEDIATOR, village, org=committee)
        room = Room.objects.filter(center=station, kind="mediation").first()
        assert room is not None
        case = register(actor=clerk, region=village)
        assert case.center == station
        window = logged_in(base, clerk.username)
        act(window, case.number, "accept", {})
        handled_by_committee(base, case.number, head, committee, mediator, room)
        done = Case.objects.get(pk=case.pk)
        assert done.state == State.RESOLVED and done.center_id == station.pk
