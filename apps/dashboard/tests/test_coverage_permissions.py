"""Who may open the coverage board, its drill-downs and its export."""

import pytest

from apps.care.coverage import INDICATORS as CARE_INDICATORS
from apps.communities.coverage import MEMBERS_UNREPORTED, TEAMS_UNPAIRED
from apps.core.models import AuditEntry
from apps.core.tests.matrix import case, parametrize, run_case


def branch_members(world):
    return {"pk": world.tree.branch.pk, "indicator": MEMBERS_UNREPORTED}


def branch_teams(world):
    return {"pk": world.tree.branch.pk, "indicator": TEAMS_UNPAIRED}


def branch_care(indicator):
    def kwargs(world):
        return {"pk": world.tree.branch.pk, "indicator": indicator}

    return kwargs


def branch(world):
    return {"pk": world.tree.branch.pk}


# Organisation staff only: volunteers, team leaders and community staff get 403; a secretary
# elsewhere in the tree gets 404 for the branch, which lies outside their subtree.
STAFF = {"anonymous": 302, "outsider": 403, "volunteer": 403}

CASES = [
    case("dashboard:coverage", default=200, **STAFF),
    case("dashboard:coverage", "POST", default=405, anonymous=302),
    case(
        "dashboard:coverage-drilldown",
        kwargs=branch_members,
        default=200,
        other_branch_secretary=404,
        **STAFF,
    ),
    case(
        "dashboard:coverage-drilldown",
        kwargs=branch_teams,
        default=200,
        other_branch_secretary=404,
        **STAFF,
    ),
    *[
        case(
            "dashboard:coverage-drilldown",
            kwargs=branch_care(indicator),
            default=200,
            other_branch_secretary=404,
            **STAFF,
        )
        for indicator in CARE_INDICATORS
    ],
    case(
        "dashboard:coverage-export",
        kwargs=branch,
        default=200,
        other_branch_secretary=404,
        **STAFF,
    ),
    case("dashboard:coverage-export", "POST", kwargs=branch, default=405, anonymous=302),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_coverage_permissions(c, role, world, client, api_as):
    response = run_case(c, role, world, client, api_as)
    exported = AuditEntry.objects.filter(action="coverage.export").exists()
    assert exported == (c.url_name == "dashboard:coverage-export" and response.status_code == 200)
