"""The reminders' beat schedules, as rows staff can change in the admin."""

from django.db import migrations

SCHEDULES = [
    # (name, task, minute, hour)
    ("Reminder: household visits overdue", "notifications.remind_visits_overdue", "0", "9"),
    ("Reminder: requests overdue", "notifications.remind_requests_overdue", "30", "8"),
    (
        "Reminder: registrations waiting for review",
        "notifications.remind_registrations_pending",
        "0",
        "8",
    ),
    ("Deliver notifications (e-mail, SMS)", "notifications.deliver_notifications", "*/5", "*"),
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
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
