from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_assignment_part_and_finish")]

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
