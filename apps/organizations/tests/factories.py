import factory

from apps.accounts.tests.factories import UserFactory
from apps.organizations.models import (
    Membership,
    OrganizationKind,
    OrganizationRole,
    PartyOrganization,
    RoleKind,
)


class PartyOrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyOrganization

    name = factory.Sequence(lambda n: f"第{n}党支部")
    code = factory.Sequence(lambda n: f"ORG{n:05d}")
    kind = OrganizationKind.BRANCH
    parent = None


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(PartyOrganizationFactory)


class OrganizationRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationRole

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(PartyOrganizationFactory)
    kind = RoleKind.SECRETARY
