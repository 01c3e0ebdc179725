"""Volunteer pages on the portal, for every role."""

import pytest

from apps.accounts.tests.volunteer_helpers import extend_world, make_id_number, registration
from apps.core.tests.matrix import case, parametrize, run_case


@pytest.fixture
def vworld(world):
    return extend_world(world)


def _registration(w):
    data = registration(w.cast.outsider, community=w.community)
    data["id_number"] = make_id_number(data["birth_date"])
    data.pop("user")
    data["residence_community"] = w.community.pk
    data["consent"] = "on"
    return data


def _applicant(w):
    return {"pk": w.applicant_profile.pk}


NO_PROFILE = {"team_leader": 302, "community_staff": 302}
HAS_NO_PROFILE_200 = {"team_leader": 200, "community_staff": 200}
REVIEWERS = {"community_staff": 200, "branch_secretary": 200, "city_admin": 200}

CASES = [
    # Someone already registered is sent to their profile.
    case(
        "portal:volunteer-register",
        default=200,
        anonymous=302,
        volunteer=302,
        **HAS_NO_PROFILE_200,
    ),
    case(
        "portal:volunteer-register",
        "POST",
        data=lambda w: {"real_name": ""},
        default=200,
        anonymous=302,
        volunteer=302,
        **HAS_NO_PROFILE_200,
    ),
    case("portal:volunteer-register", "POST", data=_registration, default=302),
    case("portal:volunteer-profile", default=200, anonymous=302),
    case("portal:volunteer-profile", "POST", default=405, anonymous=302),
    # Withdrawing is one's own decision; without a profile there is nothing to withdraw.
    case("portal:volunteer-withdraw", "POST", default=302),
    case("portal:volunteer-withdraw", default=405, anonymous=302),
    case(
        "portal:volunteer-profile-edit",
        default=302,
        volunteer=200,
        **NO_PROFILE,
    ),
    case(
        "portal:volunteer-profile-edit",
        "POST",
        data=lambda w: {"residence_area": ""},
        default=302,
        volunteer=200,
        **NO_PROFILE,
    ),
    case(
        "portal:volunteer-profile-edit",
        "POST",
        data=lambda w: {"residence_area": "东湖区", "available_times": ["flexible"]},
        default=302,
    ),
    case("portal:volunteer-change-request", default=302, volunteer=200, **NO_PROFILE),
    case(
        "portal:volunteer-change-request",
        "POST",
        data=lambda w: {
            "real_name": "王秀芳",
            "gender": "female",
            "birth_date": w.volunteer_profile.birth_date.isoformat(),
        },
        default=302,
    ),
    case("portal:volunteer-training", default=200, anonymous=302),
    case("portal:volunteer-training", "POST", default=405, anonymous=302),
    case(
        "portal:volunteer-review-list",
        default=403,
        anonymous=302,
        other_branch_secretary=200,
        **REVIEWERS,
    ),
    case(
        "portal:volunteer-review-detail",
        kwargs=_applicant,
        default=404,
        anonymous=302,
        inspector=200,
        **REVIEWERS,
    ),
    case(
        "portal:volunteer-review-detail",
        "POST",
        kwargs=_applicant,
        data=lambda w: {"action": "approve"},
        default=404,
        anonymous=302,
        inspector=403,
        community_staff=302,
        branch_secretary=302,
        city_admin=302,
    ),
    # Rejecting without a reason: the page again, with the message.
    case(
        "portal:volunteer-review-detail",
        "POST",
        kwargs=_applicant,
        data=lambda w: {"action": "reject", "reason": ""},
        default=404,
        anonymous=302,
        inspector=403,
        community_staff=400,
        branch_secretary=400,
        city_admin=400,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_volunteer_page_permissions(c, role, vworld, client, api_as):
    run_case(c, role, vworld, client, api_as)
