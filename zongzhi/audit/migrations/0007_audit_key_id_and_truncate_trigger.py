"""Entries name the chain key of their HMAC (`key_id`, "" for the plain-SM3 entries written before), and
PostgreSQL refuses TRUNCATE of the audit log as it already refuses UPDATE and DELETE.

The existing rows are not rewritten (the log is append-only): they keep their SM3 hashes and `key_id` "",
and the first keyed entry seals them (docs/audit.md).
"""

from django.db import migrations, models

CREATE = """
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditentry;"
# SQLite adds the column by rebuilding the table, which drops its triggers: they are made again
# (SQLite has no TRUNCATE; a DELETE without WHERE fires the DELETE trigger).
SQLITE_CREATE = [
    f"DROP TRIGGER IF EXISTS audit_append_only_{event.lower()};"
    if drop
    else f"CREATE TRIGGER audit_append_only_{event.lower()} BEFORE {event} ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditentry is append-only'); END;"
    for event in ("UPDATE", "DELETE")
    for drop in (True, False)
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_audit_action_without_choices")]
    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(forwards, backwards),
    ]
