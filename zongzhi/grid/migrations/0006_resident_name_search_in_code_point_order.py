"""Resident name search on PostgreSQL at a million residents, replacing the two indexes of 0003.

- `resident_name_c`, a btree on (name COLLATE "C", id): the search's own order, so a name prefix is
  read off it and the scan stops at the page however many residents share the name (the
  text_pattern_ops index answered the prefix but not the order: every match was fetched and sorted);
  it also answers prefix LIKE, its collation being C.
- `resident_name_rest_trgm`, a trigram GIN index on the name without its first character: the
  residents holding a 3+ character query further in than its start, usually few (the trigram index
  of the whole name returned every resident of a common full name, to be fetched and sorted).

SQLite keeps the plain name index of the model.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS resident_name_c ON grid_resident (name COLLATE "C", id)',
    "CREATE INDEX IF NOT EXISTS resident_name_rest_trgm ON grid_resident USING gin (substring(name, 2) gin_trgm_ops)",
    "DROP INDEX IF EXISTS resident_name_pattern",
    "DROP INDEX IF EXISTS resident_name_trgm",
]
DROP = [
    "CREATE INDEX IF NOT EXISTS resident_name_pattern ON grid_resident (name text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS resident_name_trgm ON grid_resident USING gin (name gin_trgm_ops)",
    "DROP INDEX IF EXISTS resident_name_c",
    "DROP INDEX IF EXISTS resident_name_rest_trgm",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("grid", "0005_seasonal_calendars_and_household_moves")]
    operations = [migrations.RunPython(forwards, backwards)]
