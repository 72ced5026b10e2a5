from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_acceptance_deadline_and_case_holder")]

    operations = [
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(("channel", "import"), models.Q(("original_number", ""), _negated=True)),
                fields=("original_number",),
                name="case_import_original_unique",
            ),
        ),
    ]
