"""The history tables partitioned by month on PostgreSQL (zongzhi/ops/partitions.py, docs/deploy.md).

The migrations made the case timeline, the audit log and the webhook attempts partitioned tables;
the scheduler's task makes months ahead (idempotently); a row lands in its month's partition, or in the
default one when no month was made; retention archives the oldest month to an encrypted file and drops
it, refusing an audit retention below 180 days; and the audit chain still verifies after its months
were archived (the anchor checkpoint). On SQLite every test is skipped, saying so.
"""

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tests.test_audit_tamper import TABLE, around_the_triggers, verify
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_checkpoint, audit_record, audit_verify
from zongzhi.cases import events
from zongzhi.cases.models import Case, CaseEvent
from zongzhi.ops import partitions
from zongzhi.ops.tasks import partitions_ensure_task

HISTORY = ("cases_caseevent", "audit_auditentry", "outbox_attempt")


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("partitioning is PostgreSQL's (declarative partitioning): SQLite keeps plain tables")


def _one(query: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def _home(row_table: str, row_id: int) -> str:
    """The partition a row is stored in."""
    return str(_one(f"SELECT tableoid::regclass::text FROM {row_table} WHERE id = %s", [row_id]))


@pytest.mark.django_db
def test_history_tables_are_partitioned_by_month_with_a_default() -> None:
    _postgresql_only()
    for table in HISTORY:
        assert _one("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table]) == "r"
        key = _one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
            [table],
        )
        assert key == "PRIMARY KEY (id, at)"
        assert _one("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [table]) >= 2
        assert _one("SELECT to_regclass(%s) IS NOT NULL", [partitions.default_name(table)])
    # Every audit partition refuses TRUNCATE of its own and UPDATE/DELETE through the parent's triggers.
    for partition in [partitions.partition_name(TABLE, m) for m in partitions.months(TABLE)]:
        triggers = _one("SELECT array_agg(tgname::text) FROM pg_trigger WHERE tgrelid = %s::regclass", [partition])
        assert {"audit_append_only", "audit_no_truncate"} <= set(triggers)


@pytest.mark.django_db
def test_the_task_makes_months_ahead_once() -> None:
    _postgresql_only()
    this_month = partitions.month_of(timezone.localdate())
    first = partitions_ensure_task.call()
    again = partitions_ensure_task.call()
    assert again == {"made": [], "waiting": []}, again
    expected = [this_month]
    for _step in range(3):
        expected.append(partitions.next_month(expected[-1]))
    for table in HISTORY:
        assert set(expected) <= set(partitions.months(table)), (table, first)
    # Further ahead (a later day), only the new months are made, each once.
    later = datetime.date(this_month.year + 1, this_month.month, 15)
    made = partitions.partitions_ensure(today=later)["made"]
    assert partitions.partition_name("cases_caseevent", partitions.month_of(later)) in made
    assert len(made) == len(set(made))
    assert partitions.partitions_ensure(today=later)["made"] == []


@pytest.mark.django_db
def test_a_row_lands_in_its_month_and_beyond_the_months_in_the_default() -> None:
    _postgresql_only()
    case = Case.objects.order_by("id").first()
    assert case is not None
    ahead = partitions.next_month(partitions.next_month(partitions.month_of(timezone.localdate())))
    at = partitions.month_start(ahead) + datetime.timedelta(days=3, hours=5)
    row = events.append(case, events.LedgerCorrected(), actor=None, at=at)
    assert row.pk is not None and CaseEvent.objects.get(pk=row.pk).at == at  # RETURNING gave the id
    assert _home("cases_caseevent", row.pk) == partitions.partition_name("cases_caseevent", ahead)
    far = events.append(case, events.LedgerCorrected(), actor=None, at=at.replace(year=at.year + 20))
    assert far.pk > row.pk
    assert _home("cases_caseevent", far.pk) == partitions.default_name("cases_caseevent")
    # A month whose rows went to the default is not made (PostgreSQL refuses) but reported as waiting.
    far_month = partitions.month_of(timezone.localtime(far.at).date())
    waiting = partitions.partitions_ensure(today=far_month)["waiting"]
    assert partitions.partition_name("cases_caseevent", far_month) in waiting


@pytest.mark.django_db
def test_audit_retention_below_180_days_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    _postgresql_only()
    settings.AUDIT_RETENTION_DAYS = 90
    month = partitions.months(TABLE)[0]
    with pytest.raises(partitions.PartitionError, match="少于 180 天"):
        partitions.partition_archive(TABLE, month, today=datetime.date(2040, 1, 1))
    with pytest.raises(CommandError, match="少于 180 天"):
        call_command("partitions", "--archive")
    settings.AUDIT_RETENTION_DAYS = 180
    with pytest.raises(partitions.PartitionError, match="未超过保存期限"):
        partitions.partition_archive(TABLE, month)


@pytest.fixture
def committed(django_db_setup, django_db_blocker, tmp_path: Path, settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """Committed data (archiving writes a checkpoint, refused inside a transaction), put back afterwards."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.PARTITION_ARCHIVE_DIR = tmp_path / "archive"
    with django_db_blocker.unblock():
        _postgresql_only()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE audit_backup AS SELECT * FROM {TABLE}")
            cursor.execute("CREATE TABLE caseevent_backup AS SELECT * FROM cases_caseevent")
        try:
            yield tmp_path
        finally:
            with around_the_triggers() as cursor:
                cursor.execute(f"DELETE FROM {TABLE}")
                cursor.execute("DELETE FROM cases_caseevent")
            with connection.cursor() as cursor:
                for table, backup in ((TABLE, "audit_backup"), ("cases_caseevent", "caseevent_backup")):
                    local = "date_trunc('month', at AT TIME ZONE 'Asia/Shanghai')"
                    cursor.execute(f"SELECT DISTINCT {local} FROM {backup}")
                    for (start,) in cursor.fetchall():
                        month = start.date()
                        if month not in partitions.months(table):
                            partitions._create_month(cursor, table, month)
            with around_the_triggers() as cursor:
                cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM audit_backup")
                cursor.execute("INSERT INTO cases_caseevent SELECT * FROM caseevent_backup")
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE audit_backup")
                cursor.execute("DROP TABLE caseevent_backup")


def test_archiving_the_audit_log_keeps_the_chain_verifiable(committed: Path, settings) -> None:  # type: ignore[no-untyped-def]
    oldest = partitions.months(TABLE)[0]
    audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="alice", target="张三丰", detail={"n": 1})
    audit_checkpoint()
    before = AuditEntry.objects.filter(at__lt=partitions.month_start(partitions.next_month(oldest))).count()
    assert before > 0
    total = AuditEntry.objects.count()
    # Half a year and a month later the oldest month is past the 180 days.
    later = partitions.next_month(oldest) + datetime.timedelta(days=200)
    done = partitions.partition_archive(TABLE, oldest, today=later)
    assert done.rows == before
    assert partitions.partition_name(TABLE, oldest) not in [
        partitions.partition_name(TABLE, m) for m in partitions.months(TABLE)
    ]
    assert AuditEntry.objects.count() == total - before
    # The file is encrypted: neither a name nor a hash of the rows is in it; read back, the rows are all there.
    sealed = done.path.read_bytes()
    assert "张三丰".encode() not in sealed and b"alice" not in sealed
    rows = partitions.archive_read(done.path)
    assert len(rows) == before and {r["target"] for r in rows} >= {"张三丰"}
    assert done.path.stat().st_mode & 0o777 == 0o600
    # New entries (after the archive; they may fall in the default partition) chain on; verify passes.
    audit_record(action=AuditEntry.Action.LOGIN_FAILED, actor_name="bob", target="bob", detail={"n": 2})
    audit_checkpoint()
    result = audit_verify()
    assert result.intact, result.lines()
    assert result.archived == before and result.anchor is not None
    assert any("已归档" in line for line in result.lines())
    run = verify(settings.AUDIT_CHECKPOINT_DIR)  # the command, as the audit administrator runs it
    assert run.returncode == 0, run.stdout + run.stderr
    # Deleting the first entry left after the archive is still caught.
    first = AuditEntry.objects.order_by("id").first()
    assert first is not None
    with around_the_triggers() as cursor:
        cursor.execute(f"CREATE TABLE audit_first AS SELECT * FROM {TABLE} WHERE id = %s", [first.pk])
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [first.pk])
    try:
        assert not audit_verify().intact
    finally:
        with around_the_triggers() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM audit_first")
            cursor.execute("DROP TABLE audit_first")


def test_case_events_archived_by_their_retention(committed: Path, settings) -> None:  # type: ignore[no-untyped-def]
    oldest = partitions.months("cases_caseevent")[0]
    later = partitions.next_month(oldest) + datetime.timedelta(days=400)
    settings.CASE_EVENT_RETENTION_DAYS = 0  # the default: the timeline is kept for ever
    assert [m for spec, m in partitions.due(later) if spec.table == "cases_caseevent"] == []
    with pytest.raises(partitions.PartitionError, match="永久"):
        partitions.partition_archive("cases_caseevent", oldest, today=later)
    settings.CASE_EVENT_RETENTION_DAYS = 365
    newer = partitions.months("cases_caseevent")[1]
    with pytest.raises(partitions.PartitionError, match="最早"):
        partitions.partition_archive("cases_caseevent", newer, today=later.replace(year=later.year + 5))
    count = CaseEvent.objects.filter(at__lt=partitions.month_start(partitions.next_month(oldest))).count()
    done = partitions.partition_archive("cases_caseevent", oldest, today=later)
    assert done.rows == count
    assert oldest not in partitions.months("cases_caseevent")
    manifest = (settings.PARTITION_ARCHIVE_DIR / "manifest.jsonl").read_text(encoding="utf-8")
    assert done.sha256 in manifest and f'"rows": {count}' in manifest
    assert len(partitions.archive_read(done.path)) == count
