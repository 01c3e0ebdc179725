"""The portal's community pages for every role (the cast is described in ``cworld``).

Members see their own reports, claims and pledges; the manage pages are for the community's
staff and the secretaries above it: roles outside the community get 404, the district's
inspector (who sees it but may not change it) 403.
"""

import pytest

from apps.communities.tests.fixtures import cworld  # noqa: F401
from apps.core.tests.matrix import case, parametrize, run_case

UNSEEN = {"outsider": 404, "other_branch_secretary": 404}
MANAGERS = {"city_admin": 302, "branch_secretary": 302, "community_staff": 302}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


CASES = [
    case("portal:residence-report", default=200, anonymous=302),
    case(
        "portal:residence-report",
        "POST",
        data=lambda w: {"community": w.community.pk, "home_address": "桂园路9号"},
        # The form comes back with the reason unless the member may report (in service,
        # nothing open): the two secretaries are redirected to their receipt.
        default=200,
        anonymous=302,
        branch_secretary=302,
        other_branch_secretary=302,
    ),
    case(
        "portal:residence-report-receipt",
        kwargs=pk("report"),  # the volunteer's
        default=200,
        anonymous=302,
        team_leader=404,
        **UNSEEN,
    ),
    case("portal:my-community", default=200, anonymous=302),
    case(
        "portal:post-claim",
        "POST",
        kwargs=pk("post"),
        # Everyone who sees the post is sent back to their page, with a message saying why not.
        default=302,
        **UNSEEN,
    ),
    case("portal:post-claim", kwargs=pk("post"), default=405, anonymous=302),
    case("portal:pledge-make", default=200, anonymous=302),
    case(
        "portal:pledge-make",
        "POST",
        data=lambda w: {"year": w.year + 1, "content": "每月服务两次", "target": "24次"},
        default=200,
        anonymous=302,
        volunteer=302,
        community_staff=200,
    ),
    case(
        "portal:pledge-report-kept",
        kwargs=pk("pledge"),  # the volunteer's
        default=403,
        anonymous=302,
        volunteer=200,
        team_leader=404,
        community_staff=403,
        **UNSEEN,
    ),
    case(
        "portal:pledge-report-kept",
        "POST",
        kwargs=pk("pledge"),
        data=lambda w: {"evidence": "服务记录24次"},
        default=403,
        anonymous=302,
        volunteer=302,
        team_leader=404,
        community_staff=403,
        **UNSEEN,
    ),
    case("portal:community-list", default=200, anonymous=302),
    case(
        "portal:community-manage",
        kwargs=pk("community"),
        default=404,
        anonymous=302,
        inspector=403,
        city_admin=200,
        branch_secretary=200,
        community_staff=200,
    ),
    case(
        "portal:community-manage",
        "POST",
        kwargs=pk("community"),
        data=lambda w: {"action": "confirm-report", "id": w.pending_report.pk},
        default=404,
        anonymous=302,
        inspector=403,
        **MANAGERS,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_portal_community_permissions(c, role, cworld, client, api_as):  # noqa: F811
    run_case(c, role, cworld, client, api_as)
