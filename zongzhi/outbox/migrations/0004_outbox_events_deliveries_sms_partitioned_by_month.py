"""PostgreSQL: the outbox's events, webhook deliveries and SMS notices become tables partitioned by month.

Events by `recorded_at`, deliveries and SMS by `created_at` (when each row was written). The foreign keys
to the events (from deliveries and SMS) and to the deliveries (from attempts) are dropped first: a key to
a partitioned table would need its partition column. An event's `key` stays unique through the table of
keys told (`outbox_event_key`, filled by a trigger); `seq`, `(subscription, event)` and `(event, party)`
are unique by construction (the publisher's lock, the readers' cursors) and become plain indexes.
Rows from before this migration count as written at the migration (0003). Nothing on SQLite.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from zongzhi.ops import partitions

    partitions.drop_foreign_keys_to(schema_editor, "outbox_event")
    partitions.drop_foreign_keys_to(schema_editor, "outbox_delivery")
    partitions.convert(schema_editor, "outbox_delivery", "created_at")
    partitions.convert(schema_editor, "outbox_smsmessage", "created_at")
    partitions.convert(schema_editor, "outbox_event", "recorded_at")
    partitions.event_keys_install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("outbox", "0003_event_recorded_at_sms_created_at_archived_seq")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
