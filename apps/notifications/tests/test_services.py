"""Creating once, marking read, delivering by e-mail and SMS."""

import datetime
import smtplib
import threading
import zoneinfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import translation

from apps.notifications import services
from apps.notifications.models import Notification, NotificationKind, NotificationPreference
from apps.notifications.tests.conftest import make_notification

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(hour, minute=0):
    return datetime.datetime(2026, 6, 15, hour, minute, tzinfo=SHANGHAI)


def test_create_counts_only_new_rows(volunteer, outsider):
    items = [
        (volunteer.pk, "k:1", "t", "b", "/"),
        (outsider.pk, "k:1", "t", "b", "/"),
    ]
    assert services.notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items) == 2
    assert services.notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items) == 0
    assert Notification.objects.count() == 2


def test_create_refuses_an_unknown_kind(volunteer):
    with pytest.raises(ValidationError), translation.override("en"):
        services.notifications_create(kind="nonsense", items=[(volunteer.pk, "k", "t", "", "")])
    assert not Notification.objects.exists()


def test_mark_read_only_own(volunteer, outsider):
    note = make_notification(volunteer)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.notification_mark_read(user=outsider, notification=note)
    assert error.value.messages == ["This is not your notification."]
    note.refresh_from_db()
    assert note.read_at is None
    services.notification_mark_read(user=volunteer, notification=note)
    note.refresh_from_db()
    assert note.read_at is not None


def test_mark_all_read(volunteer, outsider):
    make_notification(volunteer, key="a")
    make_notification(volunteer, key="b")
    theirs = make_notification(outsider, key="a")
    assert services.notification_mark_all_read(user=volunteer) == 2
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_email_failure_is_recorded_and_others_still_go(volunteer, outsider, monkeypatch):
    volunteer.email = "broken@example.org"
    volunteer.save()
    outsider.email = "fine@example.org"
    outsider.save()
    broken = make_notification(volunteer)
    fine = make_notification(outsider)
    original = EmailBackend.send_messages

    def send_messages(self, messages):
        if any("broken@example.org" in m.to for m in messages):
            raise smtplib.SMTPException("mailbox unavailable")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    counts = services.notifications_deliver_email()
    assert counts["sent"] == 1 and counts["failed"] == 1
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.email_status == "failed"
    assert "mailbox unavailable" in broken.email_error
    assert broken.attempts == 1
    assert fine.email_status == "sent"
    assert [m.to for m in mail.outbox] == [["fine@example.org"]]


def test_email_preferences_and_missing_address(volunteer, outsider):
    volunteer.email = "v@example.org"
    volunteer.save()
    outsider.email = ""
    outsider.save()
    NotificationPreference.objects.create(
        user=volunteer, kind="visit_overdue", channel="email", enabled=False
    )
    unwanted = make_notification(volunteer)
    wanted = make_notification(volunteer, key="r", kind=NotificationKind.REQUEST_OVERDUE)
    no_address = make_notification(outsider)
    services.notifications_deliver_email()
    for note in (unwanted, wanted, no_address):
        note.refresh_from_db()
    assert unwanted.email_status == "not_wanted"
    assert wanted.email_status == "sent"
    assert no_address.email_status == "skipped"
    assert len(mail.outbox) == 1


class RecordingSms:
    sent: list = []

    def send(self, phone, text):
        RecordingSms.sent.append((phone, text))


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = "apps.notifications.tests.test_services.RecordingSms"
    RecordingSms.sent = []
    return RecordingSms.sent


@pytest.mark.parametrize(
    ("now", "quiet"),
    [
        (at(21, 0), True),
        (at(23, 30), True),
        (at(7, 59), True),
        (at(8, 0), False),
        (at(20, 59), False),
    ],
)
def test_quiet_hours(now, quiet):
    assert services.in_quiet_hours(now) is quiet


def test_sms_waits_for_the_morning(volunteer, sms):
    NotificationPreference.objects.create(
        user=volunteer, kind="visit_overdue", channel="sms", enabled=True
    )
    note = make_notification(volunteer)
    services.notifications_deliver_sms(now=at(22, 0))
    note.refresh_from_db()
    assert note.sms_status == "pending" and sms == []
    services.notifications_deliver_sms(now=at(8, 5))
    note.refresh_from_db()
    assert note.sms_status == "sent"
    assert sms == [(volunteer.phone, note.title)]


def test_sms_off_by_default(volunteer, sms):
    note = make_notification(volunteer)
    services.notifications_deliver_sms(now=at(10, 0))
    note.refresh_from_db()
    assert note.sms_status == "not_wanted" and sms == []


def test_logging_sms_backend_does_not_fail(volunteer, settings):
    settings.SMS_BACKEND = "apps.notifications.sms.LoggingSmsBackend"
    NotificationPreference.objects.create(
        user=volunteer, kind="visit_overdue", channel="sms", enabled=True
    )
    note = make_notification(volunteer)
    services.notifications_deliver_sms(now=at(10, 0))
    note.refresh_from_db()
    assert note.sms_status == "sent"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_give_one_per_person(volunteer, outsider):
    items = [(volunteer.pk, "same:1", "t", "", ""), (outsider.pk, "same:1", "t", "", "")]
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(
                services.notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Notification.objects.count() == 2
    assert sorted(results)[-1] <= 2
