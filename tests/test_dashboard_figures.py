"""The figures of the dashboards that come from elsewhere than the case tallies, and those that must
agree with each other: 每千人纠纷 divides by the population (the reference facts of a county, the
people the registry has living in a township or below), 认领率 is the grid registry's claims; 化解成功
never exceeds 已结案 in the same period; the report offers the last complete month."""

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone
from openpyxl import load_workbook

from tests.test_case_handling import in_progress
from tests.test_case_lifecycle import who
from tests.test_grid_registry import add_person, new_household
from zongzhi.accounts.models import User
from zongzhi.cases import services
from zongzhi.cases.models import Case
from zongzhi.dashboards.models import Tally
from zongzhi.grid import services as grid_services
from zongzhi.grid.models import Resident
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region

pytestmark = pytest.mark.django_db
XILINHOT = "152502000000"


def data(client: Any, code: str) -> dict[str, Any]:
    response = client.get(f"/staff/dashboards/{code}/data.json")
    assert response.status_code == 200
    return response.json()


def registry_in_a_xilinhot_grid() -> Region:
    """Gao, the demo grid worker, registers two households of his grid (three people, one living
    elsewhere) and claims the first; returns his grid."""
    gao = User.objects.get(username="demo-gridworker")
    grid = gao.grid_worker.grid
    first, second = new_household(gao, grid), new_household(gao, grid)
    add_person(gao, first, 901, "巴特尔")
    add_person(gao, first, 902, "其其格")
    grid_services.resident_add(
        actor=gao,
        household=second,
        name="乌兰",
        relation="head",
        ethnicity="蒙古族",
        language="mn",
        id_number=make_resident_id("152502", datetime.date(1985, 3, 4), 903),
        living=False,
    )
    grid_services.household_claim(actor=gao, household=first)
    return grid


def test_per_thousand_and_claim_rate_come_from_the_population_and_the_registry(client_as: Any) -> None:
    grid = registry_in_a_xilinhot_grid()
    league = client_as("league")
    counties = data(league, "152500000000")["children"]
    for county in counties:
        region = Region.objects.get(code=county["code"])
        assert region.population and county["population"] == region.population  # the reference facts
        assert county["per_thousand"] == round(1000 * county["cases"] / region.population, 2)
    board = data(league, XILINHOT)
    assert board["rates"]["per_thousand"] is not None and board["rates"]["claim_rate"] is not None
    for township in board["children"]:
        prefix = township["code"][:9]
        people = Resident.objects.filter(region_code__startswith=prefix).aggregate(
            n_living=Count("id", filter=Q(living=True)),
            n_registered=Count("id", filter=Q(registered=True)),
            n_claimed=Count("id", filter=Q(registered=True, household__claimed_by__isnull=False)),
        )
        assert township["population"] == people["n_living"]
        if people["n_living"]:
            assert township["per_thousand"] == round(1000 * township["cases"] / people["n_living"], 2)
        else:
            assert township["per_thousand"] is None  # nothing to divide by: shown as —
        if people["n_registered"]:
            assert township["claim_rate"] == round(100 * people["n_claimed"] / people["n_registered"], 1)
        else:
            assert township["claim_rate"] is None
    mine = next(t for t in board["children"] if grid.code.startswith(t["code"][:9]))
    assert mine["population"] >= 2 and mine["claim_rate"] is not None and mine["claim_rate"] > 0
    page = league.get(f"/staff/dashboards/{XILINHOT}/").content.decode()
    assert "认领率" in page and f'<td class="num">{mine["claim_rate"]}</td>' in page
    own = data(league, grid.code)  # the grid itself: two registered, the claimed household's two
    assert own["totals"]["population"] == 2 and own["rates"]["claim_rate"] == round(100 * 2 / 3, 1)

    claim_map = league.get(f"/staff/dashboards/{XILINHOT}/map.json", {"figure": "claim_rate"}).json()
    by_code = {t["code"]: t["claim_rate"] for t in board["children"]}
    assert {f["properties"]["code"]: f["properties"]["value"] for f in claim_map["features"]} == by_code


def test_settled_never_exceeds_closed_in_any_month_and_the_recount_agrees(client_as: Any) -> None:
    # A case resolved but not yet closed counts in neither.
    case = in_progress()
    services.case_resolve(
        case=case,
        actor=who("liaison"),
        version=case.version,
        facts="围栏越界。",
        terms="十日内移回原界。",
        performance_method="当面履行",
        performance_due=timezone.localdate() + datetime.timedelta(days=10),
        signed_on=timezone.localdate(),
    )
    rows = Tally.objects.values("node", "month").annotate(
        settled=Sum("settled"), failed=Sum("failed"), closed=Sum("closed")
    )
    over = [r for r in rows if r["settled"] + r["failed"] > r["closed"]]
    assert over == []
    closed = Case.objects.filter(state="closed", outcome__in=("agreement", "resolved_other")).count()
    league = Tally.objects.filter(node="152500000000").aggregate(s=Sum("settled"))["s"]
    assert league == closed
    call_command("rollups", "--verify")

    report = client_as("league").get("/staff/dashboards/152500000000/report.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).worksheets[0]
    body = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert body and all(r[3] <= r[2] for r in body)  # 化解成功 ≤ 已结案, county by county and in total


def test_the_report_offers_the_last_complete_month(client_as: Any) -> None:
    leader = client_as("leader")
    last = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    page = leader.get(f"/staff/dashboards/{XILINHOT}/").content.decode()
    assert f'name="period" value="{last:%Y-%m}"' in page
    response = leader.get(f"/staff/dashboards/{XILINHOT}/report.xlsx")
    assert response.status_code == 200
    assert f"-{last:%Y%m}-{last:%Y%m}.xlsx" in response["Content-Disposition"]
    title = load_workbook(io.BytesIO(response.content)).worksheets[0]["A1"].value
    assert f"{last.year}年{last.month}月" in title
