"""The certificate API and admin pages for every role (objects from ``cworld``).

Deciding (issue, refuse, revoke) is the issuing organisation's: the branch's secretary and the
city's administrators; the inspector and the volunteer see the certificate but get 403; a
volunteer never decides on their own. Asking is for oneself, and needs approved service
recorded by the issuer (others get 400 with the reason).
"""

import pytest

from apps.core.tests.matrix import (
    OUTSIDE_ADMIN,
    admin_url,
    case,
    parametrize,
    run_case,
    scoped_admin_cases,
)
from apps.service_records.models import Certificate, IssuerProfile
from apps.service_records.tests.certificate_fixtures import cworld  # noqa: F401

ADMIN_MODELS = {Certificate, IssuerProfile}
API = {"api": True}
SEES = {
    "default": 404,
    "anonymous": 403,
    "volunteer": 200,
    "team_leader": 404,
    "community_staff": 404,
    "inspector": 200,
    "branch_secretary": 200,
    "city_admin": 200,
}
DECIDES = {**SEES, "volunteer": 403, "inspector": 403}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def _march(w):
    return {"issuer": w.tree.branch.pk, "period_start": "2025-03-01", "period_end": "2025-03-31"}


API_CASES = [
    case("api:certificate-list", default=200, anonymous=403, **API),
    case(
        "api:certificate-list",
        "POST",
        data=_march,
        default=400,  # no approved service of theirs recorded by the branch
        anonymous=403,
        volunteer=201,
        team_leader=400,
        community_staff=400,
        **API,
    ),
    case("api:certificate-detail", kwargs=pk("issued"), **SEES, **API),
    case("api:certificate-issue", "POST", kwargs=pk("requested"), **DECIDES, **API),
    case(
        "api:certificate-reject",
        "POST",
        kwargs=pk("requested"),
        data=lambda w: {"reason": "时段不符"},
        **DECIDES,
        **API,
    ),
    case(
        "api:certificate-revoke",
        "POST",
        kwargs=pk("issued"),
        data=lambda w: {"reason": "记录有误"},
        **DECIDES,
        **API,
    ),
    case("api:certificate-pdf", kwargs=pk("issued"), **SEES, **API),
]


def _certificate_admin_cases():
    obj = lambda w: {"object_id": w.issued.pk}  # noqa: E731
    in_tree = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
    return [
        case(admin_url(Certificate, "changelist"), default=200, **OUTSIDE_ADMIN),
        # requests come from the portal, bulk issue from its own page
        case(admin_url(Certificate, "add"), default=403, **OUTSIDE_ADMIN),
        case(admin_url(Certificate, "change"), kwargs=obj, **in_tree),
        # certificates are kept on file
        case(
            admin_url(Certificate, "delete"),
            kwargs=obj,
            default=403,
            other_branch_secretary=404,
            **OUTSIDE_ADMIN,
        ),
        case(admin_url(Certificate, "history"), kwargs=obj, **in_tree),
        case(
            "admin:service_records_certificate_bulk_issue",
            default=200,
            inspector=403,
            **OUTSIDE_ADMIN,
        ),
    ]


ADMIN_CASES = [
    *_certificate_admin_cases(),
    *scoped_admin_cases(IssuerProfile, lambda w: w.profile),
]

CASES = API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_certificate_api_and_admin_permissions(c, role, cworld, client, api_as):  # noqa: F811
    run_case(c, role, cworld, client, api_as)
