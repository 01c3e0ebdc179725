"""Every door of the awards workflow for every role: the API and the five admin models."""

import pytest

from apps.awards.models import Award, AwardCategory, Nomination, Objection, Quota
from apps.awards.tests.award_fixtures import (  # noqa: F401
    nominated,
    nworld,
    publicised,
    pworld,
)
from apps.awards.tests.conftest import YEAR
from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case

ADMIN_MODELS = {AwardCategory, Quota, Nomination, Objection, Award}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def object_id(attribute):
    return lambda w: {"object_id": getattr(w, attribute).pk}


API = {"api": True}
SIGNED_IN = {"default": 200, "anonymous": 403}
# The branch's rows: the branch, the district's inspector and the city see them.
BRANCH_ROW = {
    "default": 404,
    "anonymous": 403,
    "city_admin": 200,
    "inspector": 200,
    "branch_secretary": 200,
}
NOT_THE_CITY = {"inspector": 403, "branch_secretary": 403}

API_CASES = [
    case("api:award-category-list", **SIGNED_IN, **API),
    case("api:award-category-detail", kwargs=pk("vcat"), **SIGNED_IN, **API),
    case("api:award-quota-list", **SIGNED_IN, **API),
    case("api:award-quota-detail", kwargs=pk("quota"), **BRANCH_ROW, **API),
    case("api:nomination-list", **SIGNED_IN, **API),
    case("api:nomination-detail", kwargs=pk("nomination"), **BRANCH_ROW, **API),
    # The branch nominates its team; the inspector and the team's leader see the team but do
    # not manage the branch (403); the rest do not see it (404).
    case(
        "api:nomination-list",
        "POST",
        data=lambda w: {"year": YEAR, "category": w.tcat.pk, "team": w.team.pk, "deeds": "事迹"},
        default=404,
        anonymous=403,
        city_admin=201,
        branch_secretary=201,
        inspector=403,
        volunteer=404,
        team_leader=403,
        **API,
    ),
    case(
        "api:nomination-withdraw",
        "POST",
        kwargs=pk("nomination"),
        data=lambda w: {"reason": "本人申请撤回"},
        **{**BRANCH_ROW, "inspector": 403},
        **API,
    ),
    # The city decides, but not before the publicity has ended (400).
    case(
        "api:nomination-decide",
        "POST",
        kwargs=pk("nomination"),
        data=lambda w: {"awarded": True},
        **{**BRANCH_ROW, **NOT_THE_CITY, "city_admin": 400},
        **API,
    ),
    case("api:objection-list", **SIGNED_IN, **API),
    # The outsider raised it: they see their own.
    case(
        "api:objection-detail",
        kwargs=pk("objection"),
        **{**BRANCH_ROW, "outsider": 200},
        **API,
    ),
    # Anyone signed in objects to a publicised nomination.
    case(
        "api:objection-list",
        "POST",
        data=lambda w: {"nomination": w.nomination.pk, "text": "该同志的事迹与实际情况不符。"},
        default=201,
        anonymous=403,
        **API,
    ),
    case(
        "api:objection-resolve",
        "POST",
        kwargs=pk("objection"),
        data=lambda w: {"upheld": False, "resolution": "经核实不属实"},
        **{**BRANCH_ROW, **NOT_THE_CITY, "outsider": 403},
        **API,
    ),
    case("api:award-list", **SIGNED_IN, **API),
    case(
        "api:award-detail",
        kwargs=pk("award"),
        **{**BRANCH_ROW, "volunteer": 200, "team_leader": 404, "community_staff": 404},
        **API,
    ),
    # Read only.
    case(
        "api:award-detail",
        "PATCH",
        kwargs=pk("award"),
        data=lambda w: {"name": "改名"},
        default=405,
        anonymous=403,
        **API,
    ),
]


def admin_cases(model, getter, *, other_branch=404, inspector=200, adds=False, deletes=False):
    """Change lists for everyone in the admin; the object for those who see it (the change
    page of a read-only object is its view page); adding and deleting for the city only."""
    seen = {
        "default": 200,
        "other_branch_secretary": other_branch,
        "inspector": inspector,
        **OUTSIDE_ADMIN,
    }
    return [
        case(admin_url(model, "changelist"), default=200, **OUTSIDE_ADMIN),
        case(
            admin_url(model, "add"),
            default=403,
            **OUTSIDE_ADMIN,
            **({"city_admin": 200} if adds else {}),
        ),
        case(admin_url(model, "change"), kwargs=getter, **seen),
        case(
            admin_url(model, "delete"),
            kwargs=getter,
            **{
                **seen,
                "default": 403,
                "inspector": 403 if inspector == 200 else inspector,
                "other_branch_secretary": 403 if other_branch == 200 else other_branch,
                **({"city_admin": 200} if deletes else {}),
            },
        ),
        case(admin_url(model, "history"), kwargs=getter, **seen),
    ]


ADMIN_CASES = [
    *admin_cases(AwardCategory, object_id("vcat"), other_branch=200, adds=True, deletes=True),
    *admin_cases(Quota, object_id("quota"), adds=True, deletes=True),
    *admin_cases(Nomination, object_id("nomination")),
    *admin_cases(Objection, object_id("objection")),
    # The city adds awards from elsewhere; an award is never deleted.
    *admin_cases(Award, object_id("award"), adds=True),
]

CASES = API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_award_permissions(c, role, pworld, client, api_as):  # noqa: F811
    run_case(c, role, pworld, client, api_as)
