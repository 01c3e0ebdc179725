"""Every door of the awards workflow pages, dashboard and portal, for every role."""

import dataclasses

import pytest

from apps.awards.models import Nomination, NominationStatus, Objection, ObjectionStatus
from apps.awards.tests.conftest import YEAR
from apps.core.tests.matrix import case, parametrize, run_case
from apps.dashboard.tests.award_fixtures import aworld, nworld, pworld  # noqa: F401


def category(w):
    return {"year": YEAR, "category_pk": w.category.pk}


def nomination(w):
    return {"pk": w.nomination.pk}


def objection(w):
    return {"pk": w.objection.pk}


NOT_STAFF = {"anonymous": 302, "outsider": 403, "volunteer": 403}
STAFF_PAGE = {"default": 200, **NOT_STAFF}
# Outside the branch's subtree the nomination does not exist for the other branch's secretary.
BRANCH_OBJECT = {**STAFF_PAGE, "other_branch_secretary": 404}
# Changes a branch's manager may make: refused with the service's message (400) here.
MANAGERS_CHANGE = {**BRANCH_OBJECT, "default": 400, "inspector": 403}
# Changes only the city's administrators make.
CITY_CHANGE = {**BRANCH_OBJECT, "default": 403, "city_admin": 400}

DASHBOARD_CASES = [
    case("dashboard:award-index", **STAFF_PAGE),
    case("dashboard:award-category", kwargs=category, **STAFF_PAGE),
    case(
        "dashboard:award-category",
        kwargs=category,
        query="?organization=__branch__",
        **BRANCH_OBJECT,
    ),
    # Empty deeds: the branch's managers hear why; the inspector only looks; the other
    # branch's secretary does not see the candidate.
    case(
        "dashboard:nomination-create",
        "POST",
        kwargs=category,
        data=lambda w: {"volunteer": w.cast.team_leader.pk, "deeds": ""},
        **MANAGERS_CHANGE,
    ),
    # Nobody is left nominated (the one nomination is already in publicity).
    case(
        "dashboard:publicity-start",
        "POST",
        kwargs=category,
        data=lambda w: {"days": "7"},
        **NOT_STAFF,
        default=403,
        city_admin=400,
    ),
    case("dashboard:nomination-detail", kwargs=nomination, **BRANCH_OBJECT),
    case(
        "dashboard:nomination-withdraw",
        "POST",
        kwargs=nomination,
        data=lambda w: {"reason": ""},
        **MANAGERS_CHANGE,
    ),
    # Too early: the publicity is still running.
    case(
        "dashboard:nomination-decide",
        "POST",
        kwargs=nomination,
        data=lambda w: {"awarded": "1"},
        **CITY_CHANGE,
    ),
    case(
        "dashboard:objection-resolve",
        "POST",
        kwargs=objection,
        data=lambda w: {"upheld": "0", "resolution": ""},
        **CITY_CHANGE,
    ),
]

PORTAL_CASES = [
    case("portal:award-list", default=200, anonymous=302),
    case("portal:publicity", default=200, anonymous_to_login=False),
    # Too short: every signed-in user hears why; anonymous users are sent to sign in.
    case(
        "portal:objection-create",
        "POST",
        kwargs=nomination,
        data=lambda w: {"text": "不对"},
        default=400,
        anonymous=302,
    ),
]

CASES = DASHBOARD_CASES + PORTAL_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_award_page_permissions(c, role, pworld, client, api_as):  # noqa: F811
    w = pworld
    # The branch's primary key is known only once the world exists.
    c = dataclasses.replace(c, query=c.query.replace("__branch__", str(w.tree.branch.pk)))
    run_case(c, role, w, client, api_as)
    # Whatever the door and the role, nothing changed.
    assert Nomination.objects.count() == 1
    assert Nomination.objects.get().status == NominationStatus.PUBLICITY
    assert Objection.objects.count() == 1
    assert Objection.objects.get().status == ObjectionStatus.OPEN
