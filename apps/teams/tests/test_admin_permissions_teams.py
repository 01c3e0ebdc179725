"""The team pages of the admin, for every role (see apps/core/tests/test_admin_permissions.py)."""

import pytest

from apps.core.tests.matrix import OUTSIDE_ADMIN, case, parametrize, run_case, scoped_admin_cases
from apps.teams.models import FamilyGroup, Team, TeamMembership

OUTSIDE_SITE = OUTSIDE_ADMIN
OBJECTS = {
    Team: lambda w: w.team,
    TeamMembership: lambda w: w.leader_membership,
    FamilyGroup: lambda w: w.family_group,
}
# Ended, not deleted: only the city's administrators delete teams and memberships.
CITY_DELETES = {Team, TeamMembership}
# Joining happens by application or invitation, never by adding a row in the admin.
NO_ADD = {TeamMembership}

ADMIN_MODELS = set(OBJECTS)


def _cases(model, getter):
    add = {"default": 403} if model in NO_ADD else None
    return scoped_admin_cases(model, getter, add=add, city_deletes=model in CITY_DELETES)


CASES = [c for model, getter in OBJECTS.items() for c in _cases(model, getter)] + [
    case("admin:app_list", kwargs=lambda w: {"app_label": "teams"}, default=200, **OUTSIDE_SITE),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_team_admin_permissions(c, role, teams_world, client, api_as):
    run_case(c, role, teams_world, client, api_as)
