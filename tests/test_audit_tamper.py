"""Tampering with the audit log is caught by `manage.py audit_verify`, run as a real process (exit code 1, where).

Mallory can reach the database but not the application's keys: she empties the table, deletes the
newest entries, edits one entry, or edits one and recomputes the whole chain (with a key of her own, or
with the real key and no way to rewrite the checkpoints). The database refuses her first (triggers,
TRUNCATE refused on PostgreSQL); these tests go around it as only a superuser or the file's owner can,
and `audit_verify` still says what happened and where. Each test works on committed data and puts the
log back as it was afterwards.
"""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from tests.browsing import _database_url
from tests.http_client import logged_in
from zongzhi.audit import services
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_checkpoint, audit_record

ROOT = Path(__file__).resolve().parents[1]
TABLE = AuditEntry._meta.db_table
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_append_only_{event.lower()} BEFORE {event} ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditentry is append-only'); END;"
    for event in ("UPDATE", "DELETE")
]


def verify(checkpoints: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATABASE_URL": _database_url(), "ZONGZHI_AUDIT_CHECKPOINT_DIR": str(checkpoints)},
    )


@contextmanager
def around_the_triggers() -> Iterator[Any]:
    """A cursor that is not stopped by the append-only triggers (a superuser, or the SQLite file's owner)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            try:
                yield cursor
            finally:
                cursor.execute("RESET session_replication_role")
        else:
            cursor.execute("DROP TRIGGER audit_append_only_update")
            cursor.execute("DROP TRIGGER audit_append_only_delete")
            try:
                yield cursor
            finally:
                for statement in SQLITE_TRIGGERS:
                    cursor.execute(statement)


@pytest.fixture
def log(django_db_setup, django_db_blocker, tmp_path: Path, settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """Ten fresh entries and a checkpoint of them (in a directory of this test's), committed; restored after."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    with django_db_blocker.unblock():
        for n in range(10):
            audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="mallory", target="mallory", detail={"n": n})
        audit_checkpoint()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE audit_backup AS SELECT * FROM {TABLE}")
        try:
            yield tmp_path
        finally:
            with around_the_triggers() as cursor:
                cursor.execute(f"DELETE FROM {TABLE}")
                cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM audit_backup")
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE audit_backup")


def newest(n: int) -> list[int]:
    return list(AuditEntry.objects.order_by("-id").values_list("id", flat=True)[:n])


def test_an_untouched_log_verifies_with_its_checkpoint(log: Path) -> None:
    result = verify(log)
    assert result.returncode == 0, result.stderr
    count = AuditEntry.objects.count()
    assert f"审计链完整：共 {count} 条记录" in result.stdout
    assert "最新检查点 #1（" in result.stdout and f"至第 {newest(1)[0]} 条、共 {count} 条）" in result.stdout


def test_truncate(log: Path) -> None:
    count = AuditEntry.objects.count()
    if connection.vendor == "postgresql":
        # The statement trigger refuses it; only a superuser who turns triggers off gets through.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")
        assert AuditEntry.objects.count() == count
        with around_the_triggers() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")
    else:
        # The file's owner opens it with sqlite3 itself and deletes everything.
        raw = sqlite3.connect(connection.settings_dict["NAME"])
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(f"DELETE FROM {TABLE}")
        raw.execute("DROP TRIGGER audit_append_only_delete")
        raw.execute(f"DELETE FROM {TABLE}")
        raw.commit()
        raw.execute(SQLITE_TRIGGERS[1])
        raw.commit()
        raw.close()
    assert AuditEntry.objects.count() == 0
    result = verify(log)
    assert result.returncode == 1, result.stdout
    assert "审计表已被清空：检查点 #1（" in result.stderr and f"共 {count} 条），数据库中现有 0 条" in result.stderr


def test_delete_the_newest_entries(log: Path) -> None:
    head, *_rest = gone = newest(3)
    with around_the_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id IN ({', '.join(str(i) for i in gone)})")
    result = verify(log)
    assert result.returncode == 1, result.stdout
    remaining = newest(1)[0]
    assert f"至第 {head} 条" in result.stderr and "之后的记录缺失" in result.stderr
    assert f"数据库中最新为第 {remaining} 条" in result.stderr and "最新的记录被删除" in result.stderr


def test_delete_an_entry_in_the_middle(log: Path) -> None:
    gone, after = newest(6)[4], newest(6)[3]
    with around_the_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [gone])
    result = verify(log)
    assert result.returncode == 1, result.stdout
    before = AuditEntry.objects.filter(id__lt=gone).order_by("-id").values_list("id", flat=True).first()
    assert f"第 {after} 条记录与上一条（第 {before} 条）不衔接" in result.stderr
    assert "少于检查点 #1" in result.stderr


def test_edit_one_entry(log: Path, server: dict[str, str]) -> None:
    edited = newest(5)[2]
    with around_the_triggers() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET target = %s WHERE id = %s", ["nobody", edited])
    result = verify(log)
    assert result.returncode == 1, result.stdout
    assert f"第 {edited} 条记录被改动：内容与其 HMAC-SM3 不符。" in result.stderr
    assert result.stderr.count("被改动") == 1  # that entry and no other
    # The audit administrator's page says the same, through the live server.
    auditor = logged_in(server["url"], "demo-auditor")
    page = auditor.get("/staff/audit/?verify=1").text
    assert "审计日志校验未通过" in page and f"第 {edited} 条记录被改动" in page


def _sm3_chain_from(start: AuditEntry, key: bytes, cursor: Any) -> None:
    """Mallory rewrites every entry from `start` on, each chained to the one before with `key`."""
    prev = start.prev_hash
    for entry in AuditEntry.objects.filter(id__gte=start.pk).order_by("id"):
        entry.prev_hash = prev
        entry.hash = services._keyed_digest(key, prev, entry)
        cursor.execute(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE id = %s", [prev, entry.hash, entry.pk])
        prev = entry.hash


def test_edit_and_recompute_the_whole_chain_without_the_key(log: Path) -> None:
    first = AuditEntry.objects.order_by("id").first()
    assert first is not None
    with around_the_triggers() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET target = %s WHERE id = %s", ["nobody", first.pk])
        first.target = "nobody"
        # She knows the code: the same HMAC-SM3 over the same fields, with the only key she has.
        _sm3_chain_from(first, hashlib.sha256(b"mallory's guess").digest(), cursor)
    result = verify(log)
    assert result.returncode == 1, result.stdout
    count = AuditEntry.objects.count()
    assert f"带密钥“a1”的全部 {count} 条记录都与本服务器的该密钥不符（第一条为第 {first.pk} 条）" in result.stderr
    assert f"第 {newest(1)[0]} 条记录的哈希与检查点 #1（" in result.stderr and "链被改动并重新计算" in result.stderr


def test_recompute_with_the_stolen_key_is_caught_by_the_checkpoint(log: Path) -> None:
    """Even with the chain key (a copy of the server's key file), the signed checkpoint still disagrees."""
    victim = AuditEntry.objects.get(pk=newest(4)[3])
    with around_the_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])
        follower = AuditEntry.objects.filter(id__gt=victim.pk).order_by("id").first()
        assert follower is not None
        follower.prev_hash = victim.prev_hash
        key = services.keys.chain_keys().keys[follower.key_id]
        _sm3_chain_from(follower, key, cursor)
    result = verify(log)
    assert result.returncode == 1, result.stdout
    assert "被改动：" not in result.stderr and "不衔接" not in result.stderr  # the chain itself is consistent
    assert f"第 {newest(1)[0]} 条记录的哈希与检查点 #1（" in result.stderr


def test_an_entry_with_an_unknown_key(log: Path) -> None:
    forged = newest(1)[0]
    with around_the_triggers() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET key_id = %s WHERE id = %s", ["zz9", forged])
    result = verify(log)
    assert result.returncode == 1, result.stdout
    assert f"第 {forged} 条记录使用未知密钥“zz9”" in result.stderr


def test_a_tampered_checkpoint_file(log: Path) -> None:
    (path,) = log.glob("checkpoints-*.jsonl")
    line = json.loads(path.read_text())
    line["count"] = line["count"] - 5  # as if fewer entries had been there
    path.write_text(json.dumps(line) + "\n")
    result = verify(log)
    assert result.returncode == 1, result.stdout
    assert f"检查点文件 {path.name}:1 签名无效" in result.stderr


def test_entries_from_before_the_key_stay_verifiable_and_sealed(log: Path) -> None:
    """A log begun with plain SM3 (before this version): its entries verify, and the first keyed entry seals them."""
    with around_the_triggers() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
    old = [AuditEntry(actor_name="alice", action="login", target="alice", detail={"n": n}) for n in range(3)]
    prev = services.GENESIS
    for entry in old:  # as the previous version wrote them
        entry.prev_hash, entry.key_id = prev, ""
        entry.hash = prev = services._legacy_digest(prev, entry)
        AuditEntry.objects.bulk_create([entry])
    audit_record(action=AuditEntry.Action.LOGOUT, actor_name="alice", target="alice")
    result = verify(log.parent / "none")  # no checkpoint describes this log
    assert result.returncode == 0, result.stderr
    assert "共 4 条记录" in result.stdout and "最早的 3 条为启用密钥前的记录" in result.stdout
    assert "尚无检查点" in result.stdout

    # Mallory edits an old entry and recomputes the old chain, which needs no key: the keyed entry disagrees.
    with around_the_triggers() as cursor:
        first = AuditEntry.objects.order_by("id").first()
        assert first is not None
        first.target, prev = "nobody", services.GENESIS
        for entry in [first, *AuditEntry.objects.filter(id__gt=first.pk, key_id="").order_by("id")]:
            if entry.pk != first.pk:
                entry.prev_hash = prev
            entry.hash = prev = services._legacy_digest(prev, entry)
            cursor.execute(
                f"UPDATE {TABLE} SET target = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [entry.target, entry.prev_hash, entry.hash, entry.pk],
            )
    result = verify(log.parent / "none")
    assert result.returncode == 1, result.stdout
    keyed = AuditEntry.objects.filter(key_id__gt="").order_by("id").first()
    assert keyed is not None
    last_old = AuditEntry.objects.filter(key_id="").order_by("-id").values_list("id", flat=True).first()
    assert f"第 {keyed.pk} 条记录与上一条（第 {last_old} 条）不衔接" in result.stderr

    # And an unkeyed entry appended after keyed ones (inserting is allowed) is a forgery outright.
    AuditEntry.objects.bulk_create(
        [AuditEntry(actor_name="m", action="login", prev_hash=keyed.hash, hash="f" * 64, key_id="")]
    )
    assert "没有密钥，却位于带密钥的记录之后" in verify(log.parent / "none").stderr
