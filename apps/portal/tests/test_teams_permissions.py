"""Who may open and post the portal's team pages: the access contract for every role.

A successful POST redirects (302); a refused one re-renders its page with the reason (200).
"""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case
from apps.teams.tests.fixtures import teams_world  # noqa: F401


def pk_of(name):
    return lambda w: {"pk": getattr(w, name).pk}


team = pk_of("team")

# Outside the team's scope: nobody confirms it exists. Anonymous visitors go to the login page.
OUTSIDE = {"anonymous": 302, "outsider": 404, "volunteer": 404, "other_branch_secretary": 404}
# Sees the team (a plain member, a read-only role) but may not change it.
LOOKS = {"community_staff": 403, "inspector": 403}
MANAGERS_DONE = {"team_leader": 302, "branch_secretary": 302, "city_admin": 302}

CASES = [
    case("portal:team-list", default=200, anonymous=302),
    case("portal:team-list", default=200, anonymous=302, query="?q=桂园&category=elderly"),
    case("portal:my-teams", default=200, anonymous=302),
    case("portal:team-detail", kwargs=team, default=200, anonymous=302),
    case("portal:team-detail", kwargs=lambda w: {"pk": 999999}, default=404, anonymous=302),
    case("portal:team-apply", kwargs=team, default=405, anonymous=302),
    # Only people with an active volunteer registration may apply; the others read why.
    case(
        "portal:team-apply",
        "POST",
        kwargs=pk_of("other_team"),
        data=lambda w: {"message": "想加入"},
        default=200,
        anonymous=302,
        volunteer=302,
        team_leader=200,
        community_staff=302,
    ),
    case(
        "portal:team-manage",
        kwargs=team,
        default=200,
        **OUTSIDE,
        team_leader=200,
        community_staff=403,
    ),
    case(
        "portal:team-manage",
        kwargs=pk_of("other_team"),
        default=404,
        anonymous=302,
        inspector=404,
        other_branch_secretary=200,
        city_admin=200,
    ),
    case(
        "portal:team-invite",
        "POST",
        kwargs=team,
        data=lambda w: {"phone": w.candidate.phone},
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    case(
        "portal:team-family-create",
        "POST",
        kwargs=team,
        data=lambda w: {"name": "吴家", "head": w.cast.community_staff.pk},
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    case(
        "portal:team-family-member-add",
        "POST",
        kwargs=pk_of("family_group"),
        data=lambda w: {"user": w.cast.community_staff.pk},
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    case(
        "portal:team-membership-approve",
        "POST",
        kwargs=pk_of("application"),
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    case(
        "portal:team-membership-decline",
        "POST",
        kwargs=pk_of("application"),
        data=lambda w: {"reason": "名额已满"},
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    case(
        "portal:team-membership-remove",
        "POST",
        kwargs=pk_of("member_membership"),
        data=lambda w: {"reason": "长期不参加活动"},
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    case(
        "portal:team-deputy-appoint",
        "POST",
        kwargs=pk_of("member_membership"),
        default=403,
        **OUTSIDE,
        **LOOKS,
        **MANAGERS_DONE,
    ),
    # The member is no deputy: the managers get the page back with the reason.
    case(
        "portal:team-deputy-revoke",
        "POST",
        kwargs=pk_of("member_membership"),
        default=403,
        **OUTSIDE,
        **LOOKS,
        team_leader=200,
        branch_secretary=200,
        city_admin=200,
    ),
    case(
        "portal:team-invitation-accept",
        "POST",
        kwargs=pk_of("invitation"),
        default=403,
        anonymous=302,
        outsider=404,
        other_branch_secretary=404,
        volunteer=302,
        team_leader=403,
        community_staff=403,
    ),
    case(
        "portal:team-invitation-decline",
        "POST",
        kwargs=pk_of("invitation"),
        default=403,
        anonymous=302,
        outsider=404,
        other_branch_secretary=404,
        volunteer=302,
        team_leader=403,
        community_staff=403,
    ),
    case(
        "portal:team-leave",
        "POST",
        kwargs=pk_of("staff_membership"),
        default=403,
        **OUTSIDE,
        team_leader=403,
        community_staff=302,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_portal_team_permissions(c, role, teams_world, client, api_as):  # noqa: F811
    run_case(c, role, teams_world, client, api_as)
