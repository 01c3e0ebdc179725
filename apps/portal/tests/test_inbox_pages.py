"""Inbox pages: unread first, reading, preferences and their bad input, query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.tests.conftest import make_notification


def test_unread_first_with_count(client, volunteer):
    make_notification(volunteer, key="old", title="已读的", read_at=timezone.now())
    make_notification(volunteer, key="new", title="未读的")
    client.force_login(volunteer)
    response = client.get(reverse("portal:inbox"))
    page = list(response.context["page"])
    assert [n.title for n in page] == ["未读的", "已读的"]
    assert response.context["unread"] == 1


def test_read_goes_to_the_link(client, volunteer):
    note = make_notification(volunteer, url=reverse("portal:my-household"))
    client.force_login(volunteer)
    response = client.post(reverse("portal:inbox-read", kwargs={"pk": note.pk}))
    assert response["Location"] == reverse("portal:my-household")
    note.refresh_from_db()
    assert note.read_at is not None


def test_read_never_leaves_the_site(client, volunteer):
    note = make_notification(volunteer, url="https://evil.example/")
    client.force_login(volunteer)
    response = client.post(reverse("portal:inbox-read", kwargs={"pk": note.pk}))
    assert response["Location"] == reverse("portal:inbox")


def test_someone_elses_notification_is_404_and_stays_unread(client, volunteer, outsider):
    note = make_notification(volunteer)
    client.force_login(outsider)
    assert client.post(reverse("portal:inbox-read", kwargs={"pk": note.pk})).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_read_all(client, volunteer):
    make_notification(volunteer, key="a")
    make_notification(volunteer, key="b")
    client.force_login(volunteer)
    client.post(reverse("portal:inbox-read-all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_preferences_saved(client, volunteer):
    volunteer.email = "v@example.org"
    volunteer.save()
    client.force_login(volunteer)
    response = client.post(
        reverse("portal:notification-preferences"),
        {"visit_overdue__sms": "on", "visit_overdue__email": "on"},
    )
    assert response.status_code == 302
    stored = {
        (p.kind, p.channel): p.enabled
        for p in NotificationPreference.objects.filter(user=volunteer)
    }
    assert stored[("visit_overdue", "sms")] is True
    assert stored[("request_overdue", "email")] is False


@pytest.mark.parametrize(
    ("field", "attribute", "message"),
    [
        (
            "visit_overdue__sms",
            "phone",
            "Add a mobile phone number to your profile before choosing SMS.",
        ),
        (
            "visit_overdue__email",
            "email",
            "Add an e-mail address to your profile before choosing e-mail.",
        ),
    ],
)
def test_preferences_bad_input(client, volunteer, field, attribute, message):
    type(volunteer).objects.filter(pk=volunteer.pk).update(
        **{attribute: None if attribute == "phone" else ""}
    )
    client.force_login(volunteer)
    with translation.override("en"):
        response = client.post(
            reverse("portal:notification-preferences"), {field: "on"}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 200
        assert message in response.context["form"].non_field_errors()
    assert not NotificationPreference.objects.exists()


def _inbox_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("portal:inbox")).status_code == 200
    return len(queries)


def _add(user, start, stop):
    Notification.objects.bulk_create(
        Notification(user=user, kind="visit_overdue", key=f"k{i}", title=f"t{i}")
        for i in range(start, stop)
    )


def test_inbox_query_budget_same_at_10_and_100(client, volunteer):
    client.force_login(volunteer)
    _add(volunteer, 0, 10)
    client.get(reverse("portal:inbox"))  # warm the session
    at_10 = _inbox_queries(client)
    _add(volunteer, 10, 100)
    at_100 = _inbox_queries(client)
    assert at_10 == at_100 <= 12
