"""The admin shows a branch secretary exactly their subtree: lists, search, autocomplete."""

import json

from apps.organizations.models import OrganizationRole, PartyOrganization, RoleKind
from apps.organizations.tests.factories import OrganizationRoleFactory
from conftest import zh

ORGS = "/admin/organizations/partyorganization/"


def _changelist_names(response):
    return {obj.name for obj in response.context["cl"].result_list}


def test_changelist_shows_exactly_the_subtree(
    client_as, tree, branch_secretary, inspector, city_admin
):
    assert _changelist_names(client_as(branch_secretary).get(ORGS)) == {"桂园社区党支部"}
    assert _changelist_names(client_as(inspector).get(ORGS)) == {
        "东湖区委",
        "东湖街道党工委",
        "桂园社区党支部",
        "湖滨社区党支部",
    }
    assert len(_changelist_names(client_as(city_admin).get(ORGS))) == 7


def test_search_does_not_reach_outside_the_subtree(client_as, tree, branch_secretary):
    response = client_as(branch_secretary).get(ORGS, {"q": "西山"})
    assert _changelist_names(response) == set()
    response = client_as(branch_secretary).get("/admin/accounts/user/", {"q": "刘思远"})
    assert list(response.context["cl"].result_list) == []


def test_autocomplete_offers_only_visible_organisations(client_as, tree, branch_secretary):
    response = client_as(branch_secretary).get(
        "/admin/autocomplete/",
        {"app_label": "organizations", "model_name": "membership", "field_name": "organization"},
    )
    names = {item["text"] for item in json.loads(response.content)["results"]}
    assert names == {"桂园社区党支部"}


def test_foreign_key_choices_are_what_the_user_manages(client_as, tree, branch_secretary):
    response = client_as(branch_secretary).get("/admin/organizations/partyorganization/add/")
    parent_choices = response.context["adminform"].form.fields["parent"].queryset
    assert set(parent_choices.values_list("name", flat=True)) == {"桂园社区党支部"}


def test_read_only_role_sees_the_form_but_cannot_change(client_as, tree, inspector):
    client = client_as(inspector)
    url = f"{ORGS}{tree.branch.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    response = client.post(url, {"name": "改名", "code": "T-GY", "kind": "branch"})
    assert response.status_code == 403
    assert PartyOrganization.objects.get(pk=tree.branch.pk).name == "桂园社区党支部"


def test_granting_a_role_above_the_subtree_is_refused_with_a_message(
    client_as, tree, branch_secretary
):
    # Seeing the street (as an inspector) does not mean granting roles on it.
    OrganizationRoleFactory(
        user=branch_secretary, organization=tree.street, kind=RoleKind.INSPECTOR
    )
    before = OrganizationRole.objects.count()
    response = client_as(branch_secretary).post(
        "/admin/organizations/organizationrole/add/",
        {
            "user": branch_secretary.pk,
            "organization": tree.street.pk,
            "kind": RoleKind.ADMIN,
            "started_on": "2026-11-30",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["organization"] == [
        zh("You can only grant roles on your own organisation and the organisations below it.")
    ]
    assert OrganizationRole.objects.count() == before


def test_granting_a_role_on_an_invisible_organisation_is_refused(client_as, tree, branch_secretary):
    before = OrganizationRole.objects.count()
    response = client_as(branch_secretary).post(
        "/admin/organizations/organizationrole/add/",
        {"user": branch_secretary.pk, "organization": tree.city.pk, "kind": RoleKind.ADMIN},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["organization"]
    assert OrganizationRole.objects.count() == before


def test_secretary_moves_nothing_outside_through_the_admin(client_as, tree, branch_secretary):
    response = client_as(branch_secretary).post(
        f"{ORGS}{tree.branch.pk}/change/",
        {
            "name": "桂园社区党支部",
            "code": "T-GY",
            "kind": "branch",
            "parent": tree.other_district.pk,
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    # The parent of the secretary's own branch is not theirs to change: the field is read-only.
    assert response.status_code == 302
    tree.branch.refresh_from_db()
    assert tree.branch.parent_id == tree.street.pk


def test_admin_speaks_chinese(client_as, tree, city_admin):
    body = client_as(city_admin).get("/admin/").content.decode()
    assert zh("Party-member volunteer service · administration") in body
    assert zh("Party organisations") in body
    assert zh("Change password") in body  # Django's own admin strings, from its catalogue
    assert 'lang="zh-hans"' in body


def test_id_number_is_masked_in_the_admin(client_as, tree, city_admin, volunteer):
    body = (
        client_as(city_admin).get(f"/admin/accounts/user/{volunteer.pk}/change/").content.decode()
    )
    assert volunteer.id_number not in body
    assert volunteer.id_number_masked in body
