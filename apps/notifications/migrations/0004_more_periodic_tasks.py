"""Beat schedules for the reminders on activities, records, certificates and campaign days.

Staff change them in the admin (periodic tasks, crontab schedules); removing the migration
removes only these rows.
"""

from django.db import migrations

SCHEDULES = [
    # (name, task, minute, hour)
    ("Reminder: activity tomorrow", "notifications.remind_activity_tomorrow", "0", "10"),
    (
        "Reminder: service records waiting for review",
        "notifications.remind_records_to_review",
        "15",
        "8",
    ),
    ("Reminder: service done but not logged", "notifications.remind_service_not_logged", "0", "19"),
    ("Reminder: recording deadline near", "notifications.remind_deadline_near", "45", "8"),
    (
        "Reminder: certificate requests waiting",
        "notifications.remind_certificates_waiting",
        "20",
        "8",
    ),
    ("Reminder: campaign day ahead", "notifications.remind_campaign_ahead", "30", "9"),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in SCHEDULES:
        schedule, _created = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": schedule, "enabled": True}
        )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_more_kinds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
