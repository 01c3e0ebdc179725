"""The benchmark runs end to end on a small scale and leaves nothing behind."""

import io

from django.core.management import call_command

from apps.accounts.models import User
from apps.activities.models import Activity, Signup
from apps.notifications.models import Notification
from apps.organizations.models import PartyOrganization
from apps.service_records.models import ServiceRecord


def _counts():
    return [
        model.objects.count()
        for model in (User, PartyOrganization, Activity, Signup, ServiceRecord, Notification)
    ]


def test_benchmark_small_run_cleans_up(world):
    before = _counts()
    out = io.StringIO()
    call_command("benchmark_reminders", volunteers=60, teams=3, stdout=out)
    text = out.getvalue()
    assert (
        "daily run:" in text and "again (nothing new)" in text and "notifications_create:" in text
    )
    assert "activity_tomorrow              60 notifications" in text
    assert _counts() == before
