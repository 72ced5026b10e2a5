"""PostgreSQL: the audit log becomes a table partitioned by month of `at` (zongzhi/ops/partitions.py).

The rows are copied as they are (no entry is rewritten: their hashes still verify), then the append-only
triggers are made again on the new table and on each partition (TRUNCATE of a partition needs its own).
`hash` stays indexed but no longer unique in the database: a unique index must include the partition
column, and two entries with one HMAC-SM3 cannot be made without the chain key. Nothing on SQLite.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from zongzhi.ops.partitions import convert, seal_audit_default

    convert(schema_editor, "audit_auditentry", "at")
    seal_audit_default(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_audit_entries_in_parallel_lanes")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
