"""The six services a mobile unit (乌日特) logs, from reference/xilingol.json "mobile_unit_services"."""

from django.db import migrations

# Copied, not read from the file: a migration must give the same rows whenever it runs.
SERVICES = [
    ("mediation", "矛盾调解"),
    ("legal_publicity", "法治宣传"),
    ("opinion", "民意收集"),
    ("joint_defence", "治安联防"),
    ("legal_advice", "法律咨询"),
    ("policy", "政策服务"),
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    ServiceType = apps.get_model("field", "ServiceType")
    for sort, (code, name) in enumerate(SERVICES, 1):
        ServiceType.objects.get_or_create(code=code, defaults={"name": name, "sort": sort})


def unseed(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("field", "ServiceType").objects.filter(code__in=[c for c, _n in SERVICES]).delete()


class Migration(migrations.Migration):
    dependencies = [("field", "0001_field_visits_mobile_units_risk_reviews")]

    operations = [migrations.RunPython(seed, unseed)]
