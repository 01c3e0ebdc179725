"""The API refuses bad input with a clear message and leaves the database as it was."""

from apps.organizations.models import Membership, OrganizationRole, PartyOrganization
from conftest import zh


def _snapshot():
    return (
        list(PartyOrganization.objects.order_by("pk").values_list("pk", "name", "code", "path")),
        Membership.objects.count(),
        OrganizationRole.objects.count(),
    )


def test_list_is_scoped_and_counts_members(api_as, tree, branch_secretary, volunteer):
    response = api_as(branch_secretary).get("/api/v1/organizations/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["name"], row["active_member_count"]) for row in rows] == [("桂园社区党支部", 2)]


def test_create_with_missing_and_wrong_fields(api_as, tree, city_admin):
    before = _snapshot()
    response = api_as(city_admin).post(
        "/api/v1/organizations/", {"code": "", "kind": "palace"}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"name", "code", "kind"}
    assert _snapshot() == before


def test_moving_under_own_descendant_is_refused(api_as, tree, city_admin):
    before = _snapshot()
    response = api_as(city_admin).patch(
        f"/api/v1/organizations/{tree.district.pk}/", {"parent": tree.branch.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["parent"] == [
        zh("An organisation cannot be placed under one of its own sub-organisations.")
    ]
    assert _snapshot() == before


def test_second_active_membership_through_the_api(api_as, tree, city_admin, volunteer):
    before = _snapshot()
    response = api_as(city_admin).post(
        "/api/v1/memberships/",
        {
            "user": volunteer.pk,
            "organization": tree.other_branch.pk,
            "category": "full",
            "employment": "employed",
        },
        format="json",
    )
    assert response.status_code == 400
    assert zh(
        "This person already has an active party membership. End it (transfer out) before "
        "adding another."
    ) in str(response.json())
    assert _snapshot() == before


def test_role_above_own_subtree_through_the_api(api_as, tree, branch_secretary):
    before = _snapshot()
    response = api_as(branch_secretary).post(
        "/api/v1/organization-roles/",
        {"user": branch_secretary.pk, "organization": tree.city.pk, "kind": "admin"},
        format="json",
    )
    # The city committee is not even visible to a branch secretary: an unknown object.
    assert response.status_code == 400
    assert "organization" in response.json()
    assert _snapshot() == before


def test_ending_a_membership_needs_a_reason(api_as, tree, branch_secretary, volunteer):
    membership = Membership.objects.get(user=volunteer)
    response = api_as(branch_secretary).post(
        f"/api/v1/memberships/{membership.pk}/end/", {}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    membership.refresh_from_db()
    assert membership.ended_on is None


def test_ending_twice_is_refused(api_as, tree, branch_secretary, volunteer):
    membership = Membership.objects.get(user=volunteer)
    api = api_as(branch_secretary)
    url = f"/api/v1/memberships/{membership.pk}/end/"
    assert api.post(url, {"reason": "转出"}, format="json").status_code == 200
    response = api.post(url, {"reason": "再次"}, format="json")
    assert response.status_code == 400
    assert zh("This membership has already ended.") in str(response.json())


def test_me_masks_the_id_number(api_as, volunteer):
    data = api_as(volunteer).get("/api/v1/me/").json()
    assert data["id_number_masked"] == volunteer.id_number_masked
    assert volunteer.id_number not in str(data)


def test_openapi_schema_describes_the_api(api_as, volunteer):
    response = api_as(volunteer).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/organizations/", "/api/v1/memberships/{id}/end/", "/api/v1/me/"} <= set(paths)
