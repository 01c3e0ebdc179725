"""The communities API for every role (see ``fixtures.cworld`` for who holds what).

桂园社区 belongs to the branch: its secretary manages it, the district's inspector sees it, its
staff work for it. The volunteer and the team leader are confirmed residents there; the team
leader claimed the post and reported their pledge kept. A resident of the sibling branch waits
for confirmation (``pending_report``).
"""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case

API = {"api": True, "anonymous": 403}
# Roles that do not see 桂园社区 or its rows at all.
UNSEEN = {"outsider": 404, "other_branch_secretary": 404}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


CASES = [
    # Communities: the scope sees them, every signed-in user sees the directory.
    case("api:community-list", default=200, **API),
    case("api:community-directory", default=200, **API),
    case(
        "api:community-list",
        "POST",
        data=lambda w: {
            "name": "新桂社区",
            "district": "东湖区",
            "street": "东湖街道",
            "organization": w.tree.branch.pk,
        },
        default=403,
        city_admin=201,
        branch_secretary=201,
        other_branch_secretary=400,  # may create, but not under a branch they cannot see
        **API,
    ),
    case(
        "api:community-detail",
        kwargs=pk("community"),
        default=200,
        volunteer=404,  # a resident sees the directory, not the community's record
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:community-detail",
        "PATCH",
        kwargs=pk("community"),
        data=lambda w: {"contact_phone": "027-88886666"},
        default=200,
        inspector=403,
        volunteer=404,
        community_staff=403,  # staff work for the community; its record is kept above them
        **UNSEEN,
        **API,
    ),
    # Service points: community staff and above.
    case("api:service-point-list", default=200, **API),
    case(
        "api:service-point-list",
        "POST",
        data=lambda w: {
            "community": w.community.pk,
            "name": "桂园药店服务点",
            "kind": "point",
            "address": "桂园路2号",
        },
        default=403,
        city_admin=201,
        branch_secretary=201,
        community_staff=201,
        other_branch_secretary=400,
        **API,
    ),
    case(
        "api:service-point-detail",
        kwargs=pk("service_point"),
        default=200,
        volunteer=404,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:service-point-detail",
        "PATCH",
        kwargs=pk("service_point"),
        data=lambda w: {"opening_hours": "8:30-17:30"},
        default=200,
        inspector=403,
        volunteer=404,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    # Pairings: agreed by the team's owning organisation.
    case("api:team-pairing-list", default=200, **API),
    case(
        "api:team-pairing-list",
        "POST",
        data=lambda w: {"team": w.team.pk, "community": w.other_community.pk},
        default=403,
        city_admin=201,
        branch_secretary=201,
        other_branch_secretary=400,  # cannot see the team
        **API,
    ),
    case(
        "api:team-pairing-detail",
        kwargs=pk("pairing"),
        default=200,
        volunteer=404,
        team_leader=200,  # their team's pairing
        community_staff=200,  # their community's pairing
        **UNSEEN,
        **API,
    ),
    case(
        "api:team-pairing-end",
        "POST",
        kwargs=pk("pairing"),
        default=200,
        inspector=403,
        volunteer=404,
        team_leader=403,
        community_staff=403,
        **UNSEEN,
        **API,
    ),
    # Residence reports: members submit for themselves; the community decides.
    case("api:residence-report-list", default=200, **API),
    case(
        "api:residence-report-list",
        "POST",
        data=lambda w: {"community": w.community.pk, "home_address": "桂园路9号"},
        # Only members in service without an open report may submit: the two secretaries.
        default=400,
        branch_secretary=201,
        other_branch_secretary=201,
        **API,
    ),
    case(
        "api:residence-report-detail",
        kwargs=pk("pending_report"),
        default=200,
        volunteer=404,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:residence-report-confirm",
        "POST",
        kwargs=pk("pending_report"),
        default=200,
        inspector=403,
        volunteer=404,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:residence-report-return",
        "POST",
        kwargs=pk("pending_report"),
        data=lambda w: {"reason": "地址不全"},
        default=200,
        inspector=403,
        volunteer=404,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:residence-report-withdraw",
        "POST",
        kwargs=pk("pending_report"),
        default=403,  # only the resident who submitted it
        volunteer=404,
        community_staff=403,
        **UNSEEN,
        **API,
    ),
    # Moving away: the member or the community ends a confirmed report.
    case(
        "api:residence-report-end",
        "POST",
        kwargs=pk("report"),
        default=200,
        inspector=403,
        team_leader=404,
        **UNSEEN,
        **API,
    ),
    # Posts: staff publish; confirmed residents see the published ones and claim.
    case("api:post-list", default=200, **API),
    case(
        "api:post-list",
        "POST",
        data=lambda w: {"community": w.community.pk, "title": "助老送餐", "slots": 3},
        default=403,
        city_admin=201,
        branch_secretary=201,
        community_staff=201,
        other_branch_secretary=400,
        **API,
    ),
    case(
        "api:post-detail",
        kwargs=pk("post"),
        default=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:post-detail",
        "PATCH",
        kwargs=pk("post"),
        data=lambda w: {"slots": 6},
        default=200,
        inspector=403,
        volunteer=403,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:post-claim",
        "POST",
        kwargs=pk("post"),
        data=lambda w: {"note": "周末有空"},
        default=400,  # no confirmed report at 桂园社区
        volunteer=201,
        team_leader=400,  # already claimed
        community_staff=400,
        **UNSEEN,
        **API,
    ),
    case(
        "api:post-close",
        "POST",
        kwargs=pk("post"),
        default=200,
        inspector=403,
        volunteer=403,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    # Claims: the community decides, the member withdraws.
    case("api:post-claim-list", default=200, **API),
    case(
        "api:post-claim-detail",
        kwargs=pk("claim"),
        default=200,
        volunteer=404,
        team_leader=200,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:post-claim-approve",
        "POST",
        kwargs=pk("claim"),
        default=200,
        inspector=403,
        volunteer=404,
        team_leader=403,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:post-claim-reject",
        "POST",
        kwargs=pk("claim"),
        data=lambda w: {"reason": "名额调整"},
        default=200,
        inspector=403,
        volunteer=404,
        team_leader=403,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:post-claim-withdraw",
        "POST",
        kwargs=pk("claim"),
        default=403,
        volunteer=404,
        team_leader=200,
        community_staff=403,
        **UNSEEN,
        **API,
    ),
    # Pledges: members make and report them, the community confirms.
    case("api:pledge-list", default=200, **API),
    case(
        "api:pledge-list",
        "POST",
        data=lambda w: {
            "community": w.community.pk,
            "year": w.year + 1,
            "content": "每月服务两次",
            "target": "24次",
        },
        default=400,  # only confirmed residents of the community
        volunteer=201,
        community_staff=400,
        **API,
    ),
    case(
        "api:pledge-detail",
        kwargs=pk("pledge"),
        default=200,
        team_leader=404,  # another member's pledge
        **UNSEEN,
        **API,
    ),
    case(
        "api:pledge-report-kept",
        "POST",
        kwargs=pk("pledge"),
        data=lambda w: {"evidence": "服务记录24次"},
        default=403,
        volunteer=200,
        team_leader=404,
        community_staff=403,
        **UNSEEN,
        **API,
    ),
    case(
        "api:pledge-confirm",
        "POST",
        kwargs=pk("kept_pledge"),
        default=200,
        inspector=403,
        volunteer=404,
        team_leader=403,  # their own pledge: the community confirms it
        community_staff=200,
        **UNSEEN,
        **API,
    ),
    case(
        "api:pledge-not-kept",
        "POST",
        kwargs=pk("pledge"),
        data=lambda w: {"reason": "未完成"},
        default=200,
        inspector=403,
        volunteer=403,
        team_leader=404,
        community_staff=200,
        **UNSEEN,
        **API,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_communities_api_permissions(c, role, cworld, client, api_as):
    run_case(c, role, cworld, client, api_as)
