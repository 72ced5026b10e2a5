"""The platform API beyond cases, over real HTTP against the live server: every write twice, by the
persona who does it with a session and its CSRF token, and by a system with a bearer token granted
that resource's rights (`SYSTEMS`); the jurisdiction (another county's things are 404, like missing
ones); cursor paging that stays stable while rows are inserted between pages.

These tests hold no transaction of their own (the server writes), so each makes what it needs with
names of its own; personas are the demo logins (Xilinhot unless said).
"""

import datetime
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests import real_files
from tests.api_tokens import bearer, service_token
from tests.browsing import ROOT
from tests.conftest import DUOLUN, XILINHOT
from tests.http_client import HttpClient, Response, logged_in
from tests.messy_files import person_id, write_xlsx
from tests.test_field import record
from zongzhi.accounts.models import User
from zongzhi.audit.models import AuditEntry
from zongzhi.cases.models import Case, Category
from zongzhi.centers.models import Center, Org, Presence
from zongzhi.field import services as field_services
from zongzhi.field.models import FieldItem, MobileVisit, RiskItem, Visit
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import ClaimConflict, GridWorker, Household, Resident
from zongzhi.identity import make_resident_id
from zongzhi.meetings.services import agenda_cases
from zongzhi.regions.models import Region

# Each flow runs twice: as the persona, a session with its CSRF token; and as another system, a bearer
# token of a service account that does the same writes because the security administrator granted it
# the resources (`--allow`), over the persona's jurisdiction. A system is the actor of what it writes;
# where the write is a grid worker's (a claim, a visit) it names the grid worker (`worker`).
AUTH = ["session", "bearer"]
Clients = Callable[[str, str], HttpClient]


def _rw(*resources: str) -> tuple[str, ...]:
    return tuple(f"{r}:{a}" for r in resources for a in ("read", "write"))


GRID = "grid"  # the region of demo-gridworker's grid
LEAGUE = "152500000000"
SYSTEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gridworker": (GRID, _rw("households", "residents", "claims", "visits", "items", "cases")),
    "director": (
        XILINHOT,
        _rw("claims", "visits", "items", "mobile_units", "reviews", "meetings", "imports", "exports", "open_days")
        + ("cases:read", "cases:write", "residents:read", "households:read"),
    ),
    # No `open_days:write`: the open day it tries to list is refused with 403.
    "intake": (XILINHOT, _rw("cases") + ("residents:read", "households:read", "regions:read", "dashboards:read")),
    "leader": (XILINHOT, ("imports:read", "exports:read")),
    "league": (LEAGUE, ("residents:read",)),
}


@pytest.fixture(scope="module")
def clients(server: dict[str, str], django_db_blocker: Any) -> Clients:
    """`clients(auth, persona)`: the persona's session with its CSRF token, or a bearer token of a system
    over the persona's jurisdiction with the rights of `SYSTEMS`; one of each per persona."""
    made: dict[tuple[str, str], HttpClient] = {}

    def get(auth: str, persona: str) -> HttpClient:
        if (auth, persona) not in made:
            with django_db_blocker.unblock():
                if auth == "session":
                    made[auth, persona] = logged_in(server["url"], f"demo-{persona}")
                else:
                    region, rights = SYSTEMS[persona]
                    code = _worker_grid().code if region == GRID else region
                    token = service_token(f"tapi-{persona}-{uuid.uuid4().hex[:6]}", region=code, rights=rights)
                    made[auth, persona] = bearer(server["url"], token)
        return made[auth, persona]

    return get


def _as(auth: str, code: str) -> dict[str, str]:
    """The `worker` a system names (a person claims or visits as themselves)."""
    return {"worker": code} if auth == "bearer" else {}


def _recorded_as(auth: str, persona: str, call: str) -> None:
    """A system's write is audited as that service account's call (call with the database unblocked)."""
    if auth != "bearer":
        return
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.API_CALL, target=call).select_related("actor")
    done = [e for e in entries if e.detail["status"] in (200, 201, 202)]
    assert len(done) == 1, f"audit entries of {call}: {[(e.actor_id, e.detail) for e in entries]}"
    assert done[0].actor is not None and done[0].actor.username.startswith(f"svc-tapi-{persona}-")


def ok(response: Response, status: int = 200) -> Any:
    assert response.status == status, f"{response.status}: {response.text[:800]}"
    return response.json()


def _seq(auth: str) -> int:
    return {"session": 1, "bearer": 2}[auth]


def _worker_grid(username: str = "demo-gridworker") -> Region:
    return GridWorker.objects.select_related("grid__parent").get(user__username=username).grid


def household_in(grid: Region, n: int) -> Household:
    """A household of `grid` with one resident, registered through the services (codes `TAPI…` are this file's)."""
    worker = GridWorker.objects.filter(grid=grid, user__isnull=False).select_related("user").first()
    actor = worker.user if worker else User.objects.get(username="demo-league")
    village = grid.parent
    assert village is not None
    household = grid_services.household_register(
        actor=actor, village=village, grid=grid, code=f"TAPI{grid.code}{n:02d}", address="接口测试嘎查"
    )
    grid_services.resident_add(
        actor=actor,
        household=household,
        name=f"巴特尔{n}",
        relation="head",
        ethnicity="蒙古族",
        language="mn",
        id_number=make_resident_id(grid.code[:6], datetime.date(1951, 1 + n % 12, 1 + n % 28), 600 + n),
    )
    return household


# ---- residents, households, claims -----------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_a_grid_worker_registers_a_household_adds_a_resident_looks_them_up_and_claims(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    gw = clients(auth, "gridworker")
    with django_db_blocker.unblock():
        grid = _worker_grid()
        worker = GridWorker.objects.get(user__username="demo-gridworker")
    number = make_resident_id(grid.code[:6], datetime.date(1931, 2, 3 + _seq(auth)), 700 + _seq(auth))
    created = ok(gw.post_json("/api/v1/households", {"grid": grid.code, "address": f"接口测试{auth}"}), 201)
    assert created["grid"] == grid.code and created["claimed_by"] is None
    code = created["code"]
    person = {
        "name": f"其其格{auth}",
        "relation": "户主",  # as the page shows it; `head` works too
        "ethnicity": "蒙古族",
        "language": "mn",
        "id_number": number,
        "phone": "13947900077",
    }
    added = ok(gw.post_json(f"/api/v1/households/{code}/residents", person), 201)
    assert added["id_number"] == number[:6] + "********" + number[-4:] and added["phone"] == "139****0077"
    assert added["relation"] == "head" and added["language"] == "mn"
    twice = gw.post_json(f"/api/v1/households/{code}/residents", person)
    assert twice.status == 422 and code in twice.json()["errors"]["id_number"][0]
    looked = gw.post_json("/api/v1/residents/lookup", {"id_number": number})
    assert [r["id"] for r in ok(looked)["results"]] == [added["id"]] and number not in looked.text
    by_phone = ok(gw.post_json("/api/v1/residents/lookup", {"phone": "13947900077"}))
    assert added["id"] in [r["id"] for r in by_phone["results"]]
    assert gw.post_json("/api/v1/residents/lookup", {"id_number": number, "phone": "1"}).status == 422
    if auth == "bearer":  # a system claims for the grid worker it names
        unnamed = gw.post_json(f"/api/v1/households/{code}/claim", {})
        assert unnamed.status == 422 and "网格员" in unnamed.json()["errors"]["worker"][0]
    claimed = ok(gw.post_json(f"/api/v1/households/{code}/claim", _as(auth, worker.code)))
    assert claimed["household"]["claimed_by"] == worker.code and claimed["conflict"] is None
    unmask = f"/api/v1/residents/{added['id']}/unmask"
    if auth == "session":  # the grid worker, with a reason, sees the full numbers; audited
        assert gw.post_json(unmask, {"reason": " "}).status == 422
        full = ok(gw.post_json(unmask, {"reason": "核对低保材料"}))
        assert full["id_number"] == number and full["phone"] == "13947900077"
    else:  # another system reads masked numbers only
        refused = gw.post_json(unmask, {"reason": "核对"})
        assert refused.status == 403 and "服务账号不能查看完整证件号" in refused.json()["detail"]
    detail = ok(gw.get(f"/api/v1/households/{code}"))
    assert [r["name"] for r in detail["residents"]] == [f"其其格{auth}"] and detail["claimed_grid"] == grid.code
    with django_db_blocker.unblock():
        resident = Resident.objects.get(pk=added["id"])
        assert resident.id_number == number and resident.household.claimed_by_id == worker.pk
        _recorded_as(auth, "gridworker", f"POST /api/v1/households/{code}/claim")
        unmasked = AuditEntry.objects.filter(action=AuditEntry.Action.UNMASK, target=f"resident:{added['id']}")
        assert unmasked.count() == (1 if auth == "session" else 0)
    if auth == "session":  # a session's POST without its CSRF token is refused, and nothing is written
        sent = {"Content-Type": "application/json", "X-CSRFToken": "not-the-token-of-this-session-0123456789"}
        refused = gw.request("POST", "/api/v1/households", b'{"grid": "%s"}' % grid.code.encode(), sent)
        assert refused.status == 403 and "CSRF" in refused.text


@pytest.mark.parametrize("auth", AUTH)
def test_a_director_decides_a_claim_conflict(auth: str, clients: Clients, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        mine = GridWorker.objects.select_related("grid", "user").get(user__username="demo-gridworker")
        other = (
            GridWorker.objects.filter(region_code__startswith="152502", user__isnull=False)
            .exclude(grid=mine.grid)
            .select_related("grid", "user")
            .order_by("code")
            .first()
        )
        assert other is not None and other.user is not None
        contested = household_in(mine.grid, 60 + _seq(auth))
        grid_services.household_claim(actor=mine.user, household=contested)
        Household.objects.filter(pk=contested.pk).update(grid=other.grid, region_code=other.grid.code)
        Resident.objects.filter(household=contested).update(region_code=other.grid.code)  # its people move with it
        conflict = grid_services.household_claim(actor=other.user, household=Household.objects.get(pk=contested.pk))
        assert isinstance(conflict, ClaimConflict)
    director = clients(auth, "director")
    listed = ok(director.get_json("/api/v1/claim-conflicts", limit=200))
    assert conflict.pk in [c["id"] for c in listed["results"]]
    wrong = director.post_json(f"/api/v1/claim-conflicts/{conflict.pk}/resolve", {"winner": "GW-NOBODY"})
    assert wrong.status == 422 and "winner" in wrong.json()["errors"]
    decided = ok(director.post_json(f"/api/v1/claim-conflicts/{conflict.pk}/resolve", {"winner": other.code}))
    assert decided["status"] == "resolved" and decided["winner"] == other.code
    again = director.post_json(f"/api/v1/claim-conflicts/{conflict.pk}/resolve", {"winner": other.code})
    assert again.status == 422 and "已裁定" in again.json()["detail"]
    with django_db_blocker.unblock():
        assert Household.objects.get(pk=contested.pk).claimed_by_id == other.pk


# ---- visits and their items --------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_a_grid_worker_records_a_visit_notes_an_item_handles_it_and_reports_a_dispute(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    gw = clients(auth, "gridworker")
    with django_db_blocker.unblock():
        home = household_in(_worker_grid(), 70 + _seq(auth))
        applicant = home.residents.get()
        grassland = Category.objects.get(code="grassland")
        worker = GridWorker.objects.get(user__username="demo-gridworker")
    at = (timezone.localtime() - datetime.timedelta(hours=2)).replace(tzinfo=None).isoformat(timespec="minutes")
    body = {"household": home.code, "visited_at": at, "notes": "入户走访，草场围栏有争执。", "lat": 43.9, "lng": 116.1}
    body |= _as(auth, worker.code)
    visit = ok(gw.post_json("/api/v1/visits", body), 201)
    assert visit["worker"] == worker.code
    # Photos one a request; the same bytes sent again (a retried upload) are the photo already kept.
    photos = f"/api/v1/visits/{visit['id']}/photos"
    photo = ok(gw.post_files(photos, {"photo": ("围栏.jpg", real_files.JPEG)}, {}), 201)
    assert photo["sha256"] == hashlib.sha256(real_files.JPEG).hexdigest() and photo["content_type"] == "image/jpeg"
    assert ok(gw.post_files(photos, {"photo": ("围栏-重传.jpg", real_files.JPEG)}, {}))["id"] == photo["id"]
    not_a_photo = gw.post_files(photos, {"photo": ("围栏.jpg", b"%PDF-1.4 not an image")}, {})
    assert not_a_photo.status == 422 and "JPEG" in not_a_photo.json()["errors"]["photo"][0]
    assert [p["id"] for p in ok(gw.get(photos))["results"]] == [photo["id"]]
    assert gw.get(f"/api/v1/visit-photos/{photo['id']}").body == real_files.JPEG
    assert visit["household"] == home.code and visit["case"] is None
    future = gw.post_json("/api/v1/visits", {**body, "visited_at": "2099-01-01T09:00"})
    assert future.status == 422 and "晚于现在" in future.json()["errors"]["visited_at"][0]
    item = ok(gw.post_json(f"/api/v1/visits/{visit['id']}/items", {"kind": "安全隐患", "title": "棚圈漏电"}), 201)
    assert item["kind"] == "safety" and item["status"] == "open" and item["visit"] == visit["id"]
    handled = ok(gw.post_json(f"/api/v1/field-items/{item['id']}/handle", {"note": "已通知电工修好。"}))
    assert handled["status"] == "handled"
    twice = gw.post_json(f"/api/v1/field-items/{item['id']}/handle", {"note": "再次处理"})
    assert twice.status == 422
    case = {
        "category": grassland.name,
        "title": "草场围栏纠纷",
        "description": "两户围栏争执。",
        "applicant": applicant.pk,
    }
    raised = ok(gw.post_json(f"/api/v1/visits/{visit['id']}/case", case), 201)
    assert raised["state"] == "registered"
    again = gw.post_json(f"/api/v1/visits/{visit['id']}/case", case)
    assert again.status == 422 and raised["number"] in again.json()["detail"]
    detail = ok(gw.get(f"/api/v1/visits/{visit['id']}"))
    assert detail["case"] == raised["number"] and [i["id"] for i in detail["items"]] == [item["id"]]
    with django_db_blocker.unblock():
        made = Case.objects.get(number=raised["number"])
        assert made.channel == Case.Channel.GRID and made.category_id == grassland.pk
        # The timeline shows who registered it: the grid worker, or the system that sent it.
        registered_by = made.events.order_by("id").first().actor.username  # type: ignore[union-attr]
        assert registered_by == "demo-gridworker" if auth == "session" else registered_by.startswith("svc-tapi-")
        assert Visit.objects.get(pk=visit["id"]).worker_id == worker.pk
        _recorded_as(auth, "gridworker", f"POST /api/v1/visits/{visit['id']}/case")
        assert Visit.objects.get(pk=visit["id"]).case_id == made.pk
        assert FieldItem.objects.get(pk=item["id"]).handling_note == "已通知电工修好。"


# ---- mobile units, stops, stations -------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_a_director_sets_up_a_mobile_unit_plans_its_circuit_and_logs_a_stop(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    director = clients(auth, "director")
    with django_db_blocker.unblock():
        grid = _worker_grid()
        county = Region.objects.get(code=XILINHOT)
        herders = [household_in(grid, 80 + 2 * _seq(auth) + n) for n in range(2)]
        grassland = Category.objects.get(code="grassland")
    village = grid.parent
    assert village is not None
    station = ok(
        director.post_json(
            "/api/v1/stations", {"name": f"接口驿站{auth}", "village": village.code, "households": [herders[0].code]}
        ),
        201,
    )
    assert station["village"] == village.code and station["households"] == 1
    listed_stations = ok(director.get_json("/api/v1/stations", region=village.code, limit=200))["results"]
    assert {s["id"]: s["households"] for s in listed_stations}[station["id"]] == 1  # counted on the links
    unit_body = {
        "name": f"接口乌日特{auth}",
        "county": county.name,  # a name a person types; the code works too
        "households": [h.code for h in herders],
        "orgs": ["152502-D05"],
        "members": ["demo-mediator"],
    }
    unit = ok(director.post_json("/api/v1/mobile-units", unit_body), 201)
    assert unit["county"] == XILINHOT and sorted(unit["households"]) == sorted(h.code for h in herders)
    assert unit["members"] == ["demo-mediator"] and unit["orgs"] == ["152502-D05"]
    today = timezone.localdate()
    stops = [
        {"planned_on": today.isoformat(), "household": herders[0].code},
        {"planned_on": (today + datetime.timedelta(days=1)).isoformat(), "station": station["id"]},
        {"planned_on": (today + datetime.timedelta(days=2)).isoformat(), "place": "夏营地"},
    ]
    plan = ok(director.post_json(f"/api/v1/mobile-units/{unit['id']}/plan", {"stops": stops}))
    assert [s["household"] for s in plan["results"]] == [herders[0].code, None, None]
    backwards = director.post_json(f"/api/v1/mobile-units/{unit['id']}/plan", {"stops": stops[::-1]})
    assert backwards.status == 422 and "早于上一站" in backwards.json()["detail"]
    served = {
        "visited_on": today.isoformat(),
        "services": [{"service": "矛盾调解", "count": 2, "note": "草场纠纷"}],
        "stop": plan["results"][0]["id"],
        "people_served": 6,
    }
    stop = ok(director.post_json(f"/api/v1/mobile-units/{unit['id']}/visits", served), 201)
    assert stop["services"][0]["name"] == "矛盾调解" and stop["services"][0]["count"] == 2
    item = ok(
        director.post_json(f"/api/v1/mobile-visits/{stop['id']}/items", {"kind": "opinion", "title": "希望通电"}), 201
    )
    assert item["mobile_visit"] == stop["id"] and item["region"] == grid.code
    case_body = {
        "category": grassland.code,
        "title": "乌日特现场草场纠纷",
        "description": "牧户反映邻户越界放牧。",
        "parties": [{"kind": "person", "role": "applicant", "name": "图雅"}],
        "household": herders[1].code,
    }
    raised = ok(director.post_json(f"/api/v1/mobile-visits/{stop['id']}/case", case_body), 201)
    listed = ok(director.get(f"/api/v1/mobile-units/{unit['id']}/visits"))
    assert [v["id"] for v in listed["results"]] == [stop["id"]] and listed["results"][0]["cases"] == [raised["number"]]
    with django_db_blocker.unblock():
        assert Case.objects.get(number=raised["number"]).channel == Case.Channel.MOBILE
        assert MobileVisit.objects.get(pk=stop["id"]).people_served == 6
        _recorded_as(auth, "director", f"POST /api/v1/mobile-units/{unit['id']}/plan")


# ---- village risk reviews ----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_a_director_reviews_a_village_grades_an_item_and_records_how_it_was_handled(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    director = clients(auth, "director")
    with django_db_blocker.unblock():
        home = household_in(_worker_grid(), 90 + _seq(auth))
        gridworker = User.objects.get(username="demo-gridworker")
        visit = record(gridworker, home)
        found = field_services.field_item_raise(visit=visit, actor=gridworker, kind="safety", title=f"危房{auth}")
    village = home.village
    review = ok(
        director.post_json(
            "/api/v1/risk-reviews", {"village": village.code, "held_on": timezone.localdate().isoformat()}
        ),
        201,
    )
    mine = [i for i in review["items"] if i["field_item"] == found.pk]
    assert len(mine) == 1 and mine[0]["status"] == "pending"
    bad = director.post_json(f"/api/v1/risk-items/{mine[0]['id']}/decide", {"decision": "加固", "grade": "省级"})
    assert bad.status == 422 and "grade" in bad.json()["errors"]
    decided = ok(
        director.post_json(
            f"/api/v1/risk-items/{mine[0]['id']}/decide", {"decision": "由苏木组织加固。", "grade": "苏木乡镇处置"}
        )
    )
    assert decided["grade"] == "township" and decided["status"] == "assigned" and decided["handling_center"]
    waiting = ok(director.get_json("/api/v1/risk-items", limit=200))
    assert mine[0]["id"] in [i["id"] for i in waiting["results"]]
    done = ok(director.post_json(f"/api/v1/risk-items/{mine[0]['id']}/done", {"note": "已加固。"}))
    assert done["status"] == "done" and done["handled_note"] == "已加固。"
    with django_db_blocker.unblock():
        assert RiskItem.objects.get(pk=mine[0]["id"]).status == RiskItem.Status.DONE
        _recorded_as(auth, "director", f"POST /api/v1/risk-items/{mine[0]['id']}/done")


# ---- meetings ----------------------------------------------------------------------------------------


def next_month() -> datetime.date:
    today = timezone.localdate()
    return (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


@pytest.mark.parametrize("auth", AUTH)
def test_a_director_convenes_a_meeting_decides_an_item_and_archives_it(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    """Next month's meeting (this month's belong to tests/test_meetings.py): the county, then a township."""
    director = clients(auth, "director")
    with django_db_blocker.unblock():
        townships = Region.objects.filter(code__startswith="152502", level="township").order_by("code")
        township = max(townships, key=lambda t: agenda_cases(t).count())
        region = Region.objects.get(code=XILINHOT) if auth == "session" else township
    body = {"region": region.name, "held_on": next_month().isoformat(), "attendees": "公安、司法、信访"}
    meeting = ok(director.post_json("/api/v1/meetings", body), 201)
    assert meeting["region"] == region.code and meeting["status"] == "preparing" and meeting["items"]
    twice = director.post_json("/api/v1/meetings", body)
    assert twice.status == 422 and "已经建立" in twice.json()["detail"]
    first = meeting["items"][0]
    decided = ok(director.post_json(f"/api/v1/meeting-items/{first['id']}/decide", {"decision": "限期十日化解。"}))
    assert decided["decision"] == "限期十日化解。"
    empty = director.post_json(f"/api/v1/meetings/{meeting['id']}/minutes", {"minutes": " ", "close": True})
    assert empty.status == 422 and "纪要" in empty.json()["detail"]
    closed = ok(
        director.post_json(f"/api/v1/meetings/{meeting['id']}/minutes", {"minutes": "会议议定。", "close": True})
    )
    assert closed["status"] == "held" and closed["minutes"] == "会议议定。"
    late = director.post_json(f"/api/v1/meeting-items/{first['id']}/decide", {"decision": "改"})
    assert late.status == 422 and "归档" in late.json()["detail"]
    with django_db_blocker.unblock():
        _recorded_as(auth, "director", f"POST /api/v1/meetings/{meeting['id']}/minutes")


# ---- open days ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_a_director_lists_an_open_day(auth: str, clients: Clients, django_db_blocker: Any) -> None:
    director = clients(auth, "director")
    with django_db_blocker.unblock():
        center = Center.objects.get(code="ZZ-152502")
    day = (timezone.localdate() + datetime.timedelta(days=170 + _seq(auth))).isoformat()
    body = {"center": center.name, "day": day, "starts": "09:00", "ends": "11:30", "capacity": 20}
    listed = ok(director.post_json("/api/v1/open-days", body), 201)
    assert listed["center"] == "ZZ-152502" and listed["places_left"] == 20
    twice = director.post_json("/api/v1/open-days", body)
    assert twice.status == 422 and "day" in twice.json()["errors"]
    shown = ok(director.get(f"/api/v1/open-days/{listed['id']}"))
    assert shown["bookings"] == []
    refused = clients(auth, "intake").post_json("/api/v1/open-days", {**body, "day": "2099-01-01"})
    assert refused.status == 403
    if auth == "bearer":  # a system without the right is told which one, in Chinese
        assert "未获授权" in refused.json()["detail"] and "open_days:write" in refused.json()["detail"]
    else:
        assert "中心主任" in refused.json()["detail"]


# ---- a system without the right, or outside its jurisdiction ---------------------------------------

# One write of each resource a system is granted separately, with a body the service would accept.
WRITES = [
    ("households:write", "/api/v1/households", "grid"),
    ("claims:write", "/api/v1/households/{household}/claim", "worker"),
    ("visits:write", "/api/v1/visits", "visit"),
    ("mobile_units:write", "/api/v1/stations", "station"),
    ("reviews:write", "/api/v1/risk-reviews", "review"),
    ("meetings:write", "/api/v1/meetings", "meeting"),
    ("open_days:write", "/api/v1/open-days", "open_day"),
]


# Over another county: a thing in the path is 404 like a missing one; one named in the body is a 422 on
# its field saying it is not there or not in the jurisdiction (the same words for both).
OUTSIDE = {
    "grid": "grid",
    "worker": 404,
    "visit": "household",
    "station": "village",
    "review": "village",
    "meeting": "region",
}


def test_a_system_without_the_right_is_refused_in_chinese_and_outside_its_jurisdiction_finds_nothing(
    server: dict[str, str], django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        grid = _worker_grid()
        home = household_in(grid, 30)
        households = Household.objects.filter(grid=grid).count()
        worker = GridWorker.objects.get(user__username="demo-gridworker")
        reads = tuple(f"{p.split(':')[0]}:read" for p, _path, _b in WRITES)
        readers = bearer(server["url"], service_token(f"tapi-readonly-{uuid.uuid4().hex[:6]}", rights=reads))
        everything = tuple(p for p, _path, _b in WRITES) + reads
        elsewhere = bearer(
            server["url"], service_token(f"tapi-duolun-{uuid.uuid4().hex[:6]}", region=DUOLUN, rights=everything)
        )
    village = grid.parent
    assert village is not None
    at = (timezone.localtime() - datetime.timedelta(hours=1)).replace(tzinfo=None).isoformat(timespec="minutes")
    bodies: dict[str, dict[str, Any]] = {
        "grid": {"grid": grid.code},
        "worker": {"worker": worker.code},
        "visit": {"household": home.code, "visited_at": at, "notes": "走访", "worker": worker.code},
        "station": {"name": "无权驿站", "village": village.code},
        "review": {"village": village.code, "held_on": timezone.localdate().isoformat()},
        "meeting": {"region": XILINHOT, "held_on": "2099-01-01"},
        "open_day": {"center": "ZZ-152502", "day": "2099-01-01", "starts": "09:00", "ends": "10:00", "capacity": 5},
    }
    for permission, path, body in WRITES:
        where = path.format(household=home.code)
        refused = readers.post_json(where, bodies[body])
        assert refused.status == 403, f"{where}: {refused.status} {refused.text[:300]}"
        assert refused.json()["detail"].startswith("服务账号") and f"（{permission}）" in refused.json()["detail"]
        # Over Duolun, Xilinhot's household, grid, village and region are not there at all.
        if body in OUTSIDE:
            missing, expected = elsewhere.post_json(where, bodies[body]), OUTSIDE[body]
            if expected == 404:
                assert missing.status == 404 and missing.json()["detail"] == "未找到。", missing.text[:300]
            else:
                assert missing.status == 422 and "不在您的辖区" in missing.json()["errors"][expected][0], missing.text

    with django_db_blocker.unblock():
        assert Household.objects.get(pk=home.pk).claimed_by_id is None
        assert Household.objects.filter(grid=grid).count() == households


# ---- presence, stats --------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_the_system_administrator_stations_an_org_and_the_figures_are_typed(
    auth: str, clients: Clients, server: dict[str, str], django_db_blocker: Any
) -> None:
    """入驻 is the system administrator's setting: a session of hers sets it; a system never does."""
    with django_db_blocker.unblock():
        stationed = set(Presence.objects.values_list("org_id", "center_id"))
        center = Center.objects.filter(region_code__startswith=DUOLUN[:6], level="township").order_by("code").first()
        assert center is not None
        org = next(
            o
            for o in Org.objects.filter(region_code__startswith=DUOLUN[:6]).order_by("code")
            if (o.pk, center.pk) not in stationed
        )
    body = {"org": org.code, "center": center.code, "mode": "轮驻", "weekdays": [2, 4]}
    if auth == "session":
        with django_db_blocker.unblock():
            sysadmin = logged_in(server["url"], "demo-sysadmin")
        assert sysadmin.post_json("/api/v1/presences", {**body, "weekdays": [9]}).status == 422
        set_ = ok(sysadmin.post_json("/api/v1/presences", body))
        assert set_["mode"] == "rotating" and set_["weekdays"] == [2, 4] and set_["center"] == center.code
        refused = clients(auth, "director").post_json("/api/v1/presences", body)
    else:
        with django_db_blocker.unblock():
            token = service_token(f"tapi-centers-{uuid.uuid4().hex[:6]}", rights=_rw("centers"))
        refused = bearer(server["url"], token).post_json("/api/v1/presences", body)
    assert refused.status == 403 and "系统管理员" in refused.json()["detail"]
    with django_db_blocker.unblock():
        presence = Presence.objects.filter(org=org, center=center).first()
        assert (presence is not None) == (auth == "session")
        if presence is not None:
            assert AuditEntry.objects.filter(
                action=AuditEntry.Action.PRESENCE_SET, target=f"{org.code}@{center.code}"
            ).exists()
            presence.delete()  # leave the demo's stationing as it was
    figures = ok(clients(auth, "intake").get_json("/api/v1/stats", region=XILINHOT))
    assert set(figures["regions"]) == {"league", "county", "township", "village", "grid"}
    assert figures["regions"]["county"] == 1 and figures["households"] > 0
    assert set(figures["cases"]) >= {"registered", "closed"} and all(
        isinstance(n, int) for n in figures["cases"].values()
    )


# ---- imports and exports (a real task worker) -------------------------------------------------------


@pytest.fixture
def worker(server: dict[str, str]) -> Iterator[Callable[[], None]]:
    """Starts `manage.py db_worker` against the server's database when called; stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        env = {**os.environ, "DATABASE_URL": server["database_url"]}
        command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"]
        started.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    yield start
    for process in started:
        process.terminate()
        process.wait(30)


def _until(client: HttpClient, path: str, finished: Callable[[Any], bool]) -> Any:
    """Poll a job until it has ended (the worker runs it); the deadline only stops a hung test."""
    for _ in range(600):
        body = ok(client.get(path))
        if finished(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path} did not finish: {body}")


@pytest.mark.parametrize("auth", AUTH)
def test_a_director_imports_cancels_downloads_the_rejects_and_exports(
    auth: str, clients: Clients, worker: Callable[[], None], tmp_path: Path, django_db_blocker: Any
) -> None:
    director = clients(auth, "director")
    with django_db_blocker.unblock():
        grid = _worker_grid()
    headers = ["户编号", "所在网格", "姓名", "与户主关系", "民族", "身份证号"]
    seq = 900 + 10 * _seq(auth)
    rows = [
        [f"HAPI-{auth}-1", grid.code, "哈斯", "户主", "蒙古族", person_id(seq, datetime.date(1932, 1, 1))],
        [f"HAPI-{auth}-1", grid.code, "", "配偶", "蒙古族", "不是身份证号"],
    ]
    content = write_xlsx(tmp_path / "居民.xlsx", headers, rows).read_bytes()
    fields = {"kind": "residents", "accept_valid": "true"}
    cancelled = ok(director.post_files("/api/v1/imports", {"file": ("居民.xlsx", content)}, fields), 201)
    assert cancelled["status"] == "queued" and cancelled["accept_valid"] is True
    ok(director.post_json(f"/api/v1/imports/{cancelled['id']}/cancel", {}))
    wrong = director.post_files("/api/v1/imports", {"file": ("居民.pdf", b"%PDF")}, fields)
    assert wrong.status == 422 and "file" in wrong.json()["errors"]
    job = ok(director.post_files("/api/v1/imports", {"file": ("居民.xlsx", content)}, fields), 201)
    export = ok(
        director.post_json("/api/v1/exports", {"list": "residents", "format": "csv", "filters": {"region": grid.code}}),
        202,
    )
    assert export["status"] == "queued" and export["download"] is None and export["percent"] == 0
    assert director.get(f"/api/v1/exports/{export['id']}/download").status == 404  # not written yet
    worker()
    assert _until(director, f"/api/v1/imports/{cancelled['id']}", lambda j: j["finished_at"])["status"] == "cancelled"
    done = _until(director, f"/api/v1/imports/{job['id']}", lambda j: j["finished_at"])
    assert done["status"] == "done" and done["report"]["written"] == 1 and done["rejects"] is True
    rejects = director.get(f"/api/v1/imports/{job['id']}/rejects")
    assert rejects.status == 200 and rejects.body[:2] == b"PK"  # an XLSX (a zip)
    written = _until(director, f"/api/v1/exports/{export['id']}", lambda j: j["status"] in ("done", "failed"))
    assert written["status"] == "done" and written["rows"] >= 1 and written["download"]
    assert written["done"] == written["total"] == written["rows"] and written["percent"] == 100
    csv = director.get(written["download"])
    assert csv.status == 200 and "哈斯" in csv.body.decode("utf-8-sig")
    assert person_id(seq, datetime.date(1932, 1, 1)) not in csv.body.decode("utf-8-sig")  # IDs masked
    others = clients(auth, "leader")
    assert others.get(f"/api/v1/imports/{job['id']}").status == 404  # a job is its owner's
    assert others.get(f"/api/v1/exports/{export['id']}").status == 404


# ---- the jurisdiction --------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
def test_another_countys_things_answer_404_like_missing_ones(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    intake = clients(auth, "intake")
    with django_db_blocker.unblock():
        duolun = GridWorker.objects.filter(region_code__startswith=DUOLUN[:6]).order_by("code").first()
        assert duolun is not None
        resident = household_in(duolun.grid, 40 + _seq(auth)).residents.select_related("household").get()
        number, household = resident.id_number, resident.household.code
    out, missing = intake.get(f"/api/v1/residents/{resident.pk}"), intake.get("/api/v1/residents/2147483647")
    assert out.status == missing.status == 404 and out.body == missing.body
    assert intake.get(f"/api/v1/households/{household}").status == 404
    assert ok(intake.post_json("/api/v1/residents/lookup", {"id_number": number}))["results"] == []
    assert intake.get(f"/api/v1/regions/{DUOLUN}").status == 404
    assert intake.get(f"/api/v1/dashboards/{DUOLUN}").status == 404
    assert intake.get_json("/api/v1/households", region=DUOLUN).status == 404
    league = clients(auth, "league")
    assert [r["id"] for r in ok(league.post_json("/api/v1/residents/lookup", {"id_number": number}))["results"]] == [
        resident.pk
    ]
    assert "residents" not in [p.strip("/").split("?")[0] for p in ok(intake.get("/api/v1/openapi.json"))["paths"]]


# ---- paging ------------------------------------------------------------------------------------------


def _walk(client: HttpClient, path: str, key: str, between: Callable[[], None], **query: Any) -> list[str]:
    seen: list[str] = []
    page = ok(client.get_json(path, **query))
    while True:
        seen += [row[key] for row in page["results"]]
        if not page["next"]:
            return seen
        between()
        page = ok(client.get_json(path, **query, cursor=page["next"]))


@pytest.mark.parametrize("auth", AUTH)
def test_cursor_pages_stay_stable_while_rows_are_inserted_between_them(
    auth: str, clients: Clients, django_db_blocker: Any
) -> None:
    gw = clients(auth, "gridworker")
    with django_db_blocker.unblock():
        grid = _worker_grid()
        before = set(Household.objects.filter(region_code=grid.code).values_list("code", flat=True))
    added: list[str] = []

    def register() -> None:
        body = {"grid": grid.code, "address": f"翻页中登记{len(added)}"}
        added.append(ok(gw.post_json("/api/v1/households", body), 201)["code"])

    seen = _walk(gw, "/api/v1/households", "code", register, region=grid.code, limit=3)
    assert len(seen) == len(set(seen)), "a household was served twice"
    assert before <= set(seen), f"households skipped: {sorted(before - set(seen))}"
    assert set(seen) <= before | set(added) and added
    # Newest first (by id): rows registered meanwhile sort before the cursor and are not served on later pages.
    clerk = clients(auth, "intake")
    with django_db_blocker.unblock():
        existing = set(Case.objects.filter(region_code__startswith=grid.code).values_list("number", flat=True))
    intake = {
        "category": "grassland",
        "title": "翻页中登记的纠纷",
        "description": "两户争执。",
        "region": grid.code,
        "parties": [{"kind": "person", "role": "applicant", "name": "巴雅尔"}],
    }
    numbers = _walk(
        clerk,
        "/api/v1/cases",
        "number",
        lambda: ok(clerk.post_json("/api/v1/cases", intake), 201),
        region=grid.code,
        limit=2,
    )
    assert len(numbers) == len(set(numbers)) and set(numbers) == existing
    bad = clerk.get_json("/api/v1/cases", cursor="not-a-cursor")
    assert bad.status == 422 and "cursor" in bad.json()["errors"]
    assert clerk.get_json("/api/v1/cases", limit=201).status == 422
