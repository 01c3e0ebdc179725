"""Household pages: forms refuse bad input with a message and save nothing; lists stay cheap."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.tests.factories import UserFactory
from apps.care.models import CareRecipient, RecipientPairing, Visit
from apps.care.tests.recipients_fixtures import make_household, rworld  # noqa: F401


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _state():
    return (
        CareRecipient.objects.count(),
        RecipientPairing.objects.active().count(),
        Visit.objects.count(),
    )


def test_volunteer_logs_a_visit_from_my_household(rworld, client_as):  # noqa: F811
    client = client_as(rworld.cast.volunteer)
    page = client.get(reverse("portal:my-household"))
    assert "Log a visit" in page.content.decode()
    url = reverse("portal:visit-add", kwargs={"pk": rworld.pairing.pk})
    today = timezone.localdate().isoformat()
    response = client.post(url, {"visited_on": today, "kind": "call", "duration_minutes": 20})
    assert response.status_code == 302 and response["Location"] == reverse("portal:my-household")
    assert Visit.objects.filter(pairing=rworld.pairing, kind="call").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"visited_on": "tomorrow"}, "A visit cannot be dated in the future."),
        ({"visited_on": "before"}, "A visit cannot be dated before the pairing started."),
        ({"duration_minutes": 0}, "Ensure this value is greater than or equal to 1."),
        ({"kind": "party"}, "Select a valid choice."),
        ({"visited_on": "not a date"}, "Enter a valid date."),
    ],
)
def test_visit_form_refuses_bad_input(rworld, client_as, data, message):  # noqa: F811
    dates = {
        "tomorrow": timezone.localdate() + datetime.timedelta(days=1),
        "before": rworld.pairing.started_on - datetime.timedelta(days=1),
    }
    values = {"visited_on": timezone.localdate(), "kind": "visit", "duration_minutes": 30}
    values.update({k: dates.get(v, v) for k, v in data.items()})
    before = _state()
    response = client_as(rworld.cast.volunteer).post(
        reverse("portal:visit-add", kwargs={"pk": rworld.pairing.pk}), values
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize(
    ("url_name", "data", "message"),
    [
        (
            "portal:care-pairing-create",
            {"volunteer_number": "V000", "visit_every_days": 30},
            "No active volunteer has this number.",
        ),
        (
            "portal:care-pairing-create",
            {"volunteer_number": "volunteer", "visit_every_days": 0},
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            "portal:care-pairing-create",
            {"volunteer_number": "volunteer", "visit_every_days": 30},
            "This volunteer is already paired with a household.",
        ),
        ("portal:care-pairing-end", {"reason": ""}, "This field is required."),
        (
            "portal:care-pairing-handover",
            {"volunteer_number": "volunteer", "reason": "搬家"},
            "Choose another volunteer to take the household over.",
        ),
    ],
)
def test_pairing_forms_refuse_bad_input(rworld, client_as, url_name, data, message):  # noqa: F811
    if data.get("volunteer_number") == "volunteer":
        data = {**data, "volunteer_number": rworld.volunteer_profile.volunteer_number}
    target = rworld.household if url_name == "portal:care-pairing-create" else rworld.pairing
    before = _state()
    client = client_as(rworld.cast.community_staff)
    response = client.post(reverse(url_name, kwargs={"pk": target.pk}), data, follow=True)
    assert message in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"contact_verified_on": "future"}, "A fact cannot be verified on a date in the future."),
        ({"community": "other"}, "Select a valid choice."),
    ],
)
def test_household_form_refuses_bad_input(rworld, client_as, data, message):  # noqa: F811
    values = {"community": rworld.community.pk, "name": "测试老人丙"}
    special = {
        "future": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
        "other": rworld.other_community.pk,
    }
    values.update({k: special.get(v, v) for k, v in data.items()})
    before = _state()
    response = client_as(rworld.cast.community_staff).post(
        reverse("portal:care-recipient-create"), values
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _state() == before


def _grow(community, rows):
    for n in range(rows):
        household = make_household(community, name=f"测试{n}")
        RecipientPairing.objects.create(
            volunteer=UserFactory(),
            recipient=household,
            started_on=timezone.localdate() - datetime.timedelta(days=60),
        )


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# Every signed-in request costs 7 queries (session, user, scope, session renewal); the page's
# own follow.
REQUEST = 7


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        # count, page of households with pairing counts, their categories; staffed
        # communities (for the add button); filter choices: communities and categories, each
        # counted and listed by the select
        ("/care/households/", REQUEST + 8),
        # count, page of overdue pairings
        ("/care/overdue/", REQUEST + 2),
        # count, page of households, their categories
        ("/api/v1/care-recipients/", REQUEST + 3),
        # count, page of pairings with last visits
        ("/api/v1/recipient-pairings/", REQUEST + 2),
        # count, page of visits
        ("/api/v1/visits/", REQUEST + 2),
        # staffed communities, households with entitlement, their categories, the audit entry
        # in its savepoint (3)
        ("/care/households/export/", REQUEST + 6),
    ],
)
def test_list_queries_stay_constant(rworld, client_as, url, budget):  # noqa: F811
    client = client_as(rworld.cast.community_staff)
    _grow(rworld.community, 10)
    small = _count(client, url)
    _grow(rworld.community, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"
    assert large == budget, f"{url}: {large} queries, budget {budget}"
