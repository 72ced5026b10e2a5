"""Monthly partitions of the history tables on PostgreSQL: made ahead, archived and dropped by policy.

The case timeline (`cases_caseevent`), the audit log (`audit_auditentry`), the webhook attempts
(`outbox_attempt`) and the outbox itself (`outbox_event`, its webhook deliveries `outbox_delivery` and
SMS notices `outbox_smsmessage`) only grow. On PostgreSQL each is a table partitioned by month of a
time column (native declarative partitioning, RANGE), with a DEFAULT partition so that an insert never
fails even when no month was made ahead. `partitions_ensure` (the scheduler's task and `manage.py
partitions`) makes the current month and PARTITION_MONTHS_AHEAD after it; `partition_archive` writes a
month's rows to an encrypted, compressed file with its checksum in a manifest, then detaches and drops
it. SQLite keeps plain tables: everything here is a no-op there. See docs/deploy.md and docs/audit.md.

The database's primary key of a partitioned table must include the partition column: it is (id, column).
Django still uses `id` as the pk: the sequence (or the uuid) alone gives every row its id, so it stays
unique. A foreign key to a partitioned table would need the partition column too: the keys to the
outbox's events and deliveries are dropped on PostgreSQL, and archiving keeps them whole instead
(deliveries and SMS before their events; see `_refusal`).
"""

import base64
import datetime
import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone
from psycopg import sql

from zongzhi import crypto
from zongzhi.audit.services import ArchiveRefused, audit_archive_anchor_prepare, audit_archive_anchor_write

AUDIT_TABLE = "audit_auditentry"
AUDIT_MIN_RETENTION_DAYS = 180  # 网络安全法 §21, 等保 2.0: logs kept no less than six months


@dataclass(frozen=True)
class History:
    """A table partitioned by month of `column`, and the setting of how long its rows stay in the database."""

    table: str
    column: str
    retention_setting: str  # the name in settings: days kept in the database (0: kept for ever)
    minimum_days: int = 0  # a shorter retention is refused


EVENT_TABLE = "outbox_event"
EVENT_KEY_TABLE = "outbox_event_key"

# In archiving order: a month of events is archived only after the deliveries and SMS that name them.
TABLES = (
    History("cases_caseevent", "at", "CASE_EVENT_RETENTION_DAYS"),
    History(AUDIT_TABLE, "at", "AUDIT_RETENTION_DAYS", AUDIT_MIN_RETENTION_DAYS),
    History("outbox_attempt", "at", "WEBHOOK_ATTEMPT_RETENTION_DAYS", AUDIT_MIN_RETENTION_DAYS),
    History("outbox_delivery", "created_at", "WEBHOOK_DELIVERY_RETENTION_DAYS", AUDIT_MIN_RETENTION_DAYS),
    History("outbox_smsmessage", "created_at", "SMS_MESSAGE_RETENTION_DAYS", AUDIT_MIN_RETENTION_DAYS),
    History(EVENT_TABLE, "recorded_at", "OUTBOX_EVENT_RETENTION_DAYS", AUDIT_MIN_RETENTION_DAYS),
)


class PartitionError(Exception):
    """A partition that cannot be made or archived (the message says why, in Chinese)."""


class NotYet(PartitionError):
    """A month past its retention still needed (a delivery pending, a reader behind): archived on a later run."""


def history(table: str) -> History:
    for spec in TABLES:
        if spec.table == table:
            return spec
    raise PartitionError(f"{table} 不是按月分区的表")


def enabled() -> bool:
    return connection.vendor == "postgresql"


# ---- months -----------------------------------------------------------------------------------


def month_of(moment: datetime.date) -> datetime.date:
    return datetime.date(moment.year, moment.month, 1)


def next_month(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_start(month: datetime.date) -> datetime.datetime:
    """Months are those of the platform's time zone (Asia/Shanghai): what a 月 means to its users."""
    return datetime.datetime(month.year, month.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))


def partition_name(table: str, month: datetime.date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


# ---- converting a table (the migrations) ------------------------------------------------------


def _rows(cursor: Any, query: str | sql.Composable, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    cursor.execute(query, params or [])
    return list(cursor.fetchall())


def convert(schema_editor: BaseDatabaseSchemaEditor, table: str, column: str) -> None:
    """Make `table` a table partitioned by month of `column`, with its rows, indexes, keys and grants.

    Unique constraints that do not include the partition column cannot exist on a partitioned table:
    they become plain indexes (the audit log's `hash`, unique by construction). The id column keeps
    its values and gets a sequence of its own, owned by the column, started after the highest id.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    old = f"{table}__unpartitioned"
    with schema_editor.connection.cursor() as cursor:
        ident, old_ident = sql.Identifier(table), sql.Identifier(old)
        indexes = _rows(
            cursor,
            "SELECT indexname, indexdef, i.indisunique FROM pg_indexes p "
            "JOIN pg_class c ON c.relname = p.indexname JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE p.tablename = %s AND NOT i.indisprimary",
            [table],
        )
        foreign = _rows(
            cursor,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        uniques = _rows(
            cursor,
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        grants = _rows(
            cursor,
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = %s AND grantee <> current_user",
            [table],
        )
        referenced = _rows(
            cursor, "SELECT conname FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'", [table]
        )
        if referenced:
            raise PartitionError(f"{table} 被外键 {referenced} 引用：分区前须先去掉这些外键")
        cursor.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(ident, old_ident))
        cursor.execute(
            sql.SQL(
                "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
                "INCLUDING COMMENTS) PARTITION BY RANGE ({})"
            ).format(ident, old_ident, sql.Identifier(column))
        )
        id_type = _rows(
            cursor,
            "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = 'id'",
            [table],
        )[0][0]
        if id_type in ("integer", "bigint"):  # a uuid id (the deliveries') is made by Django, not a sequence
            sequence = sql.Identifier(f"{table}_id_partitioned_seq")
            cursor.execute(sql.SQL("CREATE SEQUENCE {} AS bigint OWNED BY {}.id").format(sequence, ident))
            cursor.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN id SET DEFAULT nextval({})").format(
                    ident, sql.Literal(f"{table}_id_partitioned_seq")
                )
            )
            cursor.execute(
                sql.SQL("SELECT setval({}, COALESCE((SELECT max(id) FROM {}), 0) + 1, false)").format(
                    sql.Literal(f"{table}_id_partitioned_seq"), old_ident
                )
            )
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (id, {})").format(
                ident, sql.Identifier(f"{table}_pkey_month"), sql.Identifier(column)
            )
        )
        cursor.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(sql.Identifier(default_name(table)), ident)
        )
        first = _rows(cursor, sql.SQL("SELECT min({}) FROM {}").format(sql.Identifier(column), old_ident))[0][0]
        now = timezone.localdate()
        month = month_of(timezone.localtime(first).date()) if first else month_of(now)
        last = _ahead(now)
        while month <= last:
            _create_month(cursor, table, month)
            month = next_month(month)
        cursor.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(ident, old_ident))
        cursor.execute(sql.SQL("DROP TABLE {}").format(old_ident))
        for name, definition, unique in indexes:
            if name in {u[0] for u in uniques} or unique:
                # A unique index must include the partition column: kept as a plain index instead.
                definition = definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1)
            cursor.execute(definition.replace(f" ON public.{table} ", f" ON ONLY public.{table} ", 1))
            _attach_index(cursor, table, name, definition)
        for name, definition in foreign:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} " + definition.replace("{", "{{").replace("}", "}}")).format(
                    ident, sql.Identifier(name)
                )
            )
        for grantee, privilege in grants:
            cursor.execute(sql.SQL(f"GRANT {privilege} ON {{}} TO {{}}").format(ident, sql.Identifier(grantee)))


def drop_foreign_keys_to(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    """Drop the foreign keys that reference `table` (before it is partitioned; PostgreSQL only).

    A key to a partitioned table must name its partition column as well; the outbox's keys (a delivery's
    or an SMS's event, an attempt's delivery) are dropped instead. Django's CASCADE is the ORM's anyway,
    and archiving refuses a month of events or deliveries still named by a row in the database.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for owner, name in _rows(
            cursor,
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE confrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
            [table],
        ):
            cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(owner), sql.Identifier(name))
            )


def event_keys_install(schema_editor: BaseDatabaseSchemaEditor) -> None:
    """An event's `key` stays unique on the partitioned outbox: a plain table of the keys told, filled by
    a trigger. A key told twice raises the unique violation `event_record` expects; a key stays told when
    its event's month is archived (a clock's reminder is never sent twice)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE TABLE outbox_event_key (key varchar(100) PRIMARY KEY)")
        cursor.execute("INSERT INTO outbox_event_key SELECT key FROM outbox_event WHERE key IS NOT NULL")
        cursor.execute(
            """CREATE FUNCTION outbox_event_key_told() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.key IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.key IS DISTINCT FROM OLD.key) THEN
                    INSERT INTO outbox_event_key (key) VALUES (NEW.key);
                END IF;
                RETURN NEW;
            END $$"""
        )
        # `recorded_at` is never changed, so an event never moves between partitions (a move would insert
        # its key again).
        cursor.execute(
            "CREATE TRIGGER outbox_event_key BEFORE INSERT OR UPDATE OF key ON outbox_event "
            "FOR EACH ROW EXECUTE FUNCTION outbox_event_key_told()"
        )
        for grantee in _grantees(cursor, EVENT_TABLE, privilege="INSERT"):
            cursor.execute(
                sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(
                    sql.Identifier(EVENT_KEY_TABLE), sql.Identifier(grantee)
                )
            )


def _attach_index(cursor: Any, table: str, name: str, definition: str) -> None:
    """Build the parent's index on every partition and attach it (so the parent's index becomes valid)."""
    for partition in _partitions(cursor, table):
        part_name = f"{partition}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"  # noqa: S324 - a name
        part_def = definition.replace(f" ON public.{table} ", f" ON public.{partition} ", 1).replace(
            f"INDEX {name} ", f"INDEX {part_name} ", 1
        )
        cursor.execute(part_def)
        attach = sql.SQL("ALTER INDEX {} ATTACH PARTITION {}")
        cursor.execute(attach.format(sql.Identifier(name), sql.Identifier(part_name)))


def _grantees(cursor: Any, table: str, privilege: str | None = None) -> list[str]:
    """The roles other than ours holding a privilege on the table (any privilege when None)."""
    query = (
        "SELECT DISTINCT grantee FROM information_schema.role_table_grants WHERE table_name = %s "
        "AND grantee <> current_user"
    )
    params = [table]
    if privilege is not None:
        query += " AND privilege_type = %s"
        params.append(privilege)
    return [row[0] for row in _rows(cursor, query, params)]


def _partitions(cursor: Any, table: str) -> list[str]:
    return [
        row[0]
        for row in _rows(
            cursor,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [table],
        )
    ]


def _create_month(cursor: Any, table: str, month: datetime.date) -> None:
    cursor.execute(
        sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(partition_name(table, month)),
            sql.Identifier(table),
            sql.Literal(month_start(month).isoformat()),
            sql.Literal(month_start(next_month(month)).isoformat()),
        )
    )
    if table == AUDIT_TABLE:
        _seal_audit_partition(cursor, partition_name(table, month))


def _seal_audit_partition(cursor: Any, partition: str) -> None:
    """The parent's row triggers reach every partition; TRUNCATE of a partition itself needs its own trigger,
    and grants on a partition (default privileges) must not give what the parent withholds."""
    cursor.execute(
        sql.SQL(
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        ).format(sql.Identifier(partition))
    )
    for grantee in _grantees(cursor, partition):
        cursor.execute(
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
                sql.Identifier(partition), sql.Identifier(grantee)
            )
        )


def seal_audit_default(schema_editor: BaseDatabaseSchemaEditor) -> None:
    """The audit log's triggers after its conversion (the migration): on the parent and its default partition."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditentry "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        cursor.execute(
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
        _seal_audit_partition(cursor, default_name(AUDIT_TABLE))  # the months were sealed as they were made


# ---- making months ahead ----------------------------------------------------------------------


def _ahead(today: datetime.date) -> datetime.date:
    month = month_of(today)
    for _step in range(settings.PARTITION_MONTHS_AHEAD):
        month = next_month(month)
    return month


def is_partitioned(table: str) -> bool:
    if not enabled():
        return False
    with connection.cursor() as cursor:
        return bool(_rows(cursor, "SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table]))


def months(table: str) -> list[datetime.date]:
    """The months that have a partition of their own, oldest first."""
    if not is_partitioned(table):
        return []
    with connection.cursor() as cursor:
        prefix = f"{table}_p"
        return [
            datetime.date(int(name[len(prefix) : len(prefix) + 4]), int(name[len(prefix) + 4 :]), 1)
            for name in _partitions(cursor, table)
            if name.startswith(prefix) and name[len(prefix) :].isdigit()
        ]


def partitions_ensure(today: datetime.date | None = None) -> dict[str, list[str]]:
    """Make every table's partitions from this month to PARTITION_MONTHS_AHEAD ahead; idempotent.

    A month whose rows already fell into the default partition is left there (and named in `waiting`):
    PostgreSQL cannot make a partition over rows of the default, and moving audit rows would need the
    triggers off. Making months ahead on every tick keeps the default empty.
    """
    made: dict[str, list[str]] = {"made": [], "waiting": []}
    if not enabled():
        return made
    today = today or timezone.localdate()
    for spec in TABLES:
        if not is_partitioned(spec.table):
            continue
        have = set(months(spec.table))
        month, last = month_of(today), _ahead(today)
        while month <= last:
            if month not in have:
                with transaction.atomic(), connection.cursor() as cursor:
                    in_default = _rows(
                        cursor,
                        sql.SQL("SELECT 1 FROM {} WHERE {} >= %s AND {} < %s LIMIT 1").format(
                            sql.Identifier(default_name(spec.table)),
                            sql.Identifier(spec.column),
                            sql.Identifier(spec.column),
                        ),
                        [month_start(month), month_start(next_month(month))],
                    )
                    if in_default:
                        made["waiting"].append(partition_name(spec.table, month))
                    else:
                        _create_month(cursor, spec.table, month)
                        made["made"].append(partition_name(spec.table, month))
            month = next_month(month)
    return made


# ---- archiving --------------------------------------------------------------------------------


def retention_days(spec: History) -> int:
    days = int(getattr(settings, spec.retention_setting))
    if days and days < spec.minimum_days:
        raise PartitionError(
            f"{spec.retention_setting} 为 {days} 天，少于 {spec.minimum_days} 天：日志至少保存六个月，拒绝归档"
        )
    return days


def archive_dir() -> Path:
    return Path(settings.PARTITION_ARCHIVE_DIR)


@dataclass(frozen=True)
class Archived:
    """One month written to its archive file and dropped from the database."""

    table: str
    month: datetime.date
    rows: int
    path: Path
    sha256: str


def due(today: datetime.date | None = None) -> list[tuple[History, datetime.date]]:
    """The months older than their table's retention, oldest first (none for a table kept for ever)."""
    if not enabled():
        return []
    today = today or timezone.localdate()
    found = []
    for spec in TABLES:
        days = retention_days(spec)
        if not days:
            continue
        cutoff = today - datetime.timedelta(days=days)
        found += [(spec, m) for m in months(spec.table) if next_month(m) <= cutoff]
    return found


def _json_rows(cursor: Any, partition: str) -> Iterator[bytes]:
    cursor.execute(sql.SQL("SELECT row_to_json(p)::text FROM {} p ORDER BY id").format(sql.Identifier(partition)))
    for (row,) in cursor:
        yield row.encode() + b"\n"


def partition_archive(table: str, month: datetime.date, today: datetime.date | None = None) -> Archived:
    """Write one month's rows to an encrypted gzip file (checksum in the manifest), then detach and drop it.

    Only a month past the table's retention, only the oldest month (history is archived from its oldest
    end), and for the audit log only when the chain verifies: the archive then becomes the chain's new
    beginning through a signed anchor checkpoint (docs/audit.md). Runs as the tables' owner.
    """
    spec = history(table)
    days = retention_days(spec)
    today = today or timezone.localdate()
    if not is_partitioned(table):
        raise PartitionError(f"{table} 未分区（SQLite 或未迁移）：无需归档")
    if not days:
        raise PartitionError(f"{table} 的保存期限为永久（{spec.retention_setting}=0）：不归档")
    if next_month(month) > today - datetime.timedelta(days=days):
        raise PartitionError(f"{table} {month:%Y-%m} 未超过保存期限 {days} 天：不归档")
    present = months(table)
    if month not in present:
        raise PartitionError(f"{table} 没有 {month:%Y-%m} 的分区")
    if month != present[0]:
        raise PartitionError(f"{table} 须从最早的月份归档：先归档 {present[0]:%Y-%m}")
    partition = partition_name(table, month)
    with connection.cursor() as cursor:
        older = _rows(
            cursor,
            sql.SQL("SELECT count(*) FROM {} WHERE {} < %s").format(
                sql.Identifier(default_name(table)), sql.Identifier(spec.column)
            ),
            [month_start(next_month(month))],
        )[0][0]
    if older:
        raise PartitionError(f"{table} 的默认分区中有 {older} 行早于 {next_month(month):%Y-%m}：请先处理")
    with connection.cursor() as cursor:
        refusal = _refusal(cursor, table, partition)
    if refusal:
        raise NotYet(f"{table} {month:%Y-%m} 暂不归档：{refusal}")
    anchor = None
    if table == AUDIT_TABLE:
        try:
            anchor = audit_archive_anchor_prepare(partition)
        except ArchiveRefused as refused:
            raise PartitionError(str(refused)) from refused
    where = archive_dir() / table
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = where / f"{partition}.jsonl.gz.enc"
    with transaction.atomic(), connection.cursor() as cursor:
        packed = gzip.compress(b"".join(_json_rows(cursor, partition)))
        count = _rows(cursor, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(partition)))[0][0]
    # Rows may hold personal data in plaintext (names in a timeline's data, addresses in an audit
    # detail): the file is encrypted with the data key (crypto.md), never written plain.
    sealed = crypto.encrypt(base64.b64encode(packed).decode()).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, sealed)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    digest = hashlib.sha256(sealed).hexdigest()
    line = {
        "table": table,
        "month": f"{month:%Y-%m}",
        "file": str(path.relative_to(archive_dir())),
        "rows": count,
        "sha256": digest,
        "at": timezone.now().isoformat(),
        "encryption": crypto.ALGORITHM,
    }
    manifest = os.open(archive_dir() / "manifest.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(manifest, (json.dumps(line, sort_keys=True) + "\n").encode())
        os.fsync(manifest)
    finally:
        os.close(manifest)
    if anchor is not None:
        audit_archive_anchor_write(anchor)
    with transaction.atomic(), connection.cursor() as cursor:
        if table == EVENT_TABLE:
            # A feed cursor below the newest archived seq has missed events: the feed says so (410).
            cursor.execute(
                sql.SQL(
                    "UPDATE outbox_publisher SET archived_seq = GREATEST(archived_seq, "
                    "(SELECT COALESCE(max(seq), 0) FROM {}))"
                ).format(sql.Identifier(partition))
            )
        cursor.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(sql.Identifier(table), sql.Identifier(partition))
        )
        cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(partition)))
    return Archived(table, month, count, path, digest)


def _refusal(cursor: Any, table: str, partition: str) -> str:
    """Why an outbox month past its retention must stay for now ("" when it may go).

    A delivery still pending or an SMS still queued is work to do. A month of events goes only once all
    its events are published, no delivery or SMS in the database names one of them (those are archived
    first: they are younger or as old), and every subscription and internal reader (the SMS notices)
    has read past its last seq, so nothing the platform itself still reads is taken away.
    """
    ident = sql.Identifier(partition)
    if table == "outbox_delivery":
        pending = _rows(cursor, sql.SQL("SELECT count(*) FROM {} WHERE status = 'pending'").format(ident))[0][0]
        return f"还有 {pending} 条投递待发送" if pending else ""
    if table == "outbox_smsmessage":
        queued = _rows(cursor, sql.SQL("SELECT count(*) FROM {} WHERE status = 'queued'").format(ident))[0][0]
        return f"还有 {queued} 条短信待发送" if queued else ""
    if table != EVENT_TABLE:
        return ""
    unpublished = _rows(cursor, sql.SQL("SELECT count(*) FROM {} WHERE seq IS NULL").format(ident))[0][0]
    if unpublished:
        return f"还有 {unpublished} 个事件未发布"
    for other, what in (("outbox_delivery", "投递"), ("outbox_smsmessage", "短信")):
        named = _rows(
            cursor,
            sql.SQL("SELECT count(*) FROM {} WHERE event_id IN (SELECT id FROM {})").format(
                sql.Identifier(other), ident
            ),
        )[0][0]
        if named:
            return f"数据库中还有 {named} 条{what}引用这些事件：先归档它们"
    last = _rows(cursor, sql.SQL("SELECT COALESCE(max(seq), 0) FROM {}").format(ident))[0][0]
    behind = [
        f"订阅“{name}”"
        for (name,) in _rows(cursor, "SELECT name FROM outbox_subscription WHERE cursor < %s ORDER BY id", [last])
    ]
    behind += [
        f"内部读取方“{name}”"
        for (name,) in _rows(cursor, "SELECT name FROM outbox_cursor WHERE seq < %s ORDER BY id", [last])
    ]
    return "、".join(behind) + " 尚未读完这些事件" if behind else ""


def archive_read(path: Path) -> list[dict[str, Any]]:
    """The rows of an archive file (decrypted with the data key), checked against the manifest's checksum."""
    sealed = path.read_bytes()
    digest = hashlib.sha256(sealed).hexdigest()
    manifest = archive_dir() / "manifest.jsonl"
    listed = [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines() if x.strip()]
    relative = str(path.relative_to(archive_dir()))
    if not any(entry["file"] == relative and entry["sha256"] == digest for entry in listed):
        raise PartitionError(f"归档文件 {relative} 与清单中的校验和不符")
    packed = base64.b64decode(crypto.decrypt(sealed.decode()))
    return [json.loads(row) for row in gzip.decompress(packed).splitlines() if row]


def partitions_archive_due(today: datetime.date | None = None, waiting: list[str] | None = None) -> list[Archived]:
    """Archive every month past its retention, oldest first (the owner's `manage.py partitions --archive`).

    A month still needed (`NotYet`) stays, and so do the later months of its table; the reason is
    appended to `waiting` (or raised when no list is given).
    """
    done, stopped = [], set()
    for spec, month in due(today):
        if spec.table in stopped:
            continue
        try:
            done.append(partition_archive(spec.table, month, today))
        except NotYet as later:
            if waiting is None:
                raise
            waiting.append(str(later))
            stopped.add(spec.table)
    return done
