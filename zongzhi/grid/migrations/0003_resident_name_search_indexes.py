"""Resident name search on PostgreSQL: a pattern index for prefixes (1–2 character queries, any
collation) and a trigram index for substrings of 3+ characters. SQLite uses the plain name index."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX resident_name_pattern ON grid_resident (name text_pattern_ops)",
    "CREATE INDEX resident_name_trgm ON grid_resident USING gin (name gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS resident_name_pattern", "DROP INDEX IF EXISTS resident_name_trgm"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("grid", "0002_households_residents_and_claims")]
    operations = [migrations.RunPython(forwards, backwards)]
