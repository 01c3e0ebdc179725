import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.organizations import services
from apps.organizations.models import PartyOrganization
from apps.organizations.tests.factories import PartyOrganizationFactory
from conftest import zh


def _paths():
    return dict(PartyOrganization.objects.values_list("code", "path"))


def test_paths_follow_the_tree(tree):
    assert tree.city.path == f"/{tree.city.pk}/"
    assert tree.branch.path == f"{tree.street.path}{tree.branch.pk}/"
    assert (tree.city.depth, tree.district.depth, tree.branch.depth) == (1, 2, 4)


def test_subtree_is_one_indexed_query(tree):
    with CaptureQueriesContext(connection) as queries:
        codes = set(
            PartyOrganization.objects.subtree_of(tree.district).values_list("code", flat=True)
        )
    assert codes == {"T-DH", "T-DH-JD", "T-GY", "T-HB"}
    assert len(queries) == 1
    assert "LIKE" in queries[0]["sql"].upper()


def test_moving_an_organisation_moves_its_subtree(tree, city_admin):
    deep = PartyOrganizationFactory(code="T-GY-1", parent=tree.branch)
    tree.street.parent = tree.other_district
    services.organization_save(actor=city_admin, organization=tree.street)
    for org in (tree.street, tree.branch, tree.sibling_branch, deep):
        org.refresh_from_db()
    assert tree.street.path == f"{tree.other_district.path}{tree.street.pk}/"
    assert tree.branch.path == f"{tree.street.path}{tree.branch.pk}/"
    assert deep.path == f"{tree.branch.path}{deep.pk}/"
    assert deep.depth == 5
    assert set(
        PartyOrganization.objects.subtree_of(tree.other_district).values_list("code", flat=True)
    ) == {
        "T-XS",
        "T-TX",
        "T-DH-JD",
        "T-GY",
        "T-HB",
        "T-GY-1",
    }
    assert not PartyOrganization.objects.subtree_of(tree.district, include_self=False).exists()


@pytest.mark.parametrize("new_parent", ["self", "child", "grandchild"])
def test_an_organisation_cannot_become_its_own_ancestor(tree, city_admin, new_parent):
    before = _paths()
    district = PartyOrganization.objects.get(pk=tree.district.pk)
    district.parent = {"self": tree.district, "child": tree.street, "grandchild": tree.branch}[
        new_parent
    ]
    with pytest.raises(ValidationError) as error:
        services.organization_save(actor=city_admin, organization=district)
    expected = (
        "An organisation cannot be its own parent."
        if new_parent == "self"
        else "An organisation cannot be placed under one of its own sub-organisations."
    )
    assert error.value.message_dict["parent"] == [zh(expected)]
    assert _paths() == before


def test_duplicate_code_is_refused(tree, city_admin):
    clash = PartyOrganization(name="重复", code=tree.branch.code, kind="branch", parent=tree.street)
    with pytest.raises(ValidationError) as error:
        services.organization_save(actor=city_admin, organization=clash)
    assert error.value.message_dict["code"] == [zh("Another organisation already uses this code.")]
    assert PartyOrganization.objects.filter(code=tree.branch.code).count() == 1


def test_a_secretary_cannot_create_or_move_outside_their_subtree(tree, branch_secretary):
    before = _paths()
    outside = PartyOrganization(name="越权", code="T-X", kind="branch", parent=tree.other_branch)
    with pytest.raises(ValidationError) as error:
        services.organization_save(actor=branch_secretary, organization=outside)
    assert error.value.messages == [
        zh(
            "You can only place organisations under your own organisation or the "
            "organisations below it."
        )
    ]
    branch = PartyOrganization.objects.get(pk=tree.branch.pk)
    branch.parent = tree.other_district
    with pytest.raises(ValidationError):
        services.organization_save(actor=branch_secretary, organization=branch)
    assert _paths() == before


def test_a_secretary_may_add_below_their_branch_and_edit_it(tree, branch_secretary):
    group = PartyOrganization(name="第一党小组", code="T-GY-G1", kind="other", parent=tree.branch)
    services.organization_save(actor=branch_secretary, organization=group)
    assert group.path == f"{tree.branch.path}{group.pk}/"
    branch = PartyOrganization.objects.get(pk=tree.branch.pk)
    branch.name = "桂园社区第一党支部"
    services.organization_save(actor=branch_secretary, organization=branch)
    assert PartyOrganization.objects.get(pk=tree.branch.pk).name == "桂园社区第一党支部"
