"""Celery tasks: thin wrappers that take no model instances and are safe to run twice."""

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from . import services
from .models import Activity

try:  # redis is the deployment's broker; its connection errors are worth a retry
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_ERRORS: tuple = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover
    _REDIS_ERRORS = ()

RETRY_ON = (OSError, KombuOperationalError, *_REDIS_ERRORS)
OPTIONS = {"bind": True, "autoretry_for": RETRY_ON, "retry_backoff": True, "max_retries": 5}
BATCH_SIZE = 200


def close_finished_activities(*, now: datetime.datetime, batch_size: int = BATCH_SIZE) -> dict:
    """Close the attendance of every activity whose QR codes have stopped working (its end
    plus the check-in window), in batches of ``batch_size``, each activity in its own
    transaction."""
    cutoff = now - datetime.timedelta(minutes=settings.CHECKIN_WINDOW_MINUTES)
    closed = checked_out = 0
    last_pk = 0
    while True:
        batch = list(
            Activity.objects.filter(ends_at__lte=cutoff, closed_at__isnull=True, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            break
        for activity in Activity.objects.filter(pk__in=batch).order_by("pk"):
            checked_out += services.activity_close_attendance(activity=activity, now=now)
            closed += 1
        last_pk = batch[-1]
    return {"activities": closed, "checked_out": checked_out}


@shared_task(name="activities.close_finished", **OPTIONS)
def close_finished(self, batch_size: int = BATCH_SIZE):
    return close_finished_activities(now=timezone.now(), batch_size=batch_size)
