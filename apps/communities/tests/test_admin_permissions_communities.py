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
from apps.core.tests.matrix import OUTSIDE_ADMIN, parametrize, run_case, scoped_admin_cases

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
OUTSIDE_SITE = OUTSIDE_ADMIN

ADMIN_MODELS = set(OBJECTS)


def _cases(model, getter):
    add = {"default": 403} if model in WORKFLOW else None
    return scoped_admin_cases(model, getter, add=add, city_deletes=model in CITY_DELETES)


CASES = [c for model, getter in OBJECTS.items() for c in _cases(model, getter)]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_communities_admin_permissions(c, role, cworld, client, api_as):
    run_case(c, role, cworld, client, api_as)
