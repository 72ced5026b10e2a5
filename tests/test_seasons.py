"""Seasonal pastures: calendars per county and per household, the daily switch (all of a county at once,
claims passing to the new grid's worker, a history per household), what the grid worker sees this week,
and the switch running beside other writers on the real database."""

import datetime
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import QueryDict
from django_tasks_db.models import DBTaskResult

from tests.browsing import ROOT
from tests.conftest import XILINHOT, verified_client
from tests.http_client import logged_in
from tests.messy_files import write_xlsx
from zongzhi.access import Scope
from zongzhi.accounts.models import User
from zongzhi.grid import seasons, services
from zongzhi.grid.models import GridWorker, Household, HouseholdMove, Resident, SeasonCalendar
from zongzhi.grid.tasks import seasonal_switch_task
from zongzhi.identity import make_resident_id
from zongzhi.regions.models import Region
from zongzhi.transfer import exports
from zongzhi.transfer.engine import run_import
from zongzhi.transfer.residents import ResidentsImport


@pytest.fixture
def gao(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.get(username="demo-gridworker")


@pytest.fixture
def pastures(gao: User) -> tuple[Region, Region]:
    """The grid worker's grid (winter quarters) and another grid of the village (summer pasture)."""
    winter = gao.grid_worker.grid
    summer = Region.objects.filter(parent=winter.parent).exclude(pk=winter.pk).order_by("code").first()
    assert summer is not None and GridWorker.objects.filter(grid=summer).exists()
    return winter, summer


def herder(actor: User, winter: Region, summer: Region, n: int) -> Household:
    assert winter.parent is not None
    household = services.household_register(
        actor=actor, village=winter.parent, grid=winter, address=f"冬营地 {n} 号", herder=True,
        summer_grid=summer, winter_grid=winter,
    )  # fmt: skip
    services.resident_add(
        actor=actor, household=household, name=f"其其格{n}", relation="head", ethnicity="蒙古族", language="mn",
        id_number=make_resident_id("152502", datetime.date(1975, 5, 6), 300 + n),
    )  # fmt: skip
    return household


def test_the_calendar_decides_the_season() -> None:
    calendar = seasons.Calendar("05-15", "10-20")
    assert calendar.season_on(datetime.date(2027, 5, 14)) == "winter"
    assert calendar.season_on(datetime.date(2027, 5, 15)) == "summer"
    assert calendar.season_on(datetime.date(2027, 10, 19)) == "summer"
    assert calendar.season_on(datetime.date(2027, 10, 20)) == "winter"
    assert calendar.season_on(datetime.date(2028, 2, 29)) == "winter"


def test_a_director_sets_the_county_calendar_and_bad_days_are_named(db) -> None:  # type: ignore[no-untyped-def]
    director, county = User.objects.get(username="demo-director"), Region.objects.get(code=XILINHOT)
    with pytest.raises(ValidationError) as refused:
        seasons.calendar_set(actor=director, county=county, summer_from="5月1日", winter_from="13-01")
    assert refused.value.message_dict == {
        "summer_from": ["转场夏营地日期应为“月-日”，如 05-01。"],
        "winter_from": ["返回冬营地日期应为“月-日”，如 05-01。"],
    }
    with pytest.raises(ValidationError):
        seasons.calendar_set(
            actor=User.objects.get(username="demo-intake"), county=county, summer_from="06-01", winter_from="10-01"
        )
    other = Region.objects.get(code="152531000000")  # 多伦县: not the Xilinhot director's
    with pytest.raises(ValidationError):
        seasons.calendar_set(actor=director, county=other, summer_from="06-01", winter_from="10-01")
    seasons.calendar_set(actor=director, county=county, summer_from="06-01", winter_from="10-01")
    assert seasons.county_calendar(XILINHOT) == seasons.Calendar("06-01", "10-01")
    assert seasons.county_calendar("152531000000") == seasons.Calendar("05-01", "11-01")


def test_the_switch_moves_a_county_on_its_day_with_claims_and_history(
    gao: User, pastures: tuple[Region, Region]
) -> None:
    winter, summer = pastures
    SeasonCalendar.objects.update_or_create(
        county=Region.objects.get(code=XILINHOT), defaults={"summer_from": "06-15", "winter_from": "10-10"}
    )
    early, late = herder(gao, winter, summer, 1), herder(gao, winter, summer, 2)
    services.household_claim(actor=gao, household=early)
    seasons.household_days_set(actor=gao, household=late, summer_from="07-01", winter_from="")

    assert seasons.switch_county(Region.objects.get(code=XILINHOT), datetime.date(2027, 6, 14)) == 0
    assert seasons.switch_county(Region.objects.get(code=XILINHOT), datetime.date(2027, 6, 15)) >= 1
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.grid == summer and early.claimed_grid == summer
    assert early.claimed_by is not None and early.claimed_by.grid == summer
    assert late.grid == winter  # its own day is 07-01
    assert Resident.objects.get(household=early).region_code == summer.code
    move = early.moves.get()
    assert (move.season, move.from_grid, move.to_grid, move.day) == (
        "summer",
        winter,
        summer,
        datetime.date(2027, 6, 15),
    )
    assert move.claimed_by_before == gao.grid_worker and move.claimed_by_after == early.claimed_by
    assert seasons.switch_county(Region.objects.get(code=XILINHOT), datetime.date(2027, 6, 15)) == 0  # idempotent

    seasons.switch_county(Region.objects.get(code=XILINHOT), datetime.date(2027, 7, 1))
    late.refresh_from_db()
    assert late.grid == summer
    seasons.switch_county(Region.objects.get(code=XILINHOT), datetime.date(2027, 10, 10))
    early.refresh_from_db()
    assert (
        early.grid == winter
        and early.claimed_by == GridWorker.objects.filter(grid=winter).order_by("-full_time", "code").first()
    )
    assert list(early.moves.values_list("season", flat=True)) == ["winter", "summer"]


def test_a_claimed_household_switched_to_its_summer_grid_is_found_with_its_people(
    gao: User, pastures: tuple[Region, Region], tmp_path: Path
) -> None:
    """The reads of a household's people name the household's region code: after the switch both carry
    the summer grid's, so the API, the household page, the export, its own days and a re-import still
    find them (none looks for them where they were claimed)."""
    winter, summer = pastures
    home = herder(gao, winter, summer, 5)
    services.household_claim(actor=gao, household=home)
    assert seasons.switch_county(Region.objects.get(code=XILINHOT), datetime.date(2027, 6, 1)) >= 1
    home.refresh_from_db()
    person = Resident.objects.get(household=home)
    assert home.region_code == person.region_code == summer.code and home.claimed_by != gao.grid_worker

    director = User.objects.get(username="demo-director")
    api = verified_client(director)
    listed = api.get("/api/v1/residents", {"region": summer.code, "name": person.name}).json()
    assert [r["id"] for r in listed["results"]] == [person.pk]
    assert api.get(f"/api/v1/residents/{person.pk}").json()["household"] == home.code
    detail = api.get(f"/api/v1/households/{home.code}").json()
    assert (detail["grid"], [r["id"] for r in detail["residents"]]) == (summer.code, [person.pk])
    assert person.name in api.get(f"/staff/grid/households/{home.code}/").content.decode()
    chunks = exports.resident_chunks(director, QueryDict(f"region={summer.code}"))
    assert [row[0] for chunk in chunks for row in chunk] == [home.code]
    seasons.household_days_set(actor=director, household=home, summer_from="06-20", winter_from="")
    assert Household.objects.get(pk=home.pk).summer_from == "06-20"

    # A file saying the household lives in its winter grid moves it back, its people with it.
    headers = ["户编号", "所在网格", "牧户", "夏营地网格", "冬营地网格", "姓名", "与户主关系", "民族", "身份证号"]
    number = make_resident_id("152502", datetime.date(1975, 5, 6), 305)
    row = [home.code, winter.code, "是", summer.code, winter.code, person.name, "户主", "蒙古族", number]
    report = run_import(ResidentsImport(), write_xlsx(tmp_path / "r.xlsx", headers, [row]), scope=Scope.everything())
    assert (report.inserted, report.rejected) == (0, 0)
    assert (
        Household.objects.get(pk=home.pk).region_code == Resident.objects.get(pk=person.pk).region_code == winter.code
    )


def test_only_the_grid_worker_or_a_director_sets_a_households_days(gao: User, pastures: tuple[Region, Region]) -> None:
    household = herder(gao, *pastures, 3)
    with pytest.raises(PermissionDenied):
        seasons.household_days_set(
            actor=User.objects.get(username="demo-intake"), household=household, summer_from="06-01", winter_from=""
        )
    with pytest.raises(ValidationError) as refused:
        seasons.household_days_set(actor=gao, household=household, summer_from="06-31", winter_from="")
    assert refused.value.message_dict == {"summer_from": ["本户转场夏营地日期应为“月-日”，如 05-01。"]}


def test_the_grid_worker_sees_who_arrives_and_who_leaves_this_week(gao: User, pastures: tuple[Region, Region]) -> None:
    winter, summer = pastures
    household = herder(gao, winter, summer, 4)
    today = datetime.date.today()
    in_three_days = today + datetime.timedelta(days=3)
    seasons.household_days_set(actor=gao, household=household, summer_from=in_three_days.strftime("%m-%d"),
                               winter_from=(today + datetime.timedelta(days=200)).strftime("%m-%d"))  # fmt: skip
    arriving, leaving = seasons.this_week([summer.pk])
    assert [(c.household, c.day) for c in arriving] == [(household, in_three_days)]
    arriving, leaving = seasons.this_week([winter.pk])
    assert [(c.household, c.day, c.to_grid_id) for c in leaving] == [(household, in_three_days, summer.pk)]
    page = verified_client(gao).get("/staff/grid/").content.decode()
    assert "将转出本网格" in page and household.code in page and summer.name in page


def test_the_scheduler_queues_the_switch_once_a_day(db) -> None:  # type: ignore[no-untyped-def]
    DBTaskResult.objects.filter(task_path=seasonal_switch_task.module_path).delete()
    call_command("scheduler", "--once", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("scheduler", "--once", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert DBTaskResult.objects.filter(task_path=seasonal_switch_task.module_path).count() == 1


# ---- through the live server and beside other writers (committed data, removed afterwards) -----------


@pytest.fixture
def committed_herders(django_db_blocker) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        gao = User.objects.get(username="demo-gridworker")
        winter = gao.grid_worker.grid
        summer = Region.objects.filter(parent=winter.parent).exclude(pk=winter.pk).order_by("code").first()
        assert summer is not None
        codes = [herder(gao, winter, summer, 50 + n).code for n in range(30)]
    yield codes
    with django_db_blocker.unblock():
        Household.objects.filter(code__in=codes).delete()
        Household.objects.filter(address__startswith="并发登记").delete()
        SeasonCalendar.objects.filter(county__code=XILINHOT).delete()


def test_pages_set_the_days_through_the_server(
    server: dict[str, str], committed_herders: list[str], django_db_blocker
) -> None:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        director, worker = logged_in(server["url"], "demo-director"), logged_in(server["url"], "demo-gridworker")
    answer = director.post_form(
        "/staff/grid/seasons/", {"county": XILINHOT, "summer_from": "05-20", "winter_from": "10-25"}
    )
    assert answer.status == 302
    assert 'value="05-20"' in director.get("/staff/grid/seasons/").text
    code = committed_herders[0]
    answer = worker.post_form(f"/staff/grid/households/{code}/season/", {"summer_from": "06-02", "winter_from": ""})
    assert answer.status == 302
    page = worker.get(f"/staff/grid/households/{code}/").text
    assert 'value="06-02"' in page and "05-20 转场夏营地" in page
    with django_db_blocker.unblock():
        assert Household.objects.get(code=code).summer_from == "06-02"


WRITER = """
import datetime
from zongzhi.accounts.models import User
from zongzhi.grid import services
gao = User.objects.get(username="demo-gridworker")
grid = gao.grid_worker.grid
for n in range(40):
    services.household_register(actor=gao, village=grid.parent, grid=grid, address=f"并发登记 {n}")
print("wrote 40")
"""


def test_the_switch_runs_beside_another_writer_without_locking_errors(
    server: dict[str, str],
    committed_herders: list[str],
    django_db_blocker,  # type: ignore[no-untyped-def]
) -> None:
    env = {**os.environ, "DATABASE_URL": server["database_url"]}
    manage = [sys.executable, "manage.py"]
    writer = subprocess.Popen(
        [*manage, "shell", "-c", WRITER], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    switch = subprocess.run(
        [*manage, "seasonal_switch", "--day", "2027-07-01", "--county", XILINHOT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out, err = writer.communicate(timeout=300)
    assert switch.returncode == 0, switch.stderr
    assert writer.returncode == 0 and "wrote 40" in out, err
    assert "季节转场完成" in switch.stdout
    back = subprocess.run(
        [*manage, "seasonal_switch", "--day", "2027-12-01", "--county", XILINHOT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert back.returncode == 0, back.stderr
    with django_db_blocker.unblock():
        moves = HouseholdMove.objects.filter(household__code__in=committed_herders)
        assert moves.filter(season="summer").count() == moves.filter(season="winter").count() == 30
