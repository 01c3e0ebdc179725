"""The scope kept between requests: reused while nothing changed, never used after a change,
never shared while resting on a change that has not committed."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.scoping import get_user_scope
from apps.organizations import services
from apps.organizations.models import Membership, OrganizationRole, RoleKind

# Real commits: a change starts a new generation when it commits, not before.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _shared_scope_cache(settings):
    settings.SCOPE_CACHE_SECONDS = 300


def _fresh(user):
    """The same account as a new request would load it (no scope on the object yet)."""
    return get_user_model().objects.get(pk=user.pk)


def _role_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        get_user_scope(_fresh(user))
    return sum(
        "organizations_organizationrole" in q["sql"] or "organizations_membership" in q["sql"]
        for q in queries.captured_queries
    )


def test_a_second_request_reads_the_scope_from_the_cache(branch_secretary, tree):
    first = get_user_scope(_fresh(branch_secretary))
    assert first.manage_paths == (tree.branch.path,)
    assert _role_queries(branch_secretary) == 0
    assert get_user_scope(_fresh(branch_secretary)) == first


def test_a_granted_role_is_seen_on_the_next_request(branch_secretary, city_admin, tree):
    assert get_user_scope(_fresh(branch_secretary)).manage_paths == (tree.branch.path,)
    services.organization_role_grant(
        actor=city_admin, user=branch_secretary, organization=tree.street, kind=RoleKind.SECRETARY
    )
    assert _role_queries(branch_secretary) > 0
    assert get_user_scope(_fresh(branch_secretary)).manage_paths == (tree.street.path,)


def test_an_ended_role_is_gone_on_the_next_request(branch_secretary, city_admin, tree):
    assert get_user_scope(_fresh(branch_secretary)).can_manage_any
    role = OrganizationRole.objects.get(user=branch_secretary, organization=tree.branch)
    services.organization_role_end(actor=city_admin, role=role)
    scope = get_user_scope(_fresh(branch_secretary))
    assert not scope.can_manage_any
    assert scope.view_paths == ()


def test_a_role_deleted_behind_the_services_is_gone_too(branch_secretary, tree):
    assert get_user_scope(_fresh(branch_secretary)).can_manage_any
    OrganizationRole.objects.get(user=branch_secretary).delete()
    assert not get_user_scope(_fresh(branch_secretary)).can_manage_any


def test_an_ended_membership_is_gone_on_the_next_request(volunteer, city_admin, tree):
    assert get_user_scope(_fresh(volunteer)).member_organization_ids == (tree.branch.pk,)
    membership = Membership.objects.get(user=volunteer)
    services.membership_end(actor=city_admin, membership=membership, reason="转出")
    assert get_user_scope(_fresh(volunteer)).member_organization_ids == ()


def test_a_deactivated_organisation_drops_out_of_the_scope(branch_secretary, tree):
    assert get_user_scope(_fresh(branch_secretary)).can_manage_any
    tree.branch.is_active = False
    tree.branch.save()
    assert not get_user_scope(_fresh(branch_secretary)).can_manage_any


def test_becoming_a_superuser_is_seen_at_once(volunteer):
    assert not get_user_scope(_fresh(volunteer)).is_city_admin
    get_user_model().objects.filter(pk=volunteer.pk).update(is_superuser=True)
    assert get_user_scope(_fresh(volunteer)).is_city_admin


def test_a_scope_computed_before_a_change_is_not_kept(branch_secretary, city_admin, tree):
    """A request that read the roles before another one's change committed stores its scope
    under the old generation, so it is not used afterwards."""
    from apps.core import scoping

    user = _fresh(branch_secretary)
    generation_before = scoping.cache.get(scoping._GENERATION_KEY)
    stale = scoping.import_string(scoping.settings.PLATFORM_SCOPE_PROVIDER)(user)
    services.organization_role_grant(
        actor=city_admin, user=branch_secretary, organization=tree.street, kind=RoleKind.SECRETARY
    )
    # the slow request lands its scope now, under the generation it read first
    scoping.cache.set(scoping._shared_key(user), (generation_before, scoping.asdict(stale)), 300)
    assert get_user_scope(_fresh(branch_secretary)).manage_paths == (tree.street.path,)


def test_an_account_reusing_an_id_does_not_inherit_a_scope(branch_secretary, tree):
    """Keys carry the account's creation time: another account with the same id (a restored
    database, SQLite reusing ids) does not match."""
    from apps.core import scoping

    user = _fresh(branch_secretary)
    get_user_scope(user)
    other = _fresh(branch_secretary)
    other.date_joined = other.date_joined.replace(year=other.date_joined.year - 1)
    assert scoping._shared_key(other) != scoping._shared_key(user)


def test_a_scope_resting_on_a_rolled_back_change_is_never_shared(
    branch_secretary, city_admin, tree
):
    from django.db import transaction

    assert get_user_scope(_fresh(branch_secretary)).manage_paths == (tree.branch.path,)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.organization_role_grant(
            actor=city_admin,
            user=branch_secretary,
            organization=tree.street,
            kind=RoleKind.SECRETARY,
        )
        # the transaction that made the change sees it …
        assert get_user_scope(_fresh(branch_secretary)).manage_paths == (tree.street.path,)
        raise RuntimeError("rolled back")
    # … and once it is rolled back, nobody does.
    assert get_user_scope(_fresh(branch_secretary)).manage_paths == (tree.branch.path,)
    assert _role_queries(branch_secretary) == 0
