"""The request API and admin pages for every role (objects from ``rworld``, see request_fixtures).

Reviewing, dispatching and closing are the desk's (community staff and the organisations
above; the inspector gets 403); answering a dispatch is the team leader's; completing is the
assigned volunteer's: anyone else who sees the request gets 403 with the reason.
"""

import pytest

from apps.care.models import RequestDeadline, ServiceRequest
from apps.care.tests.request_fixtures import rworld  # noqa: F401
from apps.core.tests.matrix import (
    OUTSIDE_ADMIN,
    admin_url,
    case,
    parametrize,
    run_case,
    scoped_admin_cases,
)

ADMIN_MODELS = {ServiceRequest, RequestDeadline}
API = {"api": True}
DESK = {
    "default": 404,
    "anonymous": 403,
    "city_admin": 200,
    "branch_secretary": 200,
    "community_staff": 200,
    "inspector": 403,
}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def _entry(w):
    return {
        "community": w.community.pk,
        "channel": "station",
        "title": "陪同就医",
        "requester_name": "虚构居民",
    }


API_CASES = [
    case("api:service-request-list", default=200, anonymous=403, **API),
    case(
        "api:service-request-list",
        "POST",
        data=_entry,
        default=403,
        city_admin=201,
        branch_secretary=201,
        community_staff=201,
        other_branch_secretary=400,  # 桂园社区 is not theirs
        **API,
    ),
    case("api:service-request-detail", kwargs=pk("submitted"), **{**DESK, "inspector": 200}, **API),
    case(
        "api:service-request-accept",
        "POST",
        kwargs=pk("submitted"),
        data=lambda w: {},
        **DESK,
        **API,
    ),
    case(
        "api:service-request-decline",
        "POST",
        kwargs=pk("submitted"),
        data=lambda w: {"reason": "不属实"},
        **DESK,
        **API,
    ),
    case(
        "api:service-request-dispatch",
        "POST",
        kwargs=pk("accepted"),
        data=lambda w: {"team": w.team.pk},
        **DESK,
        **API,
    ),
    case("api:service-request-open", "POST", kwargs=pk("accepted"), **DESK, **API),
    case(
        "api:service-request-close",
        "POST",
        kwargs=pk("done"),
        **{**DESK, "volunteer": 403},  # the volunteer sees their request, but does not close it
        team_leader=404,
        **API,
    ),
    case(
        "api:service-request-team-accept",
        "POST",
        kwargs=pk("dispatched"),
        data=lambda w: {"volunteer": w.cast.volunteer.pk},
        default=403,
        anonymous=403,
        outsider=404,
        other_branch_secretary=404,
        team_leader=200,
        **API,
    ),
    case(
        "api:service-request-team-decline",
        "POST",
        kwargs=pk("dispatched"),
        data=lambda w: {"reason": "人手不足"},
        default=403,
        anonymous=403,
        outsider=404,
        other_branch_secretary=404,
        team_leader=200,
        **API,
    ),
    case(
        "api:service-request-claim",
        "POST",
        kwargs=pk("open_request"),
        # Everyone sees open requests; only an active registered volunteer may claim.
        default=400,
        anonymous=403,
        volunteer=200,
        team_leader=400,
        community_staff=400,
        **API,
    ),
    case(
        "api:service-request-complete",
        "POST",
        kwargs=pk("in_progress"),
        data=lambda w: {"note": "已完成"},
        default=404,
        anonymous=403,
        volunteer=200,
        team_leader=404,
        community_staff=403,
        city_admin=403,
        branch_secretary=403,
        inspector=403,
        **API,
    ),
]


def _deadline_cases():
    obj = lambda w: {"object_id": w.request_deadline.pk}  # noqa: E731
    staff = {"default": 403, "city_admin": 200, **OUTSIDE_ADMIN}
    return [
        case(admin_url(RequestDeadline, "changelist"), **staff),
        case(admin_url(RequestDeadline, "add"), **staff),
        case(admin_url(RequestDeadline, "change"), kwargs=obj, **staff),
        case(admin_url(RequestDeadline, "delete"), kwargs=obj, **staff),
        case(admin_url(RequestDeadline, "history"), kwargs=obj, **staff),
    ]


ADMIN_CASES = [
    *scoped_admin_cases(
        ServiceRequest,
        lambda w: w.submitted,
        add={"default": 403},  # requests arrive on the portal, not in the admin
        city_deletes=True,
    ),
    *_deadline_cases(),
]

CASES = API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_request_api_and_admin_permissions(c, role, rworld, client, api_as):  # noqa: F811
    if rworld.request_deadline is None:
        pytest.skip("no service categories")
    run_case(c, role, rworld, client, api_as)
