"""The team pages of the admin, for every role (see apps/core/tests/test_admin_permissions.py)."""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case
from apps.teams.models import FamilyGroup, Team, TeamMembership

OUTSIDE_SITE = {"anonymous": 302, "outsider": 403, "volunteer": 403}
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


def _url(model, action):
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}"


def _cases(model, getter):
    obj = lambda w: {"object_id": getter(w).pk}  # noqa: E731
    add = {"default": 403} if model in NO_ADD else {"default": 200, "inspector": 403}
    delete = {"branch_secretary": 403} if model in CITY_DELETES else {}
    return [
        case(_url(model, "changelist"), default=200, **OUTSIDE_SITE),
        case(_url(model, "add"), **add, **OUTSIDE_SITE),
        case(
            _url(model, "change"),
            kwargs=obj,
            default=200,
            other_branch_secretary=404,
            **OUTSIDE_SITE,
        ),
        case(
            _url(model, "delete"),
            kwargs=obj,
            default=200,
            inspector=403,
            other_branch_secretary=404,
            **delete,
            **OUTSIDE_SITE,
        ),
        case(
            _url(model, "history"),
            kwargs=obj,
            default=200,
            other_branch_secretary=404,
            **OUTSIDE_SITE,
        ),
    ]


CASES = [c for model, getter in OBJECTS.items() for c in _cases(model, getter)] + [
    case("admin:app_list", kwargs=lambda w: {"app_label": "teams"}, default=200, **OUTSIDE_SITE),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_team_admin_permissions(c, role, teams_world, client, api_as):
    run_case(c, role, teams_world, client, api_as)
