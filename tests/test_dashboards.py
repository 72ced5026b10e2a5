"""Dashboards, as leaders of different levels see them.

Naran is the leader of one Xilinhot township: her dashboard counts that township and nothing else,
and every other region answers 404 as a missing one does. The league leader sees the league, whose
counties add up to it. Figures are checked against a plain count of the cases.
"""

import itertools
from typing import Any

import pytest
from django.test import Client

from tests.conftest import DEMO_PASSWORD, verified_client
from zongzhi.accounts import services as accounts
from zongzhi.accounts.models import Role
from zongzhi.cases.models import Case, State
from zongzhi.regions.models import Region

XILINHOT = "152502000000"


def township() -> Region:
    found = Region.objects.filter(level="township", code__startswith="152502").order_by("code")
    busiest = max(found, key=lambda r: Case.objects.filter(region_code__startswith=r.prefix).count())
    return busiest


@pytest.fixture
def naran(db: Any) -> Client:
    """A township leader (政法委员 of one 苏木) holding only that township."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = accounts.user_create(actor=None, username="naran", full_name="娜仁", password=DEMO_PASSWORD)
    accounts.membership_grant(actor=None, user=user, role=Role.LEADER, cli=True)
    accounts.jurisdiction_grant(actor=None, user=user, region=township())
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return verified_client(user)


def data(client: Client, code: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/staff/dashboards/{code}/data.json", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_a_township_leader_counts_only_her_township(naran: Client) -> None:
    mine = township()
    inside = Case.objects.filter(region_code__startswith=mine.prefix)
    board = data(naran, mine.code)
    assert board["totals"]["cases"] == inside.count() > 0
    assert board["totals"]["closed"] == inside.filter(state=State.CLOSED).count()
    assert board["totals"]["cases"] < Case.objects.filter(region_code__startswith="152502").count()
    assert {c["code"][:9] for c in board["children"]} == {mine.prefix}
    assert sum(c["cases"] for c in board["children"]) == inside.exclude(region_code=mine.code).count()

    home = naran.get("/staff/dashboards/")
    assert home.status_code == 302 and home["Location"].endswith(f"/staff/dashboards/{mine.code}/")
    page = naran.get(f"/staff/dashboards/{mine.code}/")
    assert page.status_code == 200 and mine.name in page.content.decode()


@pytest.mark.django_db
def test_other_regions_answer_as_missing_ones(naran: Client) -> None:
    mine = township()
    other = Region.objects.filter(level="township").exclude(pk=mine.pk).order_by("code").first()
    assert other is not None
    for code in (XILINHOT, other.code, "152599999999"):
        for tail in ("", "wall/", "data.json", "map.json"):
            assert naran.get(f"/staff/dashboards/{code}/{tail}").status_code == 404, (code, tail)


@pytest.mark.django_db
def test_the_league_adds_up_from_its_counties(client_as: Any) -> None:
    league = client_as("league")
    board = data(league, "152500000000")
    assert board["totals"]["cases"] == Case.objects.count()
    assert sum(c["cases"] for c in board["children"]) == Case.objects.count()
    assert sum(r["value"] for r in board["by_state"]) == Case.objects.count()
    assert sum(r["value"] for r in board["by_channel"]) == Case.objects.count()
    assert board["rates"]["resolution_rate"] is not None
    assert len(board["monthly"]) > 1 and len(board["daily"]) == 30
    county = data(league, XILINHOT)
    assert county["totals"]["cases"] == Case.objects.filter(region_code__startswith="152502").count()
    assert [a["code"] for a in county["ancestors"]] == ["152500000000"]


@pytest.mark.django_db
def test_a_period_filter_and_a_bad_one(client_as: Any) -> None:
    league = client_as("league")
    everything = data(league, XILINHOT)["totals"]["cases"]
    recent = data(league, XILINHOT, since="2026-01")["totals"]["cases"]
    assert recent < everything
    response = league.get(f"/staff/dashboards/{XILINHOT}/data.json", {"since": "去年"})
    assert response.status_code == 400 and "格式不对" in response.json()["error"]
    response = league.get(f"/staff/dashboards/{XILINHOT}/map.json", {"figure": "nonsense"})
    assert response.status_code == 400 and "未知的地图指标" in response.json()["error"]


def _inside(ring: list[list[float]], x: float, y: float) -> bool:
    """Ray casting: is the point inside the closed ring?"""
    found = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            found = not found
    return found


@pytest.mark.django_db
def test_the_map_draws_each_county_around_its_own_centre_only(client_as: Any) -> None:
    geo = client_as("league").get("/staff/dashboards/152500000000/map.json", {"figure": "overdue"}).json()
    counties = {r.code: r for r in Region.objects.filter(level="county")}
    assert {f["properties"]["code"] for f in geo["features"]} == set(counties)
    for feature in geo["features"]:
        county = counties[feature["properties"]["code"]]
        holders = [
            f["properties"]["code"]
            for f in geo["features"]
            if _inside(f["geometry"]["coordinates"][0], county.centroid_lng, county.centroid_lat)  # type: ignore[arg-type]
        ]
        assert holders == [county.code]
    overdue = Case.objects.filter(region_code__startswith="152502", state__in=["accepted", "assigned", "in_progress"])
    xilinhot = next(f for f in geo["features"] if f["properties"]["code"] == XILINHOT)
    assert 0 < xilinhot["properties"]["value"] <= overdue.count()


DUOLUN = "152531000000"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["intake", "director", "liaison", "mediator", "leader", "judge", "league"])
@pytest.mark.parametrize("tail", ["", "wall/", "data.json", "map.json"])
def test_xilinhot_staff_see_xilinhot_and_not_duolun(client_as: Any, name: str, tail: str) -> None:
    client = client_as(name)
    assert client.get(f"/staff/dashboards/{XILINHOT}/{tail}").status_code == 200
    assert client.get(f"/staff/dashboards/{DUOLUN}/{tail}").status_code == (200 if name == "league" else 404)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sysadmin", "secadmin", "auditor"])
def test_administrators_see_no_dashboard(client_as: Any, name: str) -> None:
    client = client_as(name)
    assert client.get("/staff/dashboards/").status_code == 403
    assert client.get(f"/staff/dashboards/{XILINHOT}/data.json").status_code == 403


@pytest.mark.django_db
def test_a_grid_worker_sees_the_grid_only(client_as: Any) -> None:
    client = client_as("gridworker")
    home = client.get("/staff/dashboards/")
    grid = home["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert len(grid) == 15
    board = client.get(f"/staff/dashboards/{grid}/data.json").json()
    assert board["totals"]["cases"] == Case.objects.filter(region_code=grid).count()
    assert board["children"] == []
    assert client.get(f"/staff/dashboards/{grid[:12]}/data.json").status_code == 404
    assert client.get(f"/staff/dashboards/{grid}/map.json").status_code == 200


def test_nothing_without_both_factors(client: Client) -> None:
    response = client.get(f"/staff/dashboards/{XILINHOT}/data.json")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


@pytest.mark.django_db
def test_brand_rooms_show_the_cases_they_lead(client_as: Any) -> None:
    from zongzhi.cases.models import Assignment
    from zongzhi.centers.models import Org

    rooms = data(client_as("league"), XILINHOT)["brand_rooms"]
    assert {r["name"] for r in rooms} == set(
        Org.objects.filter(kind="brand_room", region_code__startswith="152502").values_list("name", flat=True)
    )
    busiest = rooms[0]
    org = Org.objects.get(name=busiest["name"], region_code__startswith="152502")
    led = {
        case_id
        for case_id in Case.objects.values_list("id", flat=True).filter(assignments__org=org)
        if Assignment.objects.filter(case_id=case_id, role="lead", status__in=["pending", "signed", "done"])
        .order_by("-id")
        .values_list("org_id", flat=True)
        .first()
        == org.pk
    }
    assert busiest["cases"] == len(led) > 0
    assert busiest["agreements"] == Case.objects.filter(pk__in=led, agreement__isnull=False).count()
