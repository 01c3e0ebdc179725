import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.models import AuditEntry
from apps.organizations import services
from apps.organizations.models import Membership, OrganizationRole, RoleKind
from apps.organizations.tests.factories import MembershipFactory
from conftest import zh

SECOND_MEMBERSHIP = (
    "This person already has an active party membership. End it (transfer out) before adding "
    "another."
)


def test_second_active_membership_is_refused(tree, city_admin, volunteer):
    with pytest.raises(ValidationError) as error:
        services.membership_add(
            actor=city_admin,
            user=volunteer,
            organization=tree.sibling_branch,
            category="full",
            employment="employed",
        )
    assert error.value.messages == [zh(SECOND_MEMBERSHIP)]
    assert Membership.objects.filter(user=volunteer).count() == 1


def test_the_database_refuses_a_second_active_membership(tree, volunteer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=volunteer, organization=tree.sibling_branch)


def test_transfer_ends_one_membership_and_starts_another(tree, city_admin, volunteer):
    old = Membership.objects.get(user=volunteer)
    services.membership_end(actor=city_admin, membership=old, reason="组织关系转出")
    new = services.membership_add(
        actor=city_admin,
        user=volunteer,
        organization=tree.other_branch,
        category="full",
        employment="retired",
    )
    assert list(Membership.objects.active().filter(user=volunteer)) == [new]
    assert AuditEntry.objects.filter(action__in=["membership.end", "membership.add"]).count() == 2


def test_membership_outside_scope_is_refused(tree, branch_secretary, outsider):
    with pytest.raises(ValidationError) as error:
        services.membership_add(
            actor=branch_secretary,
            user=outsider,
            organization=tree.other_branch,
            category="full",
            employment="employed",
        )
    assert error.value.messages == [zh("You can only add members to organisations you manage.")]
    assert not Membership.objects.filter(user=outsider).exists()


def test_secretary_cannot_grant_a_role_above_their_subtree(tree, branch_secretary):
    before = OrganizationRole.objects.count()
    for organization in (tree.street, tree.city, tree.other_branch):
        with pytest.raises(ValidationError) as error:
            services.organization_role_grant(
                actor=branch_secretary,
                user=branch_secretary,
                organization=organization,
                kind=RoleKind.ADMIN,
            )
        assert error.value.messages == [
            zh("You can only grant roles on your own organisation and the organisations below it.")
        ]
    assert OrganizationRole.objects.count() == before


def test_inspector_cannot_grant_roles(tree, inspector, volunteer):
    with pytest.raises(ValidationError):
        services.organization_role_grant(
            actor=inspector, user=volunteer, organization=tree.branch, kind=RoleKind.SECRETARY
        )
    assert not OrganizationRole.objects.filter(user=volunteer).exists()


def test_secretary_grants_within_subtree_and_it_is_audited(tree, branch_secretary, volunteer):
    role = services.organization_role_grant(
        actor=branch_secretary,
        user=volunteer,
        organization=tree.branch,
        kind=RoleKind.DEPUTY_SECRETARY,
    )
    assert role.granted_by == branch_secretary
    entry = AuditEntry.objects.get(action="organization_role.grant")
    assert entry.actor == branch_secretary and entry.target_id == str(role.pk)


def test_same_role_twice_is_refused(tree, city_admin, branch_secretary):
    with pytest.raises(ValidationError) as error:
        services.organization_role_grant(
            actor=city_admin,
            user=branch_secretary,
            organization=tree.branch,
            kind=RoleKind.SECRETARY,
        )
    assert zh("This person already holds this role here.") in error.value.messages


def test_ended_roles_no_longer_reach_anything(tree, city_admin, branch_secretary, client_as):
    role = OrganizationRole.objects.get(user=branch_secretary)
    services.organization_role_end(actor=city_admin, role=role)
    response = client_as(branch_secretary).get(f"/dashboard/organizations/{tree.branch.pk}/edit/")
    assert response.status_code == 403


def test_membership_factory_builds_one_active_membership(tree):
    membership = MembershipFactory(organization=tree.branch)
    assert membership.is_active
