"""An index for the recording rules' overlap read: a volunteer's records that end after a new
one starts. Without it the read went through every earlier record of the volunteer (the
records that start before the new one ends), so a submit slowed down with the volunteer's
history. Writes to the table wait while it is built: on a large table, migrate at a quiet
hour."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("service_records", "0004_record_checks_pending"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="servicerecord",
            index=models.Index(fields=["volunteer", "ended_at"], name="record_volunteer_ended"),
        ),
    ]
