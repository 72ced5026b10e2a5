"""The database itself refuses UPDATE and DELETE on the audit log (PostgreSQL and SQLite)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_append_only();
"""


SQLITE_CREATE = [
    f"CREATE TRIGGER audit_append_only_{event.lower()} BEFORE {event} ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditentry is append-only'); END;"
    for event in ("UPDATE", "DELETE")
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_append_only_update;", "DROP TRIGGER IF EXISTS audit_append_only_delete;"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial_audit")]
    operations = [migrations.RunPython(forwards, backwards)]
