"""The activity pages for every role (see ``activity_fixtures.aworld``).

``activity`` and ``draft`` belong to the branch's team at 桂园社区: its organisers are the
city's administrators, the branch secretary, the team leader and 桂园社区's staff; the
inspector and the volunteer (a member of the team, signed up) see it but change nothing; the
other branch's secretary and the outsider do not reach it (published activities are open to
everyone signed in through the directory and the activity's page).
"""

import pytest

from apps.activities import checkin
from apps.core.tests.matrix import case, parametrize, run_case
from apps.portal.tests.activity_fixtures import aworld  # noqa: F401

SIGNED_IN = {"default": 200, "anonymous": 302}
#: Pages of the organiser's desk: 404 outside, 403 for those who only look.
DESK = {
    "default": 200,
    "anonymous": 302,
    "outsider": 404,
    "other_branch_secretary": 404,
    "volunteer": 403,
    "team_leader": 200,
    "community_staff": 200,
    "inspector": 403,
}
#: A change on the desk: done (302) by organisers.
DESK_CHANGE = {**DESK, "default": 302, "team_leader": 302, "community_staff": 302}
CREATORS = {
    "default": 403,
    "anonymous": 302,
    "city_admin": 200,
    "branch_secretary": 200,
    "other_branch_secretary": 200,  # for their own organisation's teams
    "team_leader": 200,
}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def qr(direction, attribute="activity"):
    return lambda w: {"pk": getattr(w, attribute).pk, "direction": direction}


def token(direction):
    return lambda w: {"token": checkin.make_token(activity=w.running, direction=direction)}


def new_activity(w):
    start = w.activity.starts_at
    return {
        "team": w.team.pk,
        "title": "重阳节敬老",
        "category": w.category.pk,
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": w.activity.ends_at.strftime("%Y-%m-%dT%H:%M"),
        "place": "桂园社区活动室",
        "capacity": 5,
        "description": "包饺子",
    }


def edited(w):
    data = new_activity(w)
    del data["team"]
    return data


CASES = [
    # Volunteers.
    case("portal:activity-list", **SIGNED_IN),
    case("portal:activity-list", query="?category=1&community=1&page=2", **SIGNED_IN),
    case("portal:my-activities", **SIGNED_IN),
    case("portal:activity-detail", kwargs=pk("activity"), **SIGNED_IN),
    case("portal:activity-detail", kwargs=pk("other_activity"), **SIGNED_IN),
    case(
        "portal:activity-detail",
        kwargs=pk("draft"),
        **{**SIGNED_IN, "outsider": 404, "other_branch_secretary": 404},
    ),
    case(
        "portal:activity-signup",
        "POST",
        kwargs=pk("activity"),
        data=lambda w: {"risks_read": "on"},
        default=302,  # signed up, or sent back with the reason
    ),
    case(
        "portal:activity-signup",
        "POST",
        kwargs=pk("draft"),
        data=lambda w: {"risks_read": "on"},
        default=302,
        outsider=404,
        other_branch_secretary=404,
    ),
    case("portal:activity-signup", kwargs=pk("activity"), default=405, anonymous=302),
    case(
        "portal:activity-signup-cancel",
        "POST",
        kwargs=pk("signup"),
        **{**DESK_CHANGE, "volunteer": 302},  # their own sign-up
    ),
    case("portal:activity-signup-cancel", kwargs=pk("signup"), default=405, anonymous=302),
    # The organiser's desk.
    case("portal:activity-new", **CREATORS),
    case(
        "portal:activity-new",
        "POST",
        data=new_activity,
        **{
            **CREATORS,
            "city_admin": 302,
            "branch_secretary": 302,
            "team_leader": 302,
            # the branch's team is not among their choices: the form says so
            "other_branch_secretary": 200,
        },
    ),
    case("portal:activity-edit", kwargs=pk("activity"), **DESK),
    case(
        "portal:activity-edit",
        "POST",
        kwargs=pk("activity"),
        data=edited,
        **DESK_CHANGE,
    ),
    case("portal:activity-publish", "POST", kwargs=pk("draft"), **DESK_CHANGE),
    case("portal:activity-publish", kwargs=pk("draft"), default=405, anonymous=302),
    case(
        "portal:activity-cancel",
        "POST",
        kwargs=pk("activity"),
        data=lambda w: {"reason": "暴雨预警"},
        **DESK_CHANGE,
    ),
    case("portal:activity-cancel", kwargs=pk("activity"), default=405, anonymous=302),
    case(
        "portal:activity-repeat",
        "POST",
        kwargs=pk("activity"),
        data=lambda w: {"until": (w.activity.starts_at.date().replace(day=1)).isoformat()},
        **DESK_CHANGE,  # refused (too early) with a message after the redirect
    ),
    case("portal:activity-repeat", kwargs=pk("activity"), default=405, anonymous=302),
    case("portal:activity-manage", kwargs=pk("activity"), **DESK),
    case("portal:activity-manage", kwargs=pk("draft"), **DESK),
    case(
        "portal:activity-attendance",
        "POST",
        kwargs=pk("running_signup"),
        data=lambda w: {"action": "no_show"},
        **DESK_CHANGE,
    ),
    case("portal:activity-attendance", kwargs=pk("running_signup"), default=405, anonymous=302),
    # The QR screens and the page the scan opens.
    case("portal:activity-qr", kwargs=qr("in"), **DESK),
    case("portal:activity-qr", kwargs=qr("out"), **DESK),
    case("portal:activity-qr", kwargs=qr("sideways"), default=404, anonymous=302),
    case("portal:activity-qr-fragment", kwargs=qr("in"), **DESK),
    case("portal:activity-qr-fragment", kwargs=qr("out", "running"), **DESK),
    case("portal:activity-checkin", kwargs=token("in"), **SIGNED_IN),
    case("portal:activity-checkin", kwargs=lambda w: {"token": "forged"}, **SIGNED_IN),
    # Refusals (not signed up, not registered …) are shown on the page, never a 500.
    case("portal:activity-checkin", "POST", kwargs=token("in"), **SIGNED_IN),
    case("portal:activity-checkin", "POST", kwargs=token("out"), **SIGNED_IN),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_activity_pages_permissions(c, role, aworld, client, api_as):  # noqa: F811
    run_case(c, role, aworld, client, api_as)
