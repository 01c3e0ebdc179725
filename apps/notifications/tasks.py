"""Celery tasks: thin wrappers; retried with back-off when the broker or SMTP fails."""

import smtplib

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from . import reminders, services

try:  # redis is the deployment's broker; its connection errors are worth a retry
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_ERRORS: tuple = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover
    _REDIS_ERRORS = ()

RETRY_ON = (OSError, smtplib.SMTPException, KombuOperationalError, *_REDIS_ERRORS)
OPTIONS = {"bind": True, "autoretry_for": RETRY_ON, "retry_backoff": True, "max_retries": 5}


@shared_task(name="notifications.remind_visits_overdue", **OPTIONS)
def remind_visits_overdue(self):
    return reminders.remind_visits_overdue(today=timezone.localdate())


@shared_task(name="notifications.remind_requests_overdue", **OPTIONS)
def remind_requests_overdue(self):
    return reminders.remind_requests_overdue(today=timezone.localdate())


@shared_task(name="notifications.remind_registrations_pending", **OPTIONS)
def remind_registrations_pending(self):
    return reminders.remind_registrations_pending(today=timezone.localdate())


@shared_task(name="notifications.deliver_notifications", **OPTIONS)
def deliver_notifications(self):
    return {
        "email": services.notifications_deliver_email(),
        "sms": services.notifications_deliver_sms(now=timezone.now()),
    }
