"""Who may do what through the team API: the access contract for every role."""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case

API = {"api": True}


def team(w):
    return {"pk": w.team.pk}


def pk_of(name):
    return lambda w: {"pk": getattr(w, name).pk}


# Outside the team's scope: nobody confirms it exists.
OUTSIDE = {"anonymous": 403, "outsider": 404, "volunteer": 404, "other_branch_secretary": 404}
# Sees the team (a member, a read-only role) but may not decide.
LOOKS = {"community_staff": 403, "inspector": 403}

CASES = [
    case("api:team-list", default=200, anonymous=403, **API),
    case("api:team-directory", default=200, anonymous=403, **API),
    case(
        "api:team-list",
        "POST",
        data=lambda w: {"organization": w.tree.branch.pk, "name": "新志愿队", "kind": "general"},
        default=403,
        branch_secretary=201,
        city_admin=201,
        other_branch_secretary=400,  # the branch is not theirs to choose
        **API,
    ),
    case(
        "api:team-detail",
        kwargs=team,
        default=200,
        **OUTSIDE,
        team_leader=200,
        community_staff=200,
        **API,
    ),
    case(
        "api:team-detail",
        "PATCH",
        kwargs=team,
        data=lambda w: {"brand_name": "红心敲门"},
        default=200,
        **OUTSIDE,
        team_leader=200,
        **LOOKS,
        **API,
    ),
    case("api:team-membership-list", default=200, anonymous=403, **API),
    # Applying: only people with an active volunteer registration (volunteer, community staff).
    case(
        "api:team-membership-list",
        "POST",
        data=lambda w: {"team": w.other_team.pk, "message": "想加入"},
        default=400,
        anonymous=403,
        volunteer=201,
        team_leader=400,
        community_staff=201,
        **API,
    ),
    # Inviting by phone: the team's managers only.
    case(
        "api:team-membership-list",
        "POST",
        data=lambda w: {"team": w.team.pk, "phone": w.candidate.phone},
        default=400,
        anonymous=403,
        team_leader=201,
        branch_secretary=201,
        city_admin=201,
        **API,
    ),
    case(
        "api:team-membership-detail",
        kwargs=pk_of("application"),
        default=200,
        **OUTSIDE,
        team_leader=200,
        community_staff=200,
        **API,
    ),
    case(
        "api:team-membership-approve",
        "POST",
        kwargs=pk_of("application"),
        default=200,
        **OUTSIDE,
        team_leader=200,
        **LOOKS,
        **API,
    ),
    case(
        "api:team-membership-decline",
        "POST",
        kwargs=pk_of("application"),
        data=lambda w: {"reason": "名额已满"},
        default=200,
        **OUTSIDE,
        team_leader=200,
        **LOOKS,
        **API,
    ),
    # The invitee declines their own invitation; the team cannot "decline" an invitation.
    case(
        "api:team-membership-decline",
        "POST",
        kwargs=pk_of("invitation"),
        default=400,
        anonymous=403,
        outsider=404,
        other_branch_secretary=404,
        volunteer=200,
        team_leader=400,
        **LOOKS,
        **API,
    ),
    case(
        "api:team-membership-accept",
        "POST",
        kwargs=pk_of("invitation"),
        default=403,
        anonymous=403,
        outsider=404,
        other_branch_secretary=404,
        volunteer=200,
        team_leader=403,
        community_staff=403,
        **API,
    ),
    case(
        "api:team-membership-leave",
        "POST",
        kwargs=pk_of("staff_membership"),
        default=403,
        **OUTSIDE,
        team_leader=403,
        community_staff=200,
        **API,
    ),
    case(
        "api:team-membership-remove",
        "POST",
        kwargs=pk_of("member_membership"),
        data=lambda w: {"reason": "长期不参加活动"},
        default=200,
        **OUTSIDE,
        team_leader=200,
        **LOOKS,
        **API,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_team_api_permissions(c, role, teams_world, client, api_as):
    run_case(c, role, teams_world, client, api_as)
