"""PostgreSQL: the webhook delivery log (`Attempt`) becomes a table partitioned by month of `at`.

Nothing references an attempt; its foreign key to its delivery is carried over. Nothing on SQLite.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from zongzhi.ops.partitions import convert

    convert(schema_editor, "outbox_attempt", "at")


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_outbox_webhooks_sms_exchange")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
