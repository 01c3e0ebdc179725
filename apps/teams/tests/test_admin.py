"""The team admin saves through the services and turns their refusals into form errors."""

import pytest
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.teams.models import FamilyGroup, Team, TeamMembership

pytestmark = pytest.mark.django_db

INLINE = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "memberships-MIN_NUM_FORMS": "0",
    "memberships-MAX_NUM_FORMS": "1000",
}


def team_form(organization, **overrides):
    data = {
        "organization": organization.pk,
        "name": "法律服务队",
        "kind": "legal",
        "brand_name": "",
        "description": "",
        "founded_on": timezone.localdate().isoformat(),
        "contact_phone": "",
        **INLINE,
    }
    data.update(overrides)
    return data


def test_secretary_adds_a_team_through_the_service(tree, branch_secretary, client_as):
    client = client_as(branch_secretary)
    response = client.post("/admin/teams/team/add/", team_form(tree.branch))
    assert response.status_code == 302
    team = Team.objects.get(name="法律服务队")
    assert AuditEntry.objects.filter(action="team.create", target_id=str(team.pk)).exists()


def test_a_team_under_an_organisation_the_secretary_does_not_manage_is_a_form_error(
    tree, other_branch_secretary, client_as
):
    client = client_as(other_branch_secretary)
    response = client.post("/admin/teams/team/add/", team_form(tree.branch))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["organization"]
    assert not Team.objects.filter(name="法律服务队").exists()


def test_secretary_changes_a_team_and_the_change_is_audited(
    team, tree, branch_secretary, client_as
):
    client = client_as(branch_secretary)
    response = client.post(
        f"/admin/teams/team/{team.pk}/change/",
        team_form(tree.branch, name=team.name, brand_name="红心敲门"),
    )
    assert response.status_code == 302
    assert Team.objects.get(pk=team.pk).brand_name == "红心敲门"
    assert AuditEntry.objects.filter(action="team.update", target_id=str(team.pk)).exists()


def test_family_group_with_a_head_outside_the_team_is_a_form_error(teams_world, client_as):
    w = teams_world
    client = client_as(w.cast.branch_secretary)
    response = client.post(
        "/admin/teams/familygroup/add/",
        {"team": w.team.pk, "name": "李家", "head": w.applicant.pk},
    )
    assert response.status_code == 200
    assert FamilyGroup.objects.filter(name="李家").count() == 0
    response = client.post(
        "/admin/teams/familygroup/add/",
        {"team": w.team.pk, "name": "吴家", "head": w.cast.community_staff.pk},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert TeamMembership.objects.get(pk=w.staff_membership.pk).family_group.name == "吴家"


def test_the_approve_action(teams_world, client_as):
    w = teams_world
    client = client_as(w.cast.branch_secretary)
    response = client.post(
        "/admin/teams/teammembership/",
        {"action": "approve", "_selected_action": [w.application.pk]},
    )
    assert response.status_code == 302
    assert TeamMembership.objects.get(pk=w.application.pk).status == "active"


def test_admin_change_lists_queries_stay_constant(teams_world, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .fixtures import make_member

    w = teams_world
    client = client_as(w.cast.city_admin)

    def grow(rows):
        for i in range(rows):
            make_member(Team.objects.create(organization=w.tree.branch, name=f"队{i}-{rows}"))

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = ["/admin/teams/team/", "/admin/teams/teammembership/", "/admin/teams/familygroup/"]
    grow(10)
    small = [count(url) for url in urls]
    grow(90)
    assert [count(url) for url in urls] == small
