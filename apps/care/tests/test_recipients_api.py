"""The households API: bad input refused with a message and nothing saved."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

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
        RecipientPairing.objects.count(),
        RecipientPairing.objects.active().count(),
        Visit.objects.count(),
    )


def _day(days):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def test_second_active_pairing_refused(rworld, api_as):  # noqa: F811
    other = make_household(rworld.community, name="测试老人丁")
    before = _state()
    response = api_as(rworld.cast.community_staff).post(
        reverse("api:recipient-pairing-list"),
        {"volunteer_number": rworld.volunteer_profile.volunteer_number, "recipient": other.pk},
        format="json",
    )
    assert response.status_code == 400
    assert str(response.data["volunteer_number"][0]).startswith(
        "This volunteer is already paired with a household."
    )
    assert _state() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"visited_on": _day(1)}, "visited_on", "A visit cannot be dated in the future."),
        (
            {"visited_on": _day(-60)},
            "visited_on",
            "A visit cannot be dated before the pairing started.",
        ),
        (
            {"duration_minutes": 0},
            "duration_minutes",
            "Ensure this value is greater than or equal to 1.",
        ),
        ({"kind": "party"}, "kind", '"party" is not a valid choice.'),
        ({"pairing": 999999}, "pairing", 'Invalid pk "999999" - object does not exist.'),
    ],
)
def test_visit_bad_input(rworld, api_as, data, field, message):  # noqa: F811
    payload = {"pairing": rworld.pairing.pk, "visited_on": _day(0), "duration_minutes": 30}
    payload.update(data)
    before = _state()
    response = api_as(rworld.cast.volunteer).post(reverse("api:visit-list"), payload, format="json")
    assert response.status_code == 400
    assert str(response.data[field][0]) == message
    assert _state() == before


def test_visit_on_someone_elses_pairing(rworld, api_as):  # noqa: F811
    before = _state()
    response = api_as(rworld.cast.inspector).post(
        reverse("api:visit-list"),
        {"pairing": rworld.pairing.pk, "visited_on": _day(0), "duration_minutes": 30},
        format="json",
    )
    assert response.status_code == 400
    assert str(response.data["pairing"][0]) == "You can only record visits for your own pairing."
    assert _state() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field may not be blank."),
        (
            {"health_verified_on": _day(1)},
            "health_verified_on",
            "A fact cannot be verified on a date in the future.",
        ),
        ({"community": "other"}, "community", "object does not exist"),
        ({"categories": [999999]}, "categories", "object does not exist"),
    ],
)
def test_recipient_create_bad_input(rworld, api_as, data, field, message):  # noqa: F811
    payload = {"community": rworld.community.pk, "name": "测试老人丙"}
    payload.update(data)
    if payload["community"] == "other":
        payload["community"] = rworld.other_community.pk
    before = _state()
    response = api_as(rworld.cast.community_staff).post(
        reverse("api:care-recipient-list"), payload, format="json"
    )
    assert response.status_code == 400
    assert message in str(response.data[field][0])
    assert _state() == before


def test_secretary_may_not_write_correction_status(rworld, api_as):  # noqa: F811
    response = api_as(rworld.cast.branch_secretary).patch(
        reverse("api:care-recipient-detail", kwargs={"pk": rworld.household.pk}),
        {"correction_status": ""},
        format="json",
    )
    assert response.status_code == 400
    assert str(response.data["correction_status"][0]) == "You may not change this field."
    rworld.household.refresh_from_db()
    assert rworld.household.correction_status == "社区矫正中（虚构）"


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("end", {"reason": ""}, "reason", "This field may not be blank."),
        (
            "end",
            {"reason": "搬家", "ended_on": _day(1)},
            "ended_on",
            "A pairing cannot end in the future.",
        ),
        (
            "handover",
            {"volunteer_number": "V0", "reason": "搬家"},
            "volunteer_number",
            "No active volunteer has this number.",
        ),
    ],
)
def test_pairing_actions_bad_input(rworld, api_as, action, data, field, message):  # noqa: F811
    before = _state()
    response = api_as(rworld.cast.community_staff).post(
        reverse(f"api:recipient-pairing-{action}", kwargs={"pk": rworld.pairing.pk}),
        data,
        format="json",
    )
    assert response.status_code == 400
    assert str(response.data[field][0]) == message
    assert _state() == before
