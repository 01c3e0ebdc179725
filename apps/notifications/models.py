"""Notifications: one per person, kind, object and period (the key), never twice."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import ScopedQuerySet, get_user_scope


class NotificationKind(models.TextChoices):
    VISIT_OVERDUE = "visit_overdue", _("Household visit overdue")
    REQUEST_OVERDUE = "request_overdue", _("Request overdue")
    REGISTRATION_REVIEW = "registration_review", _("Registrations waiting for review")
    ACTIVITY_TOMORROW = "activity_tomorrow", _("Activity tomorrow")
    RECORDS_TO_REVIEW = "records_to_review", _("Service records waiting for review")
    SERVICE_NOT_LOGGED = "service_not_logged", _("Service done but not logged")
    DEADLINE_NEAR = "deadline_near", _("Recording deadline near")
    CERTIFICATES_WAITING = "certificates_waiting", _("Certificate requests waiting")
    CAMPAIGN_AHEAD = "campaign_ahead", _("Campaign day ahead")
    ASSESSMENT_DEADLINE = "assessment_deadline", _("Assessment deadline ahead")
    AWARD_GRANTED = "award_granted", _("Award granted")
    OBJECTION_RAISED = "objection_raised", _("Objection to a nomination")
    NOMINATIONS_WAITING = "nominations_waiting", _("Nominations waiting")


class Channel(models.TextChoices):
    INBOX = "inbox", _("Inbox")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (no address)")
    NOT_WANTED = "not_wanted", _("Not wanted")


class NotificationQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if get_user_scope(user).is_city_admin:
            return self.all()
        return self.filter(user=user)

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    #: kind + object + period, e.g. ``visit_overdue:pairing:12:2026-W48``
    key = models.CharField(_("key"), max_length=128)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    sms_status = models.CharField(
        _("SMS"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    email_error = models.TextField(_("e-mail error"), blank=True)
    sms_error = models.TextField(_("SMS error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(
                fields=["email_status"],
                name="notification_email_pending",
                condition=Q(email_status="pending"),
            ),
            models.Index(
                fields=["sms_status"],
                name="notification_sms_pending",
                condition=Q(sms_status="pending"),
            ),
        ]

    def __str__(self):
        return self.title


class PreferenceQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if get_user_scope(user).is_city_admin:
            return self.all()
        return self.filter(user=user)

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


#: Without a preference row: inbox and e-mail on, SMS off.
DEFAULT_CHANNELS = {Channel.INBOX: True, Channel.EMAIL: True, Channel.SMS: False}


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    enabled = models.BooleanField(_("wanted"), default=True)

    objects = PreferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        ordering = ["user", "kind", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notification_preference_once"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_kind_display()} · {self.get_channel_display()}"
