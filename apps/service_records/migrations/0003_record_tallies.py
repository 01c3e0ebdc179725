"""The records' ratings columns and the record tallies, kept by database triggers.

The existing records' ratings and every year's tallies are counted in set-based first; the
triggers come after, so that count is not done twice (the new columns' ALTER TABLE holds the
records table until this migration commits, so no write falls in between).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def count_in_and_install(apps, schema_editor):
    from apps.service_records.tallies import install_record_tally_triggers, record_tally_recount

    connection = schema_editor.connection
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    # On SQLite the triggers come after all migrations (apps.py: post_migrate).
    record_tally_recount(connection=connection)
    if connection.vendor == "postgresql":
        install_record_tally_triggers(connection=connection, replace=True)


def uninstall(apps, schema_editor):
    from apps.service_records.tallies import drop_record_tally_triggers

    drop_record_tally_triggers(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("service_records", "0002_private_import_files"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="servicerecord",
            name="rating_stars_total",
            field=models.IntegerField(db_default=0, editable=False, verbose_name="stars in total"),
        ),
        migrations.AddField(
            model_name="servicerecord",
            name="ratings_count",
            field=models.IntegerField(db_default=0, editable=False, verbose_name="ratings"),
        ),
        migrations.CreateModel(
            name="RecordTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                ("team_key", models.BigIntegerField(default=0, verbose_name="team")),
                (
                    "approved_minutes",
                    models.IntegerField(default=0, verbose_name="approved service time (minutes)"),
                ),
                ("records", models.IntegerField(default=0, verbose_name="approved records")),
                (
                    "on_time_records",
                    models.IntegerField(default=0, verbose_name="records entered on time"),
                ),
                ("ratings", models.IntegerField(default=0, verbose_name="ratings")),
                ("rating_stars", models.IntegerField(default=0, verbose_name="stars in total")),
                (
                    "volunteer",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="volunteer",
                    ),
                ),
            ],
            options={
                "verbose_name": "service tally",
                "verbose_name_plural": "service tallies",
                "default_permissions": (),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("volunteer", "year", "team_key"), name="record_tally_once"
                    )
                ],
            },
        ),
        migrations.RunPython(count_in_and_install, uninstall),
    ]
