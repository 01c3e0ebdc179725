"""The communities app's admin pages for every role.

The admin admits people holding an organisation role: the team leader and community staff (who
work on the portal) get 403 like volunteers. Residence reports, claims and pledges are created on
the portal and decided with list actions: nobody adds them here, their change pages are read
only, and only the city's administrators delete them (as they do staff appointments).
"""

import pytest

from apps.communities.models import (
    Community,
    CommunityStaff,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ServicePoint,
    TeamPairing,
)
from apps.core.tests.matrix import case, parametrize, run_case

OBJECTS = {
    Community: lambda w: w.community,
    CommunityStaff: lambda w: w.staff,
    ServicePoint: lambda w: w.service_point,
    TeamPairing: lambda w: w.pairing,
    ResidenceReport: lambda w: w.pending_report,
    Post: lambda w: w.post,
    PostClaim: lambda w: w.claim,
    Pledge: lambda w: w.pledge,
}
WORKFLOW = {ResidenceReport, PostClaim, Pledge}
CITY_DELETES = WORKFLOW | {CommunityStaff}
OUTSIDE_SITE = {"anonymous": 302, "outsider": 403, "volunteer": 403}

ADMIN_MODELS = set(OBJECTS)


def _url(model, action):
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}"


def _cases(model, getter):
    obj = lambda w: {"object_id": getter(w).pk}  # noqa: E731
    add = {"default": 403} if model in WORKFLOW else {"default": 200, "inspector": 403}
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


CASES = [c for model, getter in OBJECTS.items() for c in _cases(model, getter)]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_communities_admin_permissions(c, role, cworld, client, api_as):
    run_case(c, role, cworld, client, api_as)
