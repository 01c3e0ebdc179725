"""The team API: writes go through the services, bad input is refused with its message."""

import datetime

import pytest
from django.utils import timezone, translation

from apps.teams.models import Team, TeamMembership

pytestmark = pytest.mark.django_db


def post(api, url, data):
    with translation.override("en"):
        return api.post(url, data, format="json", HTTP_ACCEPT_LANGUAGE="en")


def text(response):
    return str(response.json())


def test_directory_lists_active_teams_with_counts_for_anyone(teams_world, api_as):
    w = teams_world
    Team.objects.filter(pk=w.other_team.pk).update(is_active=False)
    response = api_as(w.cast.outsider).get("/api/v1/teams/directory/?search=桂园")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == [w.team.name]
    # leader, community staff member, member
    assert rows[0]["active_member_count"] == 3
    assert rows[0]["pairing_count"] == 0


def test_team_create_and_patch_go_through_the_services(tree, team, branch_secretary, api_as):
    api = api_as(branch_secretary)
    response = post(
        api, "/api/v1/teams/", {"organization": tree.branch.pk, "name": "新队", "kind": "legal"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["active_member_count"] == 0
    response = post(
        api, "/api/v1/teams/", {"organization": tree.branch.pk, "name": team.name, "kind": "legal"}
    )
    assert response.status_code == 400
    assert "This organisation already has a team with this name." in text(response)
    assert Team.objects.filter(name=team.name).count() == 1


def test_a_leader_patching_another_team_gets_404_and_nothing_changes(teams_world, api_as):
    """Bad input from the issue: a leader editing another team (outside their scope)."""
    w = teams_world
    response = api_as(w.cast.team_leader).patch(
        f"/api/v1/teams/{w.other_team.pk}/", {"name": "改名"}, format="json"
    )
    assert response.status_code == 404
    assert Team.objects.get(pk=w.other_team.pk).name == "桃溪先锋志愿服务队"


def test_apply_invite_and_their_bad_input(teams_world, api_as):
    w = teams_world
    leader = api_as(w.cast.team_leader)
    response = post(leader, "/api/v1/team-memberships/", {"team": w.team.pk, "phone": "139"})
    assert response.status_code == 400
    assert "Nobody is registered with this mobile number." in text(response)
    response = post(leader, "/api/v1/team-memberships/", {"team": 999999})
    assert response.status_code == 400
    response = post(
        api_as(w.applicant), "/api/v1/team-memberships/", {"team": w.team.pk, "message": "再来"}
    )
    assert response.status_code == 400
    assert "You already belong to this team" in text(response)
    response = post(
        api_as(w.candidate),
        "/api/v1/team-memberships/",
        {"team": w.team.pk, "message": "长" * 256},
    )
    assert response.status_code == 400
    assert not TeamMembership.objects.filter(user=w.candidate).exists()


def test_decline_needs_a_reason_and_leave_needs_a_sensible_date(teams_world, api_as):
    w = teams_world
    response = post(
        api_as(w.cast.team_leader),
        f"/api/v1/team-memberships/{w.application.pk}/decline/",
        {"reason": " "},
    )
    assert response.status_code == 400
    assert "Please give a reason." in text(response)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = post(
        api_as(w.cast.community_staff),
        f"/api/v1/team-memberships/{w.staff_membership.pk}/leave/",
        {"left_on": tomorrow.isoformat()},
    )
    assert response.status_code == 400
    assert "The date of leaving cannot be in the future." in text(response)
    response = post(
        api_as(w.cast.community_staff),
        f"/api/v1/team-memberships/{w.staff_membership.pk}/leave/",
        {"left_on": "not a date"},
    )
    assert response.status_code == 400
    response = post(
        api_as(w.cast.team_leader),
        f"/api/v1/team-memberships/{w.leader_membership.pk}/leave/",
        {},
    )
    assert response.status_code == 400
    assert "The team leader cannot leave the team." in text(response)
    assert TeamMembership.objects.filter(team=w.team, status="active").count() == 3
    assert TeamMembership.objects.get(pk=w.application.pk).status == "applied"


def test_the_whole_journey_through_the_api(teams_world, api_as):
    w = teams_world
    volunteer = api_as(w.candidate)
    created = post(volunteer, "/api/v1/team-memberships/", {"team": w.team.pk})
    assert created.status_code == 201 and created.json()["status"] == "applied"
    pk = created.json()["id"]
    approved = post(api_as(w.cast.team_leader), f"/api/v1/team-memberships/{pk}/approve/", {})
    assert approved.json()["status"] == "active"
    left = post(volunteer, f"/api/v1/team-memberships/{pk}/leave/", {})
    assert left.status_code == 200 and left.json()["left_on"] == timezone.localdate().isoformat()
