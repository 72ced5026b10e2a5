"""Chinese substring search on cases: FTS5 trigram on SQLite, a pg_trgm GIN index on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE cases_case_fts USING fts5("
    "number, title, description, content='cases_case', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER cases_case_fts_insert AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(rowid, number, title, description) VALUES (new.id, new.number, new.title, new.description); END",
    "CREATE TRIGGER cases_case_fts_delete AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, number, title, description) "
    "VALUES ('delete', old.id, old.number, old.title, old.description); END",
    "CREATE TRIGGER cases_case_fts_update AFTER UPDATE OF number, title, description ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, number, title, description) "
    "VALUES ('delete', old.id, old.number, old.title, old.description); "
    "INSERT INTO cases_case_fts(rowid, number, title, description) VALUES (new.id, new.number, new.title, new.description); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_case_fts_insert",
    "DROP TRIGGER IF EXISTS cases_case_fts_delete",
    "DROP TRIGGER IF EXISTS cases_case_fts_update",
    "DROP TABLE IF EXISTS cases_case_fts",
]
PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX case_search_trgm ON cases_case USING gin "
    "((number || ' ' || title || ' ' || description) gin_trgm_ops)",
    "CREATE INDEX party_name_trgm ON cases_party USING gin (name gin_trgm_ops)",
]
PG_DROP = ["DROP INDEX IF EXISTS case_search_trgm", "DROP INDEX IF EXISTS party_name_trgm"]


def _run(schema_editor, sqlite, postgresql):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": sqlite, "postgresql": postgresql}.get(vendor, []):
        schema_editor.execute(statement)


def forwards(apps, schema_editor):
    _run(schema_editor, SQLITE_CREATE, PG_CREATE)


def backwards(apps, schema_editor):
    _run(schema_editor, SQLITE_DROP, PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_case_workflow_tables")]
    operations = [migrations.RunPython(forwards, backwards)]
