"""The history tables partitioned by month on PostgreSQL (zongzhi/ops/partitions.py, docs/deploy.md).

The migrations made the case timeline, the audit log, the webhook attempts and the outbox (events,
deliveries, SMS notices) partitioned tables;
the scheduler's task makes months ahead (idempotently); a row lands in its month's partition, or in the
default one when no month was made; retention archives the oldest month to an encrypted file and drops
it, refusing an audit retention below 180 days; and the audit chain still verifies after its months
were archived (the anchor checkpoint). An old month of the outbox is archived only once nothing still
needs it, and afterwards the feed resumes (a cursor before the archive is told so, 410) and a kept
delivery can be sent again. On SQLite every test is skipped, saying so.
"""

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.service_accounts import service_account
from tests.test_audit_tamper import TABLE, around_the_triggers, verify
from zongzhi.audit.models import AuditEntry
from zongzhi.audit.services import audit_checkpoint, audit_record, audit_verify
from zongzhi.cases import events
from zongzhi.cases.models import Case, CaseEvent, Party
from zongzhi.ops import partitions
from zongzhi.ops.tasks import partitions_ensure_task
from zongzhi.outbox import webhooks
from zongzhi.outbox.models import Cursor, Delivery, Event, SmsMessage, Subscription
from zongzhi.outbox.publishing import publish
from zongzhi.outbox.services import delivery_redeliver, event_record

HISTORY = (
    "cases_caseevent",
    "audit_auditentry",
    "outbox_attempt",
    "outbox_delivery",
    "outbox_smsmessage",
    "outbox_event",
)
KEY_OF = {"outbox_delivery": "created_at", "outbox_smsmessage": "created_at", "outbox_event": "recorded_at"}


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
        assert key == f"PRIMARY KEY (id, {KEY_OF.get(table, 'at')})"
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


def _feed(token: str, after: str = "") -> tuple[int, Any]:
    response = Client().get("/api/v1/events", {"after": after} if after else {}, HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code, response.json()


def _sms(event: Event, case: Case, **fields: Any) -> SmsMessage:
    party = Party.objects.filter(case=case).order_by("id").first()
    assert party is not None
    return SmsMessage.objects.create(
        event=event,
        case=case,
        party=party,
        region_code=case.region_code,
        notice="closed",
        language="zh-hans",
        phone="13800000000",
        phone_index="test",
        text="您的案件已结案。",
        next_attempt_at=timezone.now(),
        **fields,
    )


@pytest.mark.django_db
def test_outbox_rows_land_in_the_month_they_are_written_and_keys_stay_unique() -> None:
    _postgresql_only()
    publish()  # the seeded events: the new subscription starts after them
    account, _token = service_account("part-carol")
    subscription, _secret = webhooks.subscription_create(
        user=account, actor=account, name="分区", url="http://127.0.0.1:9/hook", kinds=[]
    )
    # A visit recorded offline a year ago is news now: it is kept by when it was written, not by `at`.
    event = event_record(
        kind="visit.recorded", region_code="152502001001", data={}, at=timezone.now() - datetime.timedelta(days=400)
    )
    assert event is not None
    this_month = partitions.month_of(timezone.localdate())
    assert _home("outbox_event", event.pk) == partitions.partition_name("outbox_event", this_month)
    publish()
    assert webhooks.fan_out(subscription) >= 1
    delivery = Delivery.objects.get(subscription=subscription, event_id=event.pk)
    home = _one("SELECT tableoid::regclass::text FROM outbox_delivery WHERE id = %s", [delivery.pk])
    assert home == partitions.partition_name("outbox_delivery", this_month)
    case = Case.objects.filter(parties__isnull=False).order_by("id").first()
    assert case is not None
    sms = _sms(event, case)
    assert _home("outbox_smsmessage", sms.pk) == partitions.partition_name("outbox_smsmessage", this_month)
    # A clock's event is told once, whatever the partitions.
    assert event_record(kind="clock.test", region_code="152502001001", data={}, key="told-once") is not None
    assert event_record(kind="clock.test", region_code="152502001001", data={}, key="told-once") is None
    assert Event.objects.filter(key="told-once").count() == 1


@pytest.mark.django_db
def test_an_old_outbox_month_goes_only_when_nothing_needs_it_and_the_feed_goes_on(  # type: ignore[no-untyped-def]
    tmp_path: Path, settings
) -> None:
    _postgresql_only()
    settings.PARTITION_ARCHIVE_DIR = tmp_path / "archive"
    old = partitions.month_of(timezone.localdate() - datetime.timedelta(days=400))
    with connection.cursor() as cursor:
        for table in ("outbox_event", "outbox_delivery", "outbox_smsmessage"):
            assert old not in partitions.months(table)
            partitions._create_month(cursor, table, old)
    written = partitions.month_start(old) + datetime.timedelta(days=2)
    event_record(kind="test.first", region_code="152502001001", data={})  # a reader's cursor may be at it
    publish()
    account, token = service_account("part-dave")
    subscription, _secret = webhooks.subscription_create(
        user=account, actor=account, name="归档", url="http://127.0.0.1:9/hook", kinds=["test.*"]
    )
    stale = Subscription.objects.create(user=account, name="停用", url="http://127.0.0.1:9/x", secret="s" * 16)
    gone = Event.objects.create(
        kind="test.old", region_code="152502001001", at=written, recorded_at=written, data={}, key="old-key"
    )
    kept = event_record(kind="test.new", region_code="152502001001", data={})
    assert kept is not None
    publish()
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.seq is not None and kept.seq is not None and gone.seq < kept.seq
    webhooks.fan_out(subscription)
    old_delivery = Delivery.objects.get(subscription=subscription, event_id=gone.pk)
    Delivery.objects.filter(pk=old_delivery.pk).update(created_at=written)  # as if fanned out then
    new_delivery = Delivery.objects.get(subscription=subscription, event_id=kept.pk)
    case = Case.objects.filter(parties__isnull=False).order_by("id").first()
    assert case is not None
    _sms(gone, case, created_at=written, status=SmsMessage.Status.SENT)
    later = partitions.next_month(old) + datetime.timedelta(days=366)
    with connection.cursor() as cursor:
        # The test is one transaction: Django's deferred key checks would hold DROP TABLE back.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    # The events first: refused while their deliveries are in the database.
    with pytest.raises(partitions.NotYet, match="引用这些事件"):
        partitions.partition_archive("outbox_event", old, today=later)
    # A pending delivery is work to do; once delivered its month goes.
    with pytest.raises(partitions.NotYet, match="待发送"):
        partitions.partition_archive("outbox_delivery", old, today=later)
    Delivery.objects.filter(pk=old_delivery.pk).update(status=Delivery.Status.DELIVERED)
    assert partitions.partition_archive("outbox_delivery", old, today=later).rows == 1
    assert partitions.partition_archive("outbox_smsmessage", old, today=later).rows == 1
    # Every reader of the outbox must have read past the month: the stale subscription, the SMS cursor.
    Cursor.objects.update_or_create(name="sms", defaults={"seq": 0})
    Subscription.objects.exclude(pk__in=[subscription.pk, stale.pk]).update(cursor=kept.seq)
    Cursor.objects.exclude(name="sms").update(seq=kept.seq)
    with pytest.raises(partitions.NotYet, match="停用"):
        partitions.partition_archive("outbox_event", old, today=later)
    stale.delete()
    with pytest.raises(partitions.NotYet, match="sms"):
        partitions.partition_archive("outbox_event", old, today=later)
    Cursor.objects.filter(name="sms").update(seq=kept.seq)
    done = partitions.partition_archive("outbox_event", old, today=later)
    assert done.rows == 1 and [r["kind"] for r in partitions.archive_read(done.path)] == ["test.old"]
    assert not Event.objects.filter(pk=gone.pk).exists()
    assert old not in partitions.months("outbox_event")
    # Its key stays told.
    assert event_record(kind="test.old", region_code="152502001001", data={}, key="old-key") is None

    # The feed: a cursor before the archived event is told it missed some (never silently skipped) ...
    status, body = _feed(token, str(gone.seq - 1))
    assert status == 410 and str(gone.seq) in body["detail"], body
    # ... a cursor at or after it resumes in order, and a reader from the start gets what is kept.
    status, body = _feed(token, str(gone.seq))
    assert status == 200 and kept.pk in [e["id"] for e in body["events"]], body
    status, body = _feed(token)
    assert status == 200 and gone.pk not in [e["id"] for e in body["events"]]
    # A kept delivery is sent again with its event.
    Delivery.objects.filter(pk=new_delivery.pk).update(status=Delivery.Status.DEAD)
    delivery_redeliver(delivery=new_delivery, actor=account)
    new_delivery.refresh_from_db()
    assert new_delivery.status == Delivery.Status.PENDING
    assert str(kept.pk) in webhooks.body_of(new_delivery).decode()
    # Archiving what is due names what must wait, without failing: an older month with a pending delivery.
    older = partitions.month_of(old - datetime.timedelta(days=1))
    with connection.cursor() as cursor:
        partitions._create_month(cursor, "outbox_delivery", older)
    Delivery.objects.filter(pk=new_delivery.pk).update(created_at=partitions.month_start(older))
    waiting: list[str] = []
    assert partitions.partitions_archive_due(today=later, waiting=waiting) == []
    assert waiting == [f"outbox_delivery {older:%Y-%m} 暂不归档：还有 1 条投递待发送"]
    assert Delivery.objects.filter(pk=new_delivery.pk, status=Delivery.Status.PENDING).exists()
