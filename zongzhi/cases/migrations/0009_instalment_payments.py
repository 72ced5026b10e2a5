"""Payments against instalments, kept as history: each instalment already paid becomes its one payment."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def paid_instalments_become_payments(apps, schema_editor):  # type: ignore[no-untyped-def]
    instalment_model = apps.get_model("cases", "Instalment")
    payment_model = apps.get_model("cases", "InstalmentPayment")
    paid = instalment_model.objects.filter(paid_amount__isnull=False).select_related("agreement")
    rows = [
        payment_model(
            instalment_id=i.pk,
            region_code=i.region_code,
            paid_on=i.paid_on or i.due_on,
            amount=i.paid_amount,
            receipt_number=i.receipt_number,
            recorded_by_id=i.agreement.recorded_by_id,
            recorded_at=datetime.datetime.combine(i.paid_on or i.due_on, datetime.time(12), datetime.UTC),
        )
        for i in paid.iterator(chunk_size=2000)
    ]
    payment_model.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_case_channel_hotline"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="InstalmentPayment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("region_code", models.CharField(max_length=15)),
                ("paid_on", models.DateField(verbose_name="实付日期")),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="实付金额")),
                ("receipt_number", models.CharField(blank=True, max_length=50, verbose_name="收据号")),
                ("recorded_at", models.DateTimeField()),
                (
                    "instalment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="payments", to="cases.instalment"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "verbose_name": "履行登记",
                "ordering": ["paid_on", "id"],
            },
        ),
        migrations.RunPython(paid_instalments_become_payments, migrations.RunPython.noop),
    ]
