from django.db import migrations, models

CODE_MAX = 15


def reach_of_existing_areas(apps, schema_editor):
    """An org's reach from the service areas it has today (`Org.reach_from`/`reach_to`)."""
    Org = apps.get_model("centers", "Org")
    ServiceArea = apps.get_model("centers", "ServiceArea")
    spans: dict[int, tuple[str, str]] = {}
    for org_id, prefix in ServiceArea.objects.values_list("org_id", "prefix"):
        low, high = prefix, prefix + "9" * (CODE_MAX - len(prefix))
        if org_id in spans:
            low, high = min(low, spans[org_id][0]), max(high, spans[org_id][1])
        spans[org_id] = (low, high)
    for org_id, (low, high) in spans.items():
        Org.objects.filter(pk=org_id).update(reach_from=low, reach_to=high)


class Migration(migrations.Migration):

    dependencies = [
        ('centers', '0002_service_areas'),
    ]

    operations = [
        migrations.AddField(
            model_name='org',
            name='reach_from',
            field=models.CharField(blank=True, default='', max_length=15, verbose_name='跨辖区服务范围起'),
        ),
        migrations.AddField(
            model_name='org',
            name='reach_to',
            field=models.CharField(blank=True, default='', max_length=15, verbose_name='跨辖区服务范围止'),
        ),
        migrations.RunPython(reach_of_existing_areas, migrations.RunPython.noop),
    ]
