"""No two bookings of one room overlap, held by the database itself.

PostgreSQL: an exclusion constraint over each room's time ranges (btree_gist for the `=` on the
room). SQLite has no exclusion constraints: triggers refuse an overlapping insert or update, and
writes there are serialised anyway (transactions begin IMMEDIATE). Both raise an IntegrityError
that `services.room_book` answers with the clash in Chinese.
"""

from django.db import migrations

PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE cases_roombooking ADD CONSTRAINT room_booking_no_overlap "
    "EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)",
]
PG_DROP = ["ALTER TABLE cases_roombooking DROP CONSTRAINT IF EXISTS room_booking_no_overlap"]

# Django stores SQLite datetimes as UTC text of one format, so text comparison is time order.
_CLASH = (
    "SELECT RAISE(ABORT, 'room_booking_no_overlap') WHERE EXISTS (SELECT 1 FROM cases_roombooking b "
    "WHERE b.room_id = NEW.room_id AND b.starts_at < NEW.ends_at AND b.ends_at > NEW.starts_at{other});"
)
SQLITE_CREATE = [
    "CREATE TRIGGER room_booking_no_overlap_insert BEFORE INSERT ON cases_roombooking BEGIN "
    + _CLASH.format(other="")
    + " END",
    "CREATE TRIGGER room_booking_no_overlap_update BEFORE UPDATE OF room_id, starts_at, ends_at "
    "ON cases_roombooking BEGIN " + _CLASH.format(other=" AND b.id <> NEW.id") + " END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS room_booking_no_overlap_insert",
    "DROP TRIGGER IF EXISTS room_booking_no_overlap_update",
]

OVERLAPS = (
    "SELECT a.id, b.id FROM cases_roombooking a JOIN cases_roombooking b "
    "ON a.room_id = b.room_id AND a.id < b.id AND a.starts_at < b.ends_at AND a.ends_at > b.starts_at"
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        pairs = cursor.fetchall()
    if pairs:
        # Double bookings made before the constraint: a person must choose which one stays.
        listed = ", ".join(f"{a}/{b}" for a, b in pairs[:20])
        raise RuntimeError(f"cases_roombooking has overlapping bookings (id pairs {listed}); resolve them first")
    for statement in {"postgresql": PG_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    for statement in {"postgresql": PG_DROP, "sqlite": SQLITE_DROP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_assignment_part_and_finish")]
    operations = [migrations.RunPython(forwards, backwards)]
