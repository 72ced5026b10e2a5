"""An account is an administrator's or a business user's, never both, even when two grants race.

Ten new accounts, each with two grants started at the same instant from a separate process with
real threads and connections: an administrator role from the command line, and a business role or
a jurisdiction by the security administrator. On each account exactly one grant wins and the other
is refused with the reason (the account's row is locked while its rights are checked and changed).
Two administrators confirming one reset request at once: one resets, the other is told it is done.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.browsing import _database_url

ROOT = Path(__file__).resolve().parents[1]


def race(what: str, n: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.admin_race", what, str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATABASE_URL": _database_url()},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_administrator_role_and_a_business_right_racing_on_one_account(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    outcome = race("grants", 10)
    for username, results in outcome["results"].items():
        wins = [r for r in results if r.endswith(": ok")]
        losses = [r for r in results if ": refused: " in r]
        assert len(wins) == 1 and len(losses) == 1, (username, results)
        assert "管理员" in losses[0], results
        held = outcome["held"][username]
        if wins[0].startswith("admin"):
            assert held == {"roles": ["sys_admin"], "jurisdictions": 0}, (username, held)
        else:
            assert "sys_admin" not in held["roles"] and (held["roles"] == ["leader"] or held["jurisdictions"] == 1)


def test_two_administrators_confirming_one_reset_at_once(django_db_setup) -> None:  # type: ignore[no-untyped-def]
    outcome = race("confirm", 5)
    for reset, results in outcome["results"].items():
        wins = [r for r in results if r.endswith(": ok")]
        losses = [r for r in results if ": refused: " in r]
        assert len(wins) == 1 and len(losses) == 1, (reset, results)
        assert "该申请已处理" in losses[0], results
        assert outcome["confirmed"][reset] == 1
