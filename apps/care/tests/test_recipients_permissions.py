"""API and admin doors for households, pairings, visits and care categories, for every role.

See ``recipients_fixtures.rworld``: the household of 桂园社区 is paired with the volunteer.
"""

import pytest
from django.utils import timezone

from apps.care.models import CareCategory, CareRecipient, RecipientPairing, Visit
from apps.care.tests.recipients_fixtures import rworld  # noqa: F401
from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case

ADMIN_MODELS = {CareRecipient, RecipientPairing, Visit, CareCategory}

UNSEEN = {"outsider": 404, "team_leader": 404, "other_branch_secretary": 404}
READERS = {"volunteer": 403, "inspector": 403}
NOT_MANAGERS = {"outsider": 403, "volunteer": 403, "team_leader": 403, "inspector": 403}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def spare_number(w):
    return w.spare_profile.volunteer_number


def today():
    return timezone.localdate().isoformat()


API_CASES = [
    case("api:care-recipient-list", api=True, default=200, anonymous=403),
    case(
        "api:care-recipient-list",
        "POST",
        api=True,
        data=lambda w: {"community": w.community.pk, "name": "测试老人丙"},
        default=201,
        anonymous=403,
        # the other branch's secretary does not see 桂园社区: a bad reference
        other_branch_secretary=400,
        community_staff=201,
        **NOT_MANAGERS,
    ),
    case(
        "api:care-recipient-detail",
        api=True,
        kwargs=pk("household"),
        default=200,
        anonymous=403,
        **UNSEEN,
    ),
    case(
        "api:care-recipient-detail",
        "PATCH",
        api=True,
        kwargs=pk("household"),
        data=lambda w: {"health_verified_on": today()},
        default=200,
        anonymous=403,
        community_staff=200,
        **READERS,
        **UNSEEN,
    ),
    case(
        "api:care-recipient-reveal",
        api=True,
        kwargs=pk("household"),
        default=200,
        anonymous=403,
        inspector=403,
        **UNSEEN,
    ),
    case("api:recipient-pairing-list", api=True, default=200, anonymous=403),
    case(
        "api:recipient-pairing-list",
        "POST",
        api=True,
        data=lambda w: {"volunteer_number": spare_number(w), "recipient": w.household.pk},
        default=201,
        anonymous=403,
        other_branch_secretary=400,
        community_staff=201,
        **NOT_MANAGERS,
    ),
    case(
        "api:recipient-pairing-detail",
        api=True,
        kwargs=pk("pairing"),
        default=200,
        anonymous=403,
        **UNSEEN,
    ),
    case(
        "api:recipient-pairing-end",
        "POST",
        api=True,
        kwargs=pk("pairing"),
        data=lambda w: {"reason": "志愿者搬家"},
        default=200,
        anonymous=403,
        community_staff=200,
        **READERS,
        **UNSEEN,
    ),
    case(
        "api:recipient-pairing-handover",
        "POST",
        api=True,
        kwargs=pk("pairing"),
        data=lambda w: {"volunteer_number": spare_number(w), "reason": "志愿者搬家"},
        default=201,
        anonymous=403,
        community_staff=201,
        **READERS,
        **UNSEEN,
    ),
    case("api:visit-list", api=True, default=200, anonymous=403),
    case(
        "api:visit-list",
        "POST",
        api=True,
        data=lambda w: {"pairing": w.pairing.pk, "visited_on": today(), "duration_minutes": 30},
        # Who does not see the pairing sends a bad reference; the inspector sees it but the
        # service refuses: not their pairing.
        default=201,
        anonymous=403,
        outsider=400,
        team_leader=400,
        other_branch_secretary=400,
        inspector=400,
        community_staff=201,
    ),
    case(
        "api:visit-detail",
        api=True,
        kwargs=pk("visit"),
        default=200,
        anonymous=403,
        **UNSEEN,
    ),
]


def _object(getter):
    return lambda w: {"object_id": getter(w).pk}


def _read_only_admin_cases(model, getter):
    """Read here, changed on the portal and the API: no add, change or delete in the admin."""
    seen = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
    refused = {"default": 403, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
    return [
        case(admin_url(model, "changelist"), default=200, **OUTSIDE_ADMIN),
        case(admin_url(model, "add"), default=403, **OUTSIDE_ADMIN),
        case(admin_url(model, "change"), kwargs=_object(getter), **seen),
        case(admin_url(model, "delete"), kwargs=_object(getter), **refused),
        case(admin_url(model, "history"), kwargs=_object(getter), **seen),
    ]


CITY_ONLY = {"default": 403, "city_admin": 200, **OUTSIDE_ADMIN}


def _category(w):
    return CareCategory.objects.get(code="elderly")


ADMIN_CASES = [
    *_read_only_admin_cases(CareRecipient, lambda w: w.household),
    *_read_only_admin_cases(RecipientPairing, lambda w: w.pairing),
    *_read_only_admin_cases(Visit, lambda w: w.visit),
    case(admin_url(CareCategory, "changelist"), **CITY_ONLY),
    case(admin_url(CareCategory, "add"), **CITY_ONLY),
    case(admin_url(CareCategory, "change"), kwargs=_object(_category), **CITY_ONLY),
    case(
        admin_url(CareCategory, "delete"),
        kwargs=_object(_category),
        **{**CITY_ONLY, "city_admin": 403},
    ),
    case(admin_url(CareCategory, "history"), kwargs=_object(_category), **CITY_ONLY),
]

CASES = API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_care_recipient_permissions(c, role, rworld, client, api_as):  # noqa: F811
    run_case(c, role, rworld, client, api_as)
