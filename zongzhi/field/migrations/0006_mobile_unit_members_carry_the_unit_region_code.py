"""A unit's members carry the unit's region code: the many-to-many's own table becomes MobileUnitMember's
(state only), then gains `region_code`, filled from each member's unit."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    MobileUnit = apps.get_model("field", "MobileUnit")
    MobileUnitMember = apps.get_model("field", "MobileUnitMember")
    for unit_id, code in MobileUnit.objects.values_list("id", "region_code"):
        MobileUnitMember.objects.filter(mobileunit_id=unit_id).update(region_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("field", "0005_offline_sync_records_and_photo_uploads"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="MobileUnitMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "mobileunit",
                            models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="field.mobileunit"),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL
                            ),
                        ),
                    ],
                    options={"db_table": "field_mobileunit_members", "unique_together": {("mobileunit", "user")}},
                ),
                migrations.AlterField(
                    model_name="mobileunit",
                    name="members",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="mobile_units",
                        through="field.MobileUnitMember",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="成员",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="mobileunitmember",
            name="region_code",
            field=models.CharField(default="", max_length=15),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
