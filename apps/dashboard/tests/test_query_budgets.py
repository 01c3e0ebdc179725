"""List pages, API lists and admin change lists: the number of queries does not grow with rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.organizations.tests.factories import MembershipFactory, PartyOrganizationFactory


def _grow(tree, rows):
    """Add ``rows`` branches under the street, each with two members."""
    for _ in range(rows):
        branch = PartyOrganizationFactory(parent=tree.street)
        MembershipFactory.create_batch(2, organization=branch)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# Every signed-in request costs 7 queries before the page's own: session read, user, the user's
# scope (roles, memberships), and the session write that renews the idle timeout (a savepoint,
# an UPDATE and its release).
REQUEST = 7


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        # count, one page of organisations with member counts
        ("/dashboard/", REQUEST + 2),
        # count, one page (parents referenced by id)
        ("/api/v1/organizations/", REQUEST + 2),
        # filtered and total counts, 2 permission look-ups by the admin's sidebar, the page
        ("/admin/organizations/partyorganization/", REQUEST + 5),
        # as above, plus the date hierarchy's range and year list
        ("/admin/organizations/membership/", REQUEST + 7),
        ("/admin/accounts/user/", REQUEST + 5),
    ],
)
def test_list_queries_stay_constant(client_as, tree, city_admin, url, budget):
    client = client_as(city_admin)
    _grow(tree, 10)
    small = _count(client, url)
    _grow(tree, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"
    assert large == budget, f"{url}: {large} queries, budget {budget}"


def test_organisation_detail_queries_stay_constant(client_as, tree, city_admin):
    client = client_as(city_admin)
    url = f"/dashboard/organizations/{tree.street.pk}/"
    MembershipFactory.create_batch(10, organization=tree.street)
    _grow(tree, 5)
    small = _count(client, url)
    MembershipFactory.create_batch(90, organization=tree.street)
    _grow(tree, 45)
    assert _count(client, url) == small
