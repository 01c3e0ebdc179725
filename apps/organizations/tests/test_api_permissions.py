import pytest

from apps.core.tests.matrix import case, parametrize, run_case
from apps.organizations.models import OrganizationRole


def branch(world):
    return {"pk": world.tree.branch.pk}


def membership(world):
    return {"pk": world.volunteer_membership.pk}


def role(world):
    return {"pk": world.secretary_role.pk}


API = {"api": True}
# DRF answers anonymous requests with 403 (session authentication has no challenge to offer).
CASES = [
    case("api:api-root", default=200, anonymous=403, **API),
    case("api:me", default=200, anonymous=403, **API),
    case("api:organization-list", default=200, anonymous=403, **API),
    case(
        "api:organization-list",
        "POST",
        data=lambda w: {
            "name": "新支部",
            "code": "T-NEW",
            "kind": "branch",
            "parent": w.tree.branch.pk,
        },
        default=403,
        # Someone who manages another branch may create, but not under a branch they cannot see.
        other_branch_secretary=400,
        branch_secretary=201,
        city_admin=201,
        **API,
    ),
    # A member sees their own organisation; other branches' people do not.
    case(
        "api:organization-detail",
        kwargs=branch,
        default=200,
        anonymous=403,
        outsider=404,
        community_staff=404,  # works for a community, not a member of the branch
        other_branch_secretary=404,
        **API,
    ),
    case(
        "api:organization-detail",
        "PATCH",
        kwargs=branch,
        data=lambda w: {"contact_phone": "027-88886666"},
        default=200,
        anonymous=403,
        outsider=404,
        community_staff=404,
        other_branch_secretary=404,
        volunteer=403,
        inspector=403,
        **API,
    ),
    case("api:membership-list", default=200, anonymous=403, **API),
    case(
        "api:membership-list",
        "POST",
        data=lambda w: {
            "user": w.cast.outsider.pk,
            "organization": w.tree.branch.pk,
            "category": "full",
            "employment": "employed",
        },
        # The outsider is nobody's member yet, so only the city's administrators can see them.
        default=403,
        branch_secretary=400,
        other_branch_secretary=400,
        city_admin=201,
        **API,
    ),
    case(
        "api:membership-detail",
        kwargs=membership,
        default=200,
        anonymous=403,
        outsider=404,
        team_leader=404,  # another member's membership
        community_staff=404,
        other_branch_secretary=404,
        **API,
    ),
    case(
        "api:membership-end",
        "POST",
        kwargs=membership,
        data=lambda w: {"reason": "组织关系转出"},
        default=200,
        anonymous=403,
        outsider=404,
        team_leader=404,
        community_staff=404,
        other_branch_secretary=404,
        volunteer=403,
        inspector=403,
        **API,
    ),
    case("api:organization-role-list", default=200, anonymous=403, **API),
    case(
        "api:organization-role-list",
        "POST",
        data=lambda w: {
            "user": w.cast.volunteer.pk,
            "organization": w.tree.branch.pk,
            "kind": "admin",
        },
        default=403,
        # Someone who manages another branch may create, but not under a branch they cannot see.
        other_branch_secretary=400,
        branch_secretary=201,
        city_admin=201,
        **API,
    ),
    case(
        "api:organization-role-detail",
        kwargs=role,
        default=200,
        anonymous=403,
        outsider=404,
        volunteer=404,
        other_branch_secretary=404,
        **API,
    ),
    case(
        "api:organization-role-end",
        "POST",
        kwargs=role,
        default=200,
        anonymous=403,
        outsider=404,
        volunteer=404,
        other_branch_secretary=404,
        inspector=403,
        **API,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_api_permissions(c, role, world, client, api_as):
    run_case(c, role, world, client, api_as)


def test_role_end_through_the_api_really_ends_it(world, api_as):
    api = api_as(world.cast.city_admin)
    assert api.post(f"/api/v1/organization-roles/{world.secretary_role.pk}/end/").status_code == 200
    assert OrganizationRole.objects.get(pk=world.secretary_role.pk).ended_on is not None
