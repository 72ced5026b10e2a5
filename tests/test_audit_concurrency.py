"""Concurrent appends from real connections still make one unbroken chain, and a checkpoint taken while
they append agrees with it (run on both databases; on PostgreSQL the appends really interleave, on
parallel lanes of the chain)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.browsing import _database_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("lanes", ["16", "1"])
def test_twenty_connections_appending_at_once_keep_one_chain(
    django_db_setup, django_db_blocker, tmp_path: Path, lanes: str
) -> None:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        url = _database_url()
    result = subprocess.run(
        [sys.executable, "-m", "tests.audit_race", "20", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "ZONGZHI_AUDIT_CHECKPOINT_DIR": str(tmp_path),
            "ZONGZHI_AUDIT_LANES": lanes,
        },
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert outcome["added"] == 200
    assert outcome["intact"], outcome["lines"]
    assert outcome["before"] <= outcome["checkpoint_count"] <= outcome["before"] + 200
    assert "共核对 1 个检查点" in outcome["lines"][-1]
    if connection.vendor == "postgresql" and lanes != "1":
        # Twenty writers at once do not queue behind one lock: they spread over the lanes.
        assert len(outcome["lanes"]) > 1, outcome["lanes"]
    else:
        assert outcome["lanes"] == [0]  # one lane configured, or SQLite's write lock: one chain
