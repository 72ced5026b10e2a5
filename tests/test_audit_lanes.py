"""The audit log's parallel lanes (PostgreSQL): a writer finds a free lane instead of waiting, each lane
is a chain of its own, and a lane recomputed with the stolen key is caught by the checkpoint's record
of that lane's head although the platform's newest entry is untouched.

Committed data, like test_audit_tamper.py (whose helpers it uses), put back as it was afterwards.
"""

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.browsing import _database_url
from tests.test_audit_tamper import TABLE, around_the_triggers, verify
from zongzhi.audit import services
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_checkpoint, audit_record


def _append(n: int, who: str) -> list[AuditEntry]:
    return [
        audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name=who, target=who, detail={"n": i})
        for i in range(n)
    ]


@pytest.fixture
def two_lanes(django_db_setup, django_db_blocker, tmp_path: Path, settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """Lane 0 busy in another session while Bob appends (so Bob's entries go on another lane), then Alice
    appends on lane 0 again, and a checkpoint; committed, and the log restored afterwards."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("lanes are a PostgreSQL feature: on SQLite the database's write lock makes one chain")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE audit_backup AS SELECT * FROM {TABLE}")
        try:
            _append(2, "alice")
            with psycopg.connect(_database_url()) as other:
                other.execute("SELECT pg_advisory_xact_lock(%s, 0)", [services._CHAIN_LOCK])
                bob = _append(5, "bob")  # does not wait for lane 0: it takes the next free one
                other.rollback()
            assert {entry.lane for entry in bob} == {1}
            # Bob's connection is this one: it keeps lane 1 while that is free. Alice writes from another
            # moment of the same connection with lane 1 held elsewhere, and gets lane 0 back.
            with psycopg.connect(_database_url()) as other:
                other.execute("SELECT pg_advisory_xact_lock(%s, 1)", [services._CHAIN_LOCK])
                alice = _append(3, "alice")
                other.rollback()
            assert {entry.lane for entry in alice} == {0}
            audit_checkpoint()
            yield tmp_path
        finally:
            with around_the_triggers() as cursor:
                cursor.execute(f"DELETE FROM {TABLE}")
                cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM audit_backup")
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE audit_backup")


def test_each_lane_is_its_own_chain_and_verifies(two_lanes: Path) -> None:
    bob = list(AuditEntry.objects.filter(actor_name="bob").order_by("id"))
    first_on_lane_1 = AuditEntry.objects.filter(lane=1).order_by("id").first()
    assert first_on_lane_1 is not None and first_on_lane_1.prev_hash == services.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(bob))
    result = verify(two_lanes)
    assert result.returncode == 0, result.stderr
    assert "逐条 HMAC-SM3 校验通过" in result.stdout


def test_a_lane_recomputed_with_the_stolen_key_is_caught_by_its_head_in_the_checkpoint(two_lanes: Path) -> None:
    bob = list(AuditEntry.objects.filter(actor_name="bob").order_by("id"))
    victim, follower = bob[2], bob[3]
    newest = AuditEntry.objects.order_by("-id").first()
    assert newest is not None and newest.lane == 0  # the platform's head is on the other lane, untouched
    with around_the_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])
        follower.prev_hash = victim.prev_hash
        _relink_lane(follower, services.keys.chain_keys().keys[follower.key_id], cursor)
    result = verify(two_lanes)
    assert result.returncode == 1, result.stdout
    assert "被改动：" not in result.stderr and "不衔接" not in result.stderr  # lane 1 is consistent in itself
    assert f"第 {bob[-1].pk} 条记录的哈希与检查点 #1" in result.stderr and "第 1 条链不符" in result.stderr


def _relink_lane(start: AuditEntry, key: bytes, cursor: object) -> None:
    """Mallory rewrites lane `start.lane` from `start` on with the chain key (the other lane untouched)."""
    prev = start.prev_hash
    for entry in AuditEntry.objects.filter(lane=start.lane, id__gte=start.pk).order_by("id"):
        entry.prev_hash = prev
        entry.hash = services._keyed_digest(key, prev, entry)
        cursor.execute(  # type: ignore[attr-defined]
            f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE id = %s", [prev, entry.hash, entry.pk]
        )
        prev = entry.hash
