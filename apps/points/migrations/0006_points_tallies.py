"""Each volunteer's points per year, kept by a trigger on new ledger entries.

The ledger is locked against new entries while every year is counted in, and the trigger is
installed before the lock is let go, so no entry is counted twice or missed.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def count_in_and_install(apps, schema_editor):
    from apps.points.tallies import install_points_tally_trigger, points_tally_recount

    connection = schema_editor.connection
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    # On SQLite the triggers come after all migrations (apps.py: post_migrate).
    points_tally_recount(connection=connection)
    if connection.vendor == "postgresql":
        install_points_tally_trigger(connection=connection, replace=True)


def uninstall(apps, schema_editor):
    from apps.points.tallies import drop_points_tally_trigger

    drop_points_tally_trigger(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0005_leaner_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PointsTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                (
                    "points",
                    models.DecimalField(
                        decimal_places=2, default=0, max_digits=14, verbose_name="points"
                    ),
                ),
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
                "verbose_name": "points tally",
                "verbose_name_plural": "points tallies",
                "default_permissions": (),
                "constraints": [
                    models.UniqueConstraint(fields=("volunteer", "year"), name="points_tally_once")
                ],
            },
        ),
        migrations.RunPython(count_in_and_install, uninstall),
    ]
