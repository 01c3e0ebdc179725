"""Notification admin pages: the city's administrators look; nobody adds or changes here."""

import pytest

from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case
from apps.notifications.models import Notification, NotificationPreference

ADMIN_MODELS = {Notification, NotificationPreference}

STAFF = {"inspector": 403, "branch_secretary": 403, "other_branch_secretary": 403}


def _notification(w):
    return {"object_id": w.notification.pk}


def _preference(w):
    pref, _created = NotificationPreference.objects.get_or_create(
        user=w.cast.volunteer, kind="visit_overdue", channel="sms", defaults={"enabled": False}
    )
    return {"object_id": pref.pk}


def _cases(model, obj):
    return [
        case(admin_url(model, "changelist"), default=200, **STAFF, **OUTSIDE_ADMIN),
        case(admin_url(model, "add"), default=403, **OUTSIDE_ADMIN),
        case(admin_url(model, "change"), kwargs=obj, default=200, **STAFF, **OUTSIDE_ADMIN),
        case(admin_url(model, "delete"), kwargs=obj, default=403, **OUTSIDE_ADMIN),
        case(admin_url(model, "history"), kwargs=obj, default=200, **STAFF, **OUTSIDE_ADMIN),
    ]


CASES = _cases(Notification, _notification) + _cases(NotificationPreference, _preference)


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_admin_matrix(c, role, nworld, client, api_as):
    run_case(c, role, nworld, client, api_as)


@pytest.mark.parametrize(
    "query", ["", "?failed=email", "?failed=sms", "?email_status__exact=failed"]
)
def test_failed_deliveries_visible_with_their_error(query, nworld, client):
    Notification.objects.filter(pk=nworld.notification.pk).update(
        email_status="failed", email_error="SMTPException: mailbox full"
    )
    client.force_login(nworld.cast.city_admin)
    response = client.get(f"/admin/notifications/notification/{query}")
    assert response.status_code == 200
    detail = client.get(f"/admin/notifications/notification/{nworld.notification.pk}/change/")
    assert "mailbox full" in detail.content.decode()
