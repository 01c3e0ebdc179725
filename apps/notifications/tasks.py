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


@shared_task(name="notifications.remind_activity_tomorrow", **OPTIONS)
def remind_activity_tomorrow(self):
    return reminders.remind_activity_tomorrow(now=timezone.now())


@shared_task(name="notifications.remind_records_to_review", **OPTIONS)
def remind_records_to_review(self):
    return reminders.remind_records_to_review(today=timezone.localdate())


@shared_task(name="notifications.remind_service_not_logged", **OPTIONS)
def remind_service_not_logged(self):
    return reminders.remind_service_not_logged(now=timezone.now())


@shared_task(name="notifications.remind_deadline_near", **OPTIONS)
def remind_deadline_near(self):
    return reminders.remind_deadline_near(now=timezone.now())


@shared_task(name="notifications.remind_certificates_waiting", **OPTIONS)
def remind_certificates_waiting(self):
    return reminders.remind_certificates_waiting(today=timezone.localdate())


@shared_task(name="notifications.remind_campaign_ahead", **OPTIONS)
def remind_campaign_ahead(self):
    return reminders.remind_campaign_ahead(today=timezone.localdate())


@shared_task(name="notifications.remind_assessment_deadline", **OPTIONS)
def remind_assessment_deadline(self):
    return reminders.remind_assessment_deadline(today=timezone.localdate())


@shared_task(name="notifications.remind_nominations_waiting", **OPTIONS)
def remind_nominations_waiting(self):
    return reminders.remind_nominations_waiting(today=timezone.localdate())
