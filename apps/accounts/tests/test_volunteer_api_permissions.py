"""The volunteer profile and training record API, for every role."""

import pytest
from django.utils import timezone

from apps.accounts.tests.volunteer_helpers import extend_world
from apps.core.tests.matrix import case, parametrize, run_case


@pytest.fixture
def vworld(world):
    return extend_world(world)


def applicant(w):
    return {"pk": w.applicant_profile.pk}


def training(w):
    return {"pk": w.training.pk}


API = {"api": True}
SEES_APPLICANT = {
    "community_staff": 200,
    "inspector": 200,
    "branch_secretary": 200,
    "city_admin": 200,
}
DECIDES = {"inspector": 403, "community_staff": 200, "branch_secretary": 200, "city_admin": 200}


def _training_data(w):
    return {
        "user": w.applicant.pk,
        "name": "应急救护",
        "content": "止血包扎",
        "hours": "3.0",
        "organizer": "街道",
        "held_on": timezone.localdate().isoformat(),
    }


CASES = [
    case("api:volunteer-profile-list", default=200, anonymous=403, **API),
    case(
        "api:volunteer-profile-detail",
        kwargs=applicant,
        default=404,
        anonymous=403,
        **SEES_APPLICANT,
        **API,
    ),
    case(
        "api:volunteer-profile-me",
        default=404,
        anonymous=403,
        volunteer=200,
        team_leader=404,
        community_staff=404,
        **API,
    ),
    case(
        "api:volunteer-profile-approve",
        "POST",
        kwargs=applicant,
        default=404,
        anonymous=403,
        **DECIDES,
        **API,
    ),
    case(
        "api:volunteer-profile-reject",
        "POST",
        kwargs=applicant,
        data=lambda w: {"reason": "材料不全"},
        default=404,
        anonymous=403,
        **DECIDES,
        **API,
    ),
    case(
        "api:volunteer-profile-reject",
        "POST",
        kwargs=applicant,
        data=lambda w: {"reason": ""},
        default=404,
        anonymous=403,
        inspector=403,
        community_staff=400,
        branch_secretary=400,
        city_admin=400,
        **API,
    ),
    case("api:training-record-list", default=200, anonymous=403, **API),
    # A volunteer the user cannot see is not a valid choice (400); one they only see, 403.
    case(
        "api:training-record-list",
        "POST",
        data=_training_data,
        default=400,
        anonymous=403,
        inspector=403,
        community_staff=201,
        branch_secretary=201,
        city_admin=201,
        **API,
    ),
    case(
        "api:training-record-detail",
        kwargs=training,
        default=404,
        anonymous=403,
        **SEES_APPLICANT,
        **API,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_volunteer_api_permissions(c, role, vworld, client, api_as):
    run_case(c, role, vworld, client, api_as)
