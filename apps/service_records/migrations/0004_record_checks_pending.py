"""Records wait for the checks against formalism in batches: a flag on each record, a partial
index that holds only the waiting ones, and a beat schedule that sweeps any left behind (staff
can change it in the admin)."""

from django.db import migrations, models

SCHEDULE_NAME = "Check service records waiting for the checks against formalism"
SCHEDULE_TASK = "service_records.check_waiting_records"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _created = CrontabSchedule.objects.get_or_create(
        minute="*/5",
        hour="*",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE_NAME, defaults={"task": SCHEDULE_TASK, "crontab": schedule, "enabled": True}
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("service_records", "0003_record_tallies"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        # A plain ADD COLUMN on both databases: on SQLite, Django would rebuild the table
        # (a NOT NULL column), which the triggers of 0003 do not survive; on PostgreSQL a
        # constant default adds the column without rewriting the table.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="servicerecord",
                    name="checks_pending",
                    field=models.BooleanField(
                        db_default=False,
                        default=False,
                        editable=False,
                        verbose_name="waiting for checks",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE service_records_servicerecord "
                    "ADD COLUMN checks_pending boolean DEFAULT false NOT NULL",
                    "ALTER TABLE service_records_servicerecord DROP COLUMN checks_pending",
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="servicerecord",
            index=models.Index(
                condition=models.Q(("checks_pending", True)),
                fields=["id"],
                name="record_checks_pending",
            ),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
