"""The reminders on activities, service records, certificates and campaign days."""

from django.db import migrations, models

KINDS = [
    ("visit_overdue", "Household visit overdue"),
    ("request_overdue", "Request overdue"),
    ("registration_review", "Registrations waiting for review"),
    ("activity_tomorrow", "Activity tomorrow"),
    ("records_to_review", "Service records waiting for review"),
    ("service_not_logged", "Service done but not logged"),
    ("deadline_near", "Recording deadline near"),
    ("certificates_waiting", "Certificate requests waiting"),
    ("campaign_ahead", "Campaign day ahead"),
]


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_periodic_tasks")]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=32, verbose_name="kind"),
        ),
        migrations.AlterField(
            model_name="notificationpreference",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=32, verbose_name="kind"),
        ),
    ]
