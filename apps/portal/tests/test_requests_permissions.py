"""The request pages for every role, residents without an account included.

The request fixtures (``rworld``): ``submitted`` and ``accepted`` wait at 桂园社区's desk;
``dispatched`` waits for the team led by ``team_leader`` (``volunteer`` is a member);
``open_request`` is open to claim; ``in_progress`` and ``done`` are the volunteer's. The desk
is community staff and the organisations above (the inspector looks but does not change).
"""

import pytest

from apps.care.tests.request_fixtures import rworld  # noqa: F401
from apps.core.tests.matrix import case, parametrize, run_case

PUBLIC = {"default": 200, "anonymous_to_login": False}
DESK_SEES = {
    "default": 404,
    "anonymous": 302,
    "city_admin": 200,
    "branch_secretary": 200,
    "inspector": 200,
    "community_staff": 200,
}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def token(attribute):
    return lambda w: {"token": getattr(w, attribute).rating_token}


def community(w):
    return {"community_pk": w.community.pk}


CASES = [
    # Residents: no account needed.
    case("portal:resident-submit", kwargs=community, **PUBLIC),
    case("portal:resident-submit", kwargs=community, query="?src=qr", **PUBLIC),
    case(
        "portal:resident-submit",
        "POST",
        kwargs=community,
        data=lambda w: {"kind": "need", "title": "帮忙换灯泡", "requester_phone": "13600000000"},
        default=302,
        anonymous_to_login=False,
    ),
    case("portal:resident-submitted", kwargs=token("submitted"), **PUBLIC),
    case("portal:resident-track", **PUBLIC),
    case(
        "portal:resident-track",
        query="?number=XY&phone4=5678",  # no match: the page says so
        **PUBLIC,
    ),
    case("portal:resident-rate", kwargs=token("done"), **PUBLIC),
    case(
        "portal:resident-rate",
        "POST",
        kwargs=token("done"),
        data=lambda w: {"stars": 5, "comment": "很好"},
        default=302,
        anonymous_to_login=False,
    ),
    case("portal:wishes-wall", **PUBLIC),
    case("portal:community-qr", kwargs=community, **PUBLIC),
    # The community desk.
    case(
        "portal:request-intake",
        default=403,
        anonymous=302,
        city_admin=200,
        branch_secretary=200,
        other_branch_secretary=200,  # their own communities
        community_staff=200,
    ),
    case(
        "portal:request-intake",
        "POST",
        data=lambda w: {
            "community": w.community.pk,
            "channel": "station",
            "kind": "need",
            "title": "陪同就医",
            "requester_name": "虚构居民",
        },
        default=403,
        anonymous=302,
        city_admin=302,
        branch_secretary=302,
        other_branch_secretary=200,  # 桂园社区 is not among their choices: the form says so
        community_staff=302,
    ),
    case(
        "portal:request-queue",
        default=200,
        anonymous=302,
        outsider=403,
        volunteer=403,
        team_leader=403,
        community_staff=200,
    ),
    case(
        "portal:request-queue",
        query="?status=submitted",
        default=200,
        anonymous=302,
        outsider=403,
        volunteer=403,
        team_leader=403,
        community_staff=200,
    ),
    case(
        "portal:request-action",
        "POST",
        kwargs=pk("submitted"),
        data=lambda w: {"action": "accept"},
        **{
            **DESK_SEES,
            "city_admin": 302,
            "branch_secretary": 302,
            "community_staff": 302,
            "inspector": 403,
        },
    ),
    case("portal:request-action", kwargs=pk("submitted"), default=405, anonymous=302),
    case("portal:request-detail", kwargs=pk("submitted"), **DESK_SEES),
    case(
        "portal:request-detail",
        kwargs=pk("dispatched"),
        **{**DESK_SEES, "volunteer": 200, "team_leader": 200},
    ),
    # Team leaders.
    case("portal:team-requests", default=200, anonymous=302),
    case(
        "portal:request-team-action",
        "POST",
        kwargs=pk("dispatched"),
        data=lambda w: {"action": "accept", "volunteer": w.cast.volunteer.pk},
        default=404,
        anonymous=302,
        team_leader=302,
        volunteer=403,  # a member, not the leader
        community_staff=403,
        city_admin=403,
        branch_secretary=403,
        inspector=403,
    ),
    case("portal:request-team-action", kwargs=pk("dispatched"), default=405, anonymous=302),
    # Volunteers.
    case("portal:requests-open", default=200, anonymous=302),
    case(
        "portal:request-claim",
        "POST",
        kwargs=pk("open_request"),
        # Everyone sees open requests; who may not claim is sent back with the reason.
        default=302,
    ),
    case("portal:request-claim", kwargs=pk("open_request"), default=405, anonymous=302),
    case("portal:my-requests", default=200, anonymous=302),
    case(
        "portal:request-complete",
        kwargs=pk("in_progress"),
        default=404,
        anonymous=302,
        volunteer=200,
        team_leader=404,
        community_staff=403,
        city_admin=403,
        branch_secretary=403,
        inspector=403,
    ),
    case(
        "portal:request-complete",
        "POST",
        kwargs=pk("in_progress"),
        data=lambda w: {"note": "已完成"},
        default=404,
        anonymous=302,
        volunteer=302,
        team_leader=404,
        community_staff=403,
        city_admin=403,
        branch_secretary=403,
        inspector=403,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_request_pages_permissions(c, role, rworld, client, api_as):  # noqa: F811
    run_case(c, role, rworld, client, api_as)
