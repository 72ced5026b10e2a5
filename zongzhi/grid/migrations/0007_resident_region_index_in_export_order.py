"""Residents: the region index becomes (region, household, id), the order the export writes and pages by
(keyset chunks), so its chunk queries read the index in order instead of sorting each chunk."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grid', '0006_resident_name_search_in_code_point_order'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='resident',
            index=models.Index(fields=['region_code', 'household', 'id'], name='resident_region_household'),
        ),
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_region',
        ),
    ]
