"""A real Celery worker against Redis runs the visit reminder."""

import datetime

import pytest
from celery.contrib.testing.worker import start_worker

from apps.care.models import RecipientPairing
from apps.care.tests.recipients_fixtures import make_household
from apps.core.tests.test_celery_worker import redis_app  # noqa: F401
from apps.notifications.models import Notification
from apps.notifications.tasks import remind_visits_overdue

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_runs_the_visit_reminder(redis_app, world):  # noqa: F811
    RecipientPairing.objects.create(
        volunteer=world.cast.volunteer,
        recipient=make_household(world.community),
        started_on=datetime.date.today() - datetime.timedelta(days=60),
    )
    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = remind_visits_overdue.delay()
        assert result.get(timeout=20) == 1
        assert remind_visits_overdue.delay().get(timeout=20) == 0
    assert Notification.objects.filter(user=world.cast.volunteer).count() == 1
