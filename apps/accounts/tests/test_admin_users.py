"""Staff manage people below them, never people whose reach is wider than their own."""

from apps.core.models import AuditEntry
from apps.organizations.models import RoleKind
from apps.organizations.tests.factories import MembershipFactory, OrganizationRoleFactory


def test_secretary_cannot_touch_a_wider_role_holder_in_their_branch(
    client_as, tree, branch_secretary, city_admin
):
    # The city administrator happens to be a member of the secretary's branch.
    MembershipFactory(user=city_admin, organization=tree.branch)
    client = client_as(branch_secretary)
    password_url = f"/admin/accounts/user/{city_admin.pk}/password/"
    assert client.get(password_url).status_code == 403
    response = client.post(
        password_url, {"password1": "Taken-over-2026", "password2": "Taken-over-2026"}
    )
    assert response.status_code == 403
    response = client.post(
        f"/admin/accounts/user/{city_admin.pk}/change/",
        {"username": city_admin.username, "real_name": "x", "political_status": "masses"},
    )
    assert response.status_code == 403
    city_admin.refresh_from_db()
    assert city_admin.check_password("secret-pass-123") and city_admin.is_active


def test_superusers_are_never_managed_by_secretaries(client_as, tree, branch_secretary, volunteer):
    volunteer.is_superuser = True
    volunteer.save(update_fields=["is_superuser"])
    response = client_as(branch_secretary).get(f"/admin/accounts/user/{volunteer.pk}/password/")
    assert response.status_code == 403


def test_secretary_resets_a_members_password_and_it_is_audited(
    client_as, tree, branch_secretary, volunteer
):
    response = client_as(branch_secretary).post(
        f"/admin/accounts/user/{volunteer.pk}/password/",
        {"password1": "Reset-by-secretary-1", "password2": "Reset-by-secretary-1"},
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.check_password("Reset-by-secretary-1")
    entry = AuditEntry.objects.get(action="user.update", target_id=str(volunteer.pk))
    assert entry.actor == branch_secretary
    assert "Reset-by-secretary-1" not in str(entry.details)


def test_a_peer_secretary_of_the_same_branch_is_manageable(client_as, tree, branch_secretary):
    deputy = MembershipFactory(organization=tree.branch).user
    OrganizationRoleFactory(user=deputy, organization=tree.branch, kind=RoleKind.DEPUTY_SECRETARY)
    response = client_as(branch_secretary).get(f"/admin/accounts/user/{deputy.pk}/change/")
    assert response.status_code == 200
    assert response.context["has_change_permission"] is True


def test_replacing_an_id_number_in_the_admin_validates_it(client_as, tree, city_admin, volunteer):
    old = volunteer.id_number
    response = client_as(city_admin).post(
        f"/admin/accounts/user/{volunteer.pk}/change/",
        {
            "username": volunteer.username,
            "real_name": volunteer.real_name,
            "political_status": volunteer.political_status,
            "phone": volunteer.phone,
            "id_number": "123",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["id_number"]
    volunteer.refresh_from_db()
    assert volunteer.id_number == old
