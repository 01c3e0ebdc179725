import pytest

from apps.core.tests.matrix import case, parametrize, run_case
from apps.organizations.models import PartyOrganization


def branch(world):
    return {"pk": world.tree.branch.pk}


def edit_data(world):
    return {"name": "桂园社区党支部（改）", "code": "T-GY", "kind": "branch", "is_active": "on"}


# The dashboard is for people holding an organisation role; plain volunteers get 403. Someone
# with a role elsewhere in the tree gets 404 for what lies outside their subtree.
CASES = [
    case("dashboard:index", default=200, anonymous=302, outsider=403, volunteer=403),
    case(
        "dashboard:organization-detail",
        kwargs=branch,
        default=200,
        anonymous=302,
        outsider=403,
        volunteer=403,
        other_branch_secretary=404,
    ),
    case(
        "dashboard:organization-edit",
        kwargs=branch,
        default=200,
        anonymous=302,
        outsider=403,
        volunteer=403,
        inspector=403,
        other_branch_secretary=404,
    ),
    case(
        "dashboard:organization-edit",
        "POST",
        kwargs=branch,
        data=edit_data,
        default=302,
        anonymous=302,
        outsider=403,
        volunteer=403,
        inspector=403,
        other_branch_secretary=404,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_dashboard_permissions(c, role, world, client, api_as):
    run_case(c, role, world, client, api_as)
    changed = PartyOrganization.objects.get(pk=world.tree.branch.pk).name != "桂园社区党支部"
    assert changed == (c.method == "POST" and role in {"branch_secretary", "city_admin"})
