"""The portal's team pages: what they show, and every form refusing bad input."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from apps.accounts.models import ServiceCategory
from apps.communities.models import TeamPairing
from apps.teams.models import FamilyGroup, Team, TeamMembership
from apps.teams.tests.fixtures import make_member, make_volunteer, teams_world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    """Pages in English, so messages can be compared with their English source."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def content(response):
    return response.content.decode()


def test_directory_searches_by_name_and_category(teams_world, client_as, english):  # noqa: F811
    w = teams_world
    category = ServiceCategory.objects.get_or_create(code="elderly", defaults={"name": "助老"})[0]
    w.team.service_categories.add(category)
    client = client_as(w.cast.outsider)
    page = content(client.get(reverse("portal:team-list")))
    assert w.team.name in page and w.other_team.name in page
    page = content(client.get(reverse("portal:team-list"), {"category": "elderly"}))
    assert w.team.name in page and w.other_team.name not in page
    page = content(client.get(reverse("portal:team-list"), {"q": "桃溪"}))
    assert w.other_team.name in page and w.team.name not in page
    fragment = client.get(reverse("portal:team-list"), {"q": "桃溪"}, HTTP_HX_REQUEST="true")
    assert "<html" not in content(fragment) and w.other_team.name in content(fragment)


def test_team_page_shows_leader_members_and_pairings(
    teams_world,  # noqa: F811
    client_as,
    community,
):
    w = teams_world
    TeamPairing.objects.create(team=w.team, community=community)
    page = content(client_as(w.candidate).get(reverse("portal:team-detail", args=[w.team.pk])))
    assert w.cast.team_leader.real_name in page
    assert community.name in page
    assert w.tree.branch.name in page
    assert reverse("portal:team-apply", args=[w.team.pk]) in page
    assert reverse("portal:team-manage", args=[w.team.pk]) not in page


def test_apply_then_the_leader_approves(teams_world, client_as):  # noqa: F811
    w = teams_world
    client = client_as(w.candidate)
    response = client.post(reverse("portal:team-apply", args=[w.team.pk]), {"message": "会开车"})
    assert response.status_code == 302
    membership = TeamMembership.objects.get(user=w.candidate, team=w.team)
    assert membership.status == "applied"
    assert w.team.name in content(client.get(reverse("portal:my-teams")))
    client = client_as(w.cast.team_leader)
    page = content(client.get(reverse("portal:team-manage", args=[w.team.pk])))
    assert w.candidate.real_name in page
    client.post(reverse("portal:team-membership-approve", args=[membership.pk]))
    membership.refresh_from_db()
    assert membership.status == "active"


def test_apply_refusals_are_shown_and_nothing_is_saved(teams_world, client_as, english):  # noqa: F811
    w = teams_world
    pending = make_volunteer(status="pending")
    response = client_as(pending).post(reverse("portal:team-apply", args=[w.team.pk]), {})
    assert response.status_code == 200
    assert "Only registered volunteers whose registration has been approved" in content(response)
    response = client_as(w.candidate).post(
        reverse("portal:team-apply", args=[w.team.pk]), {"message": "长" * 256}
    )
    assert response.status_code == 200
    assert "Ensure this value has at most 255 characters" in content(response)
    assert not TeamMembership.objects.filter(user__in=[pending, w.candidate]).exists()


def test_manage_form_refusals(teams_world, client_as, english):  # noqa: F811
    w = teams_world
    client = client_as(w.cast.team_leader)
    before = list(TeamMembership.objects.order_by("pk").values())
    groups = FamilyGroup.objects.count()
    cases = [
        ("portal:team-invite", w.team.pk, {"phone": "13000000000"}, "Nobody is registered"),
        ("portal:team-invite", w.team.pk, {"phone": ""}, "This field is required."),
        (
            "portal:team-invite",
            w.team.pk,
            {"phone": w.cast.volunteer.phone},
            "already belongs to this team or has a pending application",
        ),
        (
            "portal:team-membership-decline",
            w.application.pk,
            {"reason": ""},
            "This field is required.",
        ),
        (
            "portal:team-membership-decline",
            w.application.pk,
            {"reason": "   "},
            "This field is required.",
        ),
        (
            "portal:team-membership-remove",
            w.member_membership.pk,
            {"reason": "长" * 256},
            "Ensure this value has at most 255 characters",
        ),
        (
            "portal:team-membership-remove",
            w.leader_membership.pk,
            {"reason": "调整"},
            "The team leader cannot be removed.",
        ),
        ("portal:team-family-create", w.team.pk, {"name": "", "head": ""}, "required"),
        (
            "portal:team-family-create",
            w.team.pk,
            {"name": "李家", "head": w.member.pk},
            "already belongs to a family group",
        ),
        (
            "portal:team-family-create",
            w.team.pk,
            {"name": "李家", "head": w.applicant.pk},
            "Select a valid choice.",
        ),
        (
            "portal:team-family-member-add",
            w.family_group.pk,
            {"user": w.member.pk},
            "already belongs to a family group",
        ),
        (
            "portal:team-membership-approve",
            w.member_membership.pk,
            {},
            "This application is no longer pending.",
        ),
        (
            "portal:team-deputy-revoke",
            w.member_membership.pk,
            {},
            "This person is not a deputy leader of the team.",
        ),
    ]
    for name, pk, data, message in cases:
        response = client.post(reverse(name, args=[pk]), data)
        assert response.status_code == 200, (name, data)
        assert message in content(response), (name, data)
    assert list(TeamMembership.objects.order_by("pk").values()) == before
    assert FamilyGroup.objects.count() == groups


def test_a_child_needs_a_guardian_in_the_family_group(teams_world, client_as, english):  # noqa: F811
    import datetime

    from django.utils import timezone

    w = teams_world
    child = make_member(
        w.team, birth_date=timezone.localdate() - datetime.timedelta(days=365 * 7)
    ).user
    client = client_as(w.cast.team_leader)
    url = reverse("portal:team-family-member-add", args=[w.family_group.pk])
    response = client.post(url, {"user": child.pk})
    assert "must serve with a guardian who is an active member of the same team" in content(
        response
    )
    assert TeamMembership.objects.get(user=child).family_group is None
    response = client.post(url, {"user": child.pk, "guardian": w.member.pk})
    assert response.status_code == 302
    assert TeamMembership.objects.get(user=child).guardian == w.member


def test_invitation_accept_and_leave_from_my_teams(teams_world, client_as, english):  # noqa: F811
    w = teams_world
    client = client_as(w.cast.volunteer)
    page = content(client.get(reverse("portal:my-teams")))
    assert reverse("portal:team-invitation-accept", args=[w.invitation.pk]) in page
    client.post(reverse("portal:team-invitation-accept", args=[w.invitation.pk]))
    assert TeamMembership.objects.get(pk=w.invitation.pk).status == "active"
    response = client.post(
        reverse("portal:team-leave", args=[w.invitation.pk]), {"left_on": "2000-13-01"}
    )
    assert response.status_code == 200 and "Enter a valid date." in content(response)
    response = client.post(
        reverse("portal:team-leave", args=[w.invitation.pk]), {"left_on": "2000-01-01"}
    )
    assert "The date of leaving cannot be before the date of joining." in content(response)
    assert TeamMembership.objects.get(pk=w.invitation.pk).status == "active"
    assert client.post(reverse("portal:team-leave", args=[w.invitation.pk])).status_code == 302
    assert TeamMembership.objects.get(pk=w.invitation.pk).status == "left"


def test_the_leader_cannot_leave_on_the_portal(teams_world, client_as, english):  # noqa: F811
    w = teams_world
    response = client_as(w.cast.team_leader).post(
        reverse("portal:team-leave", args=[w.leader_membership.pk])
    )
    assert "Ask the owning organisation to appoint another leader first." in content(response)
    assert TeamMembership.objects.get(pk=w.leader_membership.pk).status == "active"


def test_a_leader_of_another_team_gets_404_on_this_teams_pages(teams_world, client_as):  # noqa: F811
    """Bad input from the issue: a leader editing another team."""
    w = teams_world
    other_leader = make_member(w.other_team, role="leader").user
    client = client_as(other_leader)
    assert client.get(reverse("portal:team-manage", args=[w.team.pk])).status_code == 404
    response = client.post(reverse("portal:team-invite", args=[w.team.pk]), {"phone": "1"})
    assert response.status_code == 404
    assert client.get(reverse("portal:team-manage", args=[w.other_team.pk])).status_code == 200


def test_the_inspector_sees_the_desk_without_buttons(teams_world, client_as):  # noqa: F811
    w = teams_world
    page = content(client_as(w.cast.inspector).get(reverse("portal:team-manage", args=[w.team.pk])))
    assert w.applicant.real_name in page
    assert reverse("portal:team-membership-approve", args=[w.application.pk]) not in page


# --- Query budgets ------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _grow_teams(tree, rows):
    for i in range(rows):
        team = Team.objects.create(organization=tree.branch, name=f"队{Team.objects.count()}-{i}")
        make_member(team)


def test_directory_queries_stay_constant(teams_world, client_as):  # noqa: F811
    client = client_as(teams_world.cast.volunteer)
    _grow_teams(teams_world.tree, 10)
    small = _count(client, reverse("portal:team-list"))
    _grow_teams(teams_world.tree, 90)
    assert _count(client, reverse("portal:team-list")) == small


def test_team_api_lists_queries_stay_constant(teams_world, client_as):  # noqa: F811
    client = client_as(teams_world.cast.city_admin)
    urls = ["/api/v1/teams/", "/api/v1/teams/directory/", "/api/v1/team-memberships/"]
    _grow_teams(teams_world.tree, 10)
    small = [_count(client, url) for url in urls]
    _grow_teams(teams_world.tree, 90)
    assert [_count(client, url) for url in urls] == small


def test_roster_queries_stay_constant(teams_world, client_as):  # noqa: F811
    w = teams_world
    client = client_as(w.cast.team_leader)
    url = reverse("portal:team-manage", args=[w.team.pk])
    for _ in range(10):
        make_member(w.team)
    small = _count(client, url)
    for _ in range(90):
        make_member(w.team)
    assert _count(client, url) == small
