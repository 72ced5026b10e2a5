"""Races against the real database, from another process with real threads and connections.

Twenty workers accept the same case with the same version: exactly one succeeds, the others get a
conflict, and one event is written. Twenty concurrent intakes in one county never share a number.
Ten clerks booking one room's free slot at once: one gets it, nine are told who has it. Twenty
household registrations in one grid at once: twenty distinct codes, no server error. Eight service
areas given to one org at once: its reach holds all eight (no lost update of the range).
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.browsing import _database_url
from zongzhi.regions import codes

ROOT = Path(__file__).resolve().parents[1]


def race(what: str, n: int = 20) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.race", what, str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATABASE_URL": _database_url()},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_twenty_workers_racing_one_transition(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    outcome = race("transition")
    assert sorted(outcome["results"]) == ["conflict"] * 19 + ["ok"], outcome["results"]
    assert outcome["state"] == "accepted"
    assert outcome["accept_events"] == 1
    assert outcome["version"] == 2


def test_concurrent_intake_never_duplicates_a_number(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    numbers = race("intake")["results"]
    assert all(n.startswith("152502") and len(n) == 18 for n in numbers), numbers
    assert len(set(numbers)) == 20


def test_ten_clerks_booking_one_free_slot_get_exactly_one_booking(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    outcome = race("booking", 10)
    results = sorted(outcome["results"])
    assert results.count("ok") == 1, results
    refused = [r for r in results if r != "ok"]
    assert len(refused) == 9 and all(r.startswith("refused: ") for r in refused), results
    assert all(f"{outcome['room']} 在 " in r and "已被预约" in r for r in refused), refused
    assert outcome["bookings"] == 1
    assert outcome["events"] == 1


def test_twenty_household_registrations_in_one_grid_get_distinct_codes(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    codes = race("household")["results"]
    assert not [c for c in codes if not c.startswith("H")], codes
    assert len(set(codes)) == 20, codes


def test_service_areas_added_at_once_all_widen_the_orgs_reach(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    """Each `service_area_add` widens the org's stored reach under its row's lock: eight at once leave the
    range spanning all eight counties, as eight one after the other would (a lost update would drop one end)."""
    outcome = race("reach", 8)
    assert outcome["results"] == ["ok"] * 8, outcome["results"]
    assert outcome["areas"] == 8
    assert outcome["reach"] == list(codes.span(outcome["prefixes"]))
