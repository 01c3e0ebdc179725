"""Two secretaries add the same person at the same moment: the database keeps one membership."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.organizations import services
from apps.organizations.models import Membership, OrganizationKind, OrganizationRole, RoleKind
from apps.organizations.tests.factories import PartyOrganizationFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_memberships_leave_exactly_one_active():
    city = PartyOrganizationFactory(code="C", kind=OrganizationKind.CITY_COMMITTEE)
    first = PartyOrganizationFactory(code="B1", parent=city)
    second = PartyOrganizationFactory(code="B2", parent=city)
    admin = UserFactory()
    OrganizationRole.objects.create(user=admin, organization=city, kind=RoleKind.ADMIN)
    person = UserFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def add(organization):
        try:
            barrier.wait(timeout=5)
            services.membership_add(
                actor=admin,
                user=person,
                organization=organization,
                category="full",
                employment="employed",
            )
            outcomes.append("added")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(org,)) for org in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes.count("added") == 1, outcomes
    assert Membership.objects.active().filter(user=person).count() == 1
