"""The demo league matches the report's figures, is deterministic and seeding twice adds nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from zongzhi.access import Scope
from zongzhi.centers.models import Center, Org, Presence
from zongzhi.demo.plan import build_plan, load_reference
from zongzhi.demo.seed import seed
from zongzhi.stats import platform_stats

ROOT = Path(__file__).resolve().parents[1]
COUNT_LIVING = """
import json
from zongzhi.field.models import MobileUnit, MobileVisit, Station
from zongzhi.grid.models import Household, Resident
from zongzhi.portal.models import OpenDay
print(json.dumps({
    "households": Household.objects.count(),
    "claimed": Household.objects.filter(claimed_by__isnull=False).count(),
    "residents": Resident.objects.count(),
    "stations": Station.objects.count(),
    "mobile_units": MobileUnit.objects.count(),
    "mobile_visits": MobileVisit.objects.count(),
    "open_days": OpenDay.objects.count(),
}))
"""


def test_league_figures_equal_the_report(db) -> None:  # type: ignore[no-untyped-def]
    report = load_reference()["platform"]
    stats = platform_stats(Scope.everything())
    assert stats["regions"]["league"] == 1
    assert stats["regions"]["county"] == 13
    assert stats["grids"] == stats["regions"]["grid"] == report["grids"] == 3555
    assert stats["party_groups"] == report["party_groups"] == 2746
    assert stats["grid_workers"] == report["grid_workers"] == 6404
    assert stats["block_heads"] == report["block_heads"] == 21275
    assert stats["accounts"] >= report["accounts"] == 7000


def test_duolun_has_twenty_departments_and_five_townships(db) -> None:  # type: ignore[no-untyped-def]
    duolun = Scope(prefixes=("152531",))
    assert Org.objects.filter(duolun.q(), kind=Org.Kind.DEPARTMENT, region_code="152531000000").count() == 20
    assert platform_stats(duolun)["regions"]["township"] == 5


def test_centers_have_zones_rooms_and_every_presence_mode(db) -> None:  # type: ignore[no-untyped-def]
    county = Center.objects.get(code="ZZ-152502")
    kinds = set(county.rooms.values_list("kind", flat=True))
    assert {
        "window",
        "mediation",
        "admin_review",
        "legal_aid",
        "counselling",
        "fast_track_court",
        "brand",
        "dispatch_hall",
    } <= kinds
    assert set(county.rooms.values_list("zone", flat=True)) == {"intake", "resolution", "dispatch"}
    assert set(county.presences.values_list("mode", flat=True)) == {"resident", "rotating", "on_call"}
    assert Center.objects.get(code="ZZ-152501").rooms.filter(name="忠尼乐涉外调解室").exists()
    assert Presence.objects.filter(mode="rotating", weekdays=[]).count() == 0
    assert {c for c in Center.objects.values_list("level", flat=True).distinct()} == {
        "league",
        "county",
        "township",
        "village",
    }
    xiwu_teams = Org.objects.filter(kind="professional_team", region_code="152526000000")
    assert sorted(xiwu_teams.values_list("domains__name", flat=True)) == sorted(
        ["草牧场", "劳动社保", "牧区征地", "拆迁", "婚姻家事"]
    )
    assert Org.objects.filter(kind="industry_committee", region_code="152530000000").count() == 8


def test_seeding_twice_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    before = platform_stats(Scope.everything())
    report = seed(scale="league", seed_value=2025)
    assert report.total == 0, report.inserted
    assert platform_stats(Scope.everything()) == before


def test_plan_is_deterministic_and_the_seed_changes_names_not_figures() -> None:
    a, b, c = build_plan(7), build_plan(7), build_plan(8)
    assert [w.name for w in a.grid_workers] == [w.name for w in b.grid_workers]
    assert [r.code for r in a.regions] == [r.code for r in b.regions]
    assert [w.name for w in a.grid_workers] != [w.name for w in c.grid_workers]
    for plan in (a, c):
        assert len([r for r in plan.regions if r.level == "grid"]) == 3555
        assert len(plan.grid_workers) == 6404
        assert len(plan.party_groups) == 2746
        assert len(plan.block_heads) == 21275


def test_platform_stats_json_scoped_by_region(db) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    out = StringIO()
    call_command("platform_stats", "--json", "--region", "152531000000", stdout=out)
    stats = json.loads(out.getvalue())
    assert set(stats) >= {
        "regions",
        "centers",
        "orgs",
        "accounts",
        "grids",
        "grid_workers",
        "party_groups",
        "block_heads",
    }
    assert stats["regions"]["county"] == 1 and stats["regions"]["league"] == 0
    assert stats == platform_stats(Scope(prefixes=("152531",)))


def test_small_scale_on_a_fresh_database_is_xilinhot_alone(tmp_path: Path) -> None:
    """The commands a new user runs, on an empty SQLite file: migrate, seed small (living) twice, stats."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'small.sqlite3'}", "ZONGZHI_VAR_DIR": str(tmp_path)}

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout

    manage("migrate", "-v0")
    # make run's --living, on a sample of the county's grids (the whole county takes minutes)
    living = ("seed_demo", "--scale", "small", "--seed", "3", "--living", "--residents-grids", "24")
    assert "inserted" in manage(*living)
    before = manage("shell", "-v", "0", "-c", COUNT_LIVING)
    again = manage(*living)
    assert "nothing added" in again and "seed_demo field work: nothing added" in again
    assert manage("shell", "-v", "0", "-c", COUNT_LIVING) == before
    living_counts = json.loads(before)
    assert living_counts["residents"] > 5_000 and living_counts["claimed"] > 0.8 * living_counts["households"]
    assert living_counts["mobile_units"] == 2 and living_counts["mobile_visits"] == 16
    assert living_counts["stations"] >= 3 and living_counts["open_days"] == 12
    logins = manage("demo_logins")
    assert "demo-township" in logins and "demo-village" in logins and "希日塔拉街道" in logins
    stats = json.loads(manage("platform_stats", "--json"))
    assert stats["regions"]["county"] == 1
    assert (
        stats["regions"]["grid"] == json.loads(manage("platform_stats", "--json", "--region", "152502000000"))["grids"]
    )
    assert stats["grid_workers"] > 0 and stats["block_heads"] > 0
    codes = manage("demo_totp", "demo-leader")
    assert codes.split()[0] == "demo-leader" and codes.split()[1].isdigit()
