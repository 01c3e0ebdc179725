"""A real Celery worker, consuming from Redis, closes finished activities."""

import datetime

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from apps.activities.models import Attendance, AttendanceMethod
from apps.activities.tasks import close_finished
from apps.activities.tests.fixtures import make_activity, sign_up
from apps.core.tests.test_celery_worker import redis_app  # noqa: F401
from apps.service_records.models import ServiceRecord
from apps.teams.tests.fixtures import make_profile

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_closes_finished_activities(redis_app, tree, team, volunteer):  # noqa: F811
    make_profile(volunteer)
    finished = make_activity(team, starts_at=timezone.now() - datetime.timedelta(hours=4))
    signup = sign_up(
        finished,
        volunteer,
        checked_in_at=finished.starts_at,
        check_in_method=AttendanceMethod.QR,
        attendance=Attendance.CHECKED_IN,
    )

    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = close_finished.delay()
        assert result.get(timeout=20) == {"activities": 1, "checked_out": 1}

    signup.refresh_from_db()
    finished.refresh_from_db()
    assert signup.attendance == Attendance.ATTENDED
    assert finished.closed_at is not None
    assert ServiceRecord.objects.filter(signup=signup).exists()
