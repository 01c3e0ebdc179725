"""An index the yearly roll-up sums a year's points per volunteer from, without the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("points", "0003_periodic_tasks")]

    operations = [
        migrations.AddIndex(
            model_name="pointsentry",
            index=models.Index(
                fields=["volunteer", "counted_on", "points"], name="points_entry_tally"
            ),
        ),
    ]
