"""Records waiting for the checks against formalism are rows of a table of their own
(``QueuedCheck``) instead of a flag on the record: clearing the flag rewrote the whole record and
all its index entries, where deleting a queue row writes almost nothing. The records waiting
when this runs are queued first, so none is left unchecked."""

import django.db.models.deletion
from django.db import migrations, models

QUEUE_WAITING = (
    "INSERT INTO service_records_queuedcheck (record_id) "
    "SELECT id FROM service_records_servicerecord WHERE checks_pending"
)
FLAG_QUEUED = (
    "UPDATE service_records_servicerecord SET checks_pending = true "
    "WHERE id IN (SELECT record_id FROM service_records_queuedcheck)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("service_records", "0007_lighter_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="QueuedCheck",
            fields=[
                (
                    "record",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="queued_check",
                        serialize=False,
                        to="service_records.servicerecord",
                        verbose_name="service record",
                    ),
                ),
            ],
            options={
                "verbose_name": "record waiting for checks",
                "verbose_name_plural": "records waiting for checks",
            },
        ),
        migrations.RunSQL(QUEUE_WAITING, FLAG_QUEUED),
        migrations.RemoveIndex(model_name="servicerecord", name="record_checks_pending"),
        # Without the index, both databases drop the column in place (SQLite's ALTER TABLE
        # DROP COLUMN): no table rebuild, which the triggers of 0003 would not survive.
        migrations.RemoveField(model_name="servicerecord", name="checks_pending"),
    ]
