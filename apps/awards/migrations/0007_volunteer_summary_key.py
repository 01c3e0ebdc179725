"""The volunteer summary's unique key leads with the volunteer, so it also finds a volunteer's
years and the volunteer's own index goes: one index fewer for each of a city's 100,000 rows
a roll-up writes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0006_leaner_indexes"),
        ("organizations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="volunteeryearsummary",
            name="volunteer_summary_once_a_year",
        ),
        migrations.AlterField(
            model_name="volunteeryearsummary",
            name="volunteer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="year_summaries",
                to=settings.AUTH_USER_MODEL,
                verbose_name="volunteer",
            ),
        ),
        migrations.AddConstraint(
            model_name="volunteeryearsummary",
            constraint=models.UniqueConstraint(
                fields=("volunteer", "assessment_year"), name="volunteer_summary_once_a_year"
            ),
        ),
    ]
