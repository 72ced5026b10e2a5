"""Audit entries are on one of several parallel chains (`lane`), so appends need no platform-wide lock.

Every existing entry is on lane 0, whose hashes leave the lane out: nothing is rewritten (the log is
append-only). On SQLite the column is added by rebuilding the table, which drops its triggers: they are
made again as in 0007.
"""

from django.db import migrations, models

SQLITE_CREATE = [
    f"DROP TRIGGER IF EXISTS audit_append_only_{event.lower()};"
    if drop
    else f"CREATE TRIGGER audit_append_only_{event.lower()} BEFORE {event} ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditentry is append-only'); END;"
    for event in ("UPDATE", "DELETE")
    for drop in (True, False)
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_audit_key_id_and_truncate_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="lane",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["lane", "-id"], name="audit_lane_head"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
