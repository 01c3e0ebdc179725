"""Certificate pages for every role (objects from ``cworld``, see certificate_fixtures).

The PDF opens for the volunteer and for those who see the issuing organisation (the branch's
secretary, the district's inspector, the city); everyone else gets 404, and so does everyone for
a certificate that is not issued. The verification page is public.
"""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case
from apps.service_records.tests.certificate_fixtures import cworld  # noqa: F401

SIGNED_IN = {"default": 200, "anonymous": 302}
PDF = {
    "default": 404,
    "anonymous": 302,
    "volunteer": 200,
    "team_leader": 404,
    "community_staff": 404,
    "inspector": 200,
    "branch_secretary": 200,
    "city_admin": 200,
}
PUBLIC = {"anonymous_to_login": False}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def token(attribute):
    return lambda w: {"token": getattr(w, attribute).verification_token}


CASES = [
    case("portal:certificate-list", **SIGNED_IN),
    case("portal:certificate-request", **SIGNED_IN),
    case(
        "portal:certificate-request",
        "POST",
        # the January request is open already: the form comes back with the message
        data=lambda w: {
            "issuer": w.tree.branch.pk,
            "period_start": "2025-01-01",
            "period_end": "2025-01-31",
        },
        **SIGNED_IN,
    ),
    case("portal:certificate-pdf", kwargs=pk("issued"), **PDF),
    case("portal:certificate-pdf", kwargs=pk("requested"), default=404, anonymous=302),
    case("portal:certificate-pdf", kwargs=pk("revoked"), default=404, anonymous=302),
    case("portal:certificate-verify", kwargs=token("issued"), default=200, **PUBLIC),
    case("portal:certificate-verify", kwargs=token("revoked"), default=200, **PUBLIC),
    case("portal:certificate-verify", kwargs=token("requested"), default=404, **PUBLIC),
    case(
        "portal:certificate-verify",
        kwargs=lambda w: {"token": "unknown-token"},
        default=404,
        **PUBLIC,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_certificate_page_permissions(c, role, cworld, client, api_as):  # noqa: F811
    run_case(c, role, cworld, client, api_as)
