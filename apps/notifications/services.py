"""Writes on notifications: create once per key, mark read, deliver by e-mail and SMS."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.services import audit_log

from .models import (
    DEFAULT_CHANNELS,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from .selectors import unread_cache_key
from .sms import get_sms_backend

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000

#: (user_id, key, title, body, url)
Item = tuple[int, str, str, str, str]


def notifications_create(*, kind: str, items: Iterable[Item]) -> int:
    """Create one notification per (user, key); existing keys are left alone.

    Safe to run twice, or from two workers at once: the unique constraint on (user, key)
    keeps one row per person. Items are inserted in batches of ``BATCH_SIZE``; on PostgreSQL
    a batch is one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (exact count, one query),
    elsewhere one look-up of the keys already there plus one insert. Returns how many rows
    were new. The recipients' cached unread counts are forgotten.
    """
    if kind not in NotificationKind.values:
        raise ValidationError(_("Unknown notification kind."), code="kind")
    total = 0
    batch: list[Notification] = []
    for user_id, key, title, body, url in items:
        batch.append(
            Notification(
                user_id=user_id,
                kind=kind,
                key=key[:128],
                title=title[:200],
                body=body,
                url=url[:300],
            )
        )
        if len(batch) >= BATCH_SIZE:
            total += _insert(batch)
            batch = []
    if batch:
        total += _insert(batch)
    return total


def _unique(batch: list[Notification]) -> list[Notification]:
    seen: set[tuple[int, str]] = set()
    unique = []
    for notification in batch:
        pair = (notification.user_id, notification.key)
        if pair not in seen:
            seen.add(pair)
            unique.append(notification)
    return unique


def _insert(batch: list[Notification]) -> int:
    batch = _unique(batch)
    if connection.vendor == "postgresql":
        new_users = _insert_returning(batch)
    else:
        existing = set(
            Notification.objects.filter(
                user_id__in={n.user_id for n in batch}, key__in={n.key for n in batch}
            ).values_list("user_id", "key")
        )
        fresh = [n for n in batch if (n.user_id, n.key) not in existing]
        if fresh:
            Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        new_users = [n.user_id for n in fresh]
    forget_unread_counts(set(new_users))
    return len(new_users)


_COLUMNS = (
    "user_id",
    "kind",
    "key",
    "title",
    "body",
    "url",
    "created_at",
    "email_status",
    "sms_status",
    "email_error",
    "sms_error",
    "attempts",
)


def _insert_returning(batch: list[Notification]) -> list[int]:
    """One statement; the rows another worker inserted first are not returned."""
    now = timezone.now()
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    params: list = []
    for n in batch:
        params += [n.user_id, n.kind, n.key, n.title, n.body, n.url, now]
        params += [DeliveryStatus.PENDING, DeliveryStatus.PENDING, "", "", 0]
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "
        'ON CONFLICT ("user_id", "key") DO NOTHING RETURNING "user_id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [user_id for (user_id,) in cursor.fetchall()]


def forget_unread_counts(user_ids) -> None:
    """Drop the cached unread counts (now, and again when the transaction commits)."""
    keys = [unread_cache_key(user_id) for user_id in user_ids]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


@transaction.atomic
def notification_mark_read(*, user, notification: Notification) -> Notification:
    if notification.user_id != user.pk:
        raise ValidationError(_("This is not your notification."), code="owner")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        forget_unread_counts([user.pk])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user) -> int:
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    forget_unread_counts([user.pk])
    return count


def preference_enabled(preferences: dict, user_id: int, kind: str, channel: str) -> bool:
    return preferences.get((user_id, kind, channel), DEFAULT_CHANNELS[channel])


def _preferences_for(user_ids, channel: str) -> dict:
    rows = NotificationPreference.objects.filter(user_id__in=user_ids, channel=channel)
    return {(r.user_id, r.kind, r.channel): r.enabled for r in rows}


@transaction.atomic
def notification_preferences_set(*, user, wanted: dict[tuple[str, str], bool]) -> None:
    """Store the user's choice for each (kind, channel)."""
    for (kind, channel), enabled in wanted.items():
        if kind not in NotificationKind.values or channel not in Channel.values:
            raise ValidationError(_("Unknown kind or channel."), code="invalid")
        if enabled and channel == Channel.SMS and not user.phone:
            raise ValidationError(
                _("Add a mobile phone number to your profile before choosing SMS."), code="phone"
            )
        if enabled and channel == Channel.EMAIL and not user.email:
            raise ValidationError(
                _("Add an e-mail address to your profile before choosing e-mail."), code="email"
            )
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, channel=channel, defaults={"enabled": bool(enabled)}
        )
    audit_log(
        actor=user,
        action="notification_preferences.set",
        details={
            "user_id": user.pk,
            "wanted": sorted(f"{k}:{c}" for (k, c), on in wanted.items() if on),
        },
    )


def notifications_deliver_email(*, batch: int | None = None) -> dict[str, int]:
    """Send pending e-mails; a failure is recorded on its notification, the others still go."""
    batch = batch or settings.NOTIFICATION_EMAIL_BATCH
    counts = {"sent": 0, "failed": 0, "skipped": 0, "not_wanted": 0}
    pending = list(
        Notification.objects.filter(email_status=DeliveryStatus.PENDING)
        .select_related("user")
        .order_by("pk")[:batch]
    )
    if not pending:
        return counts
    preferences = _preferences_for({n.user_id for n in pending}, Channel.EMAIL)
    connection = get_connection(fail_silently=False)
    for notification in pending:
        status, error = _email_one(notification, preferences, connection)
        counts[status] += 1
        Notification.objects.filter(pk=notification.pk).update(
            email_status=status,
            email_error=error,
            attempts=notification.attempts + 1,
        )
    return counts


def _email_one(notification, preferences, connection) -> tuple[str, str]:
    if not preference_enabled(preferences, notification.user_id, notification.kind, "email"):
        return DeliveryStatus.NOT_WANTED, ""
    address = notification.user.email
    if not address:
        return DeliveryStatus.SKIPPED, ""
    message = EmailMessage(
        subject=notification.title,
        body=_email_body(notification),
        to=[address],
        connection=connection,
    )
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - any provider error is recorded, the rest go on
        logger.warning("e-mail for notification %s failed: %s", notification.pk, exc)
        return DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    return DeliveryStatus.SENT, ""


def _email_body(notification) -> str:
    if notification.url:
        return f"{notification.body}\n\n{notification.url}"
    return notification.body


def _parse(value: str) -> datetime.time:
    hours, minutes = value.split(":")
    return datetime.time(int(hours), int(minutes))


def in_quiet_hours(now: datetime.datetime) -> bool:
    start, end = (_parse(v) for v in settings.NOTIFICATION_QUIET_HOURS)
    local = timezone.localtime(now).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def notifications_deliver_sms(*, now: datetime.datetime, batch: int = 500) -> dict[str, int]:
    """Send pending SMS, never in quiet hours: those stay pending until the morning."""
    counts = {"sent": 0, "failed": 0, "skipped": 0, "not_wanted": 0, "waiting": 0}
    if in_quiet_hours(now):
        counts["waiting"] = Notification.objects.filter(sms_status=DeliveryStatus.PENDING).count()
        return counts
    pending = list(
        Notification.objects.filter(sms_status=DeliveryStatus.PENDING)
        .select_related("user")
        .order_by("pk")[:batch]
    )
    if not pending:
        return counts
    preferences = _preferences_for({n.user_id for n in pending}, Channel.SMS)
    backend = get_sms_backend()
    for notification in pending:
        error = ""
        if not preference_enabled(preferences, notification.user_id, notification.kind, "sms"):
            status = DeliveryStatus.NOT_WANTED
        elif not notification.user.phone:
            status = DeliveryStatus.SKIPPED
        else:
            try:
                backend.send(notification.user.phone, notification.title)
                status = DeliveryStatus.SENT
            except Exception as exc:  # noqa: BLE001 - recorded; the others still go
                logger.warning("SMS for notification %s failed: %s", notification.pk, exc)
                status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        counts[status] += 1
        Notification.objects.filter(pk=notification.pk).update(
            sms_status=status, sms_error=error, attempts=notification.attempts + 1
        )
    return counts
