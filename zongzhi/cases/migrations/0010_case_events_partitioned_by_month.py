"""PostgreSQL: the case timeline becomes a table partitioned by month of `at` (zongzhi/ops/partitions.py).

Its rows, indexes, foreign keys and grants are carried over; the primary key becomes (id, at), the id
keeps its values through a sequence of its own. Nothing on SQLite.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from zongzhi.ops.partitions import convert

    convert(schema_editor, "cases_caseevent", "at")


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_instalment_payments")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
