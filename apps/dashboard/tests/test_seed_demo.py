"""The demo data set: idempotent, deterministic, and with gaps for the coverage board."""

from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User, VolunteerProfile
from apps.communities.coverage import coverage_board
from apps.communities.models import (
    Community,
    CommunityStaff,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    TeamPairing,
)
from apps.organizations.models import Membership, OrganizationRole, PartyOrganization
from apps.teams.models import Team, TeamMembership

MODELS = (
    PartyOrganization,
    User,
    Membership,
    OrganizationRole,
    Community,
    CommunityStaff,
    Team,
    TeamMembership,
    TeamPairing,
    VolunteerProfile,
    ResidenceReport,
    Post,
    PostClaim,
    Pledge,
)


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _report_owners():
    return sorted(
        ResidenceReport.objects.values_list("user__username", "status", "community__name")
    )


def test_seed_twice_changes_nothing(db, capsys):
    call_command("seed_demo", members=60)
    out = capsys.readouterr().out
    first, owners = _counts(), _report_owners()
    call_command("seed_demo", members=60)
    assert _counts() == first
    assert _report_owners() == owners
    for username in ("team_leader", "community_staff"):
        assert username in out


def test_seed_makes_a_board_with_gaps(db, capsys):
    call_command("seed_demo", members=120)
    counts = _counts()
    assert counts["Community"] == 11 and counts["Team"] == 12
    assert counts["TeamPairing"] == 9
    assert counts["Pledge"] > 0 and counts["PostClaim"] > 0 and counts["Post"] > 0
    assert ResidenceReport.objects.filter(status=ResidenceReportStatus.PENDING).exists()
    assert counts["VolunteerProfile"] > 100

    leader = User.objects.get(username="team_leader")
    assert leader.check_password("Demo@2026")
    team = Team.objects.get(name="桂园红心志愿服务队")
    assert TeamMembership.objects.get(team=team, role="leader").user == leader
    staff = User.objects.get(username="community_staff")
    assert CommunityStaff.objects.get(user=staff).community.organization.code == "JC-DH-DHJD-GY"
    assert Community.objects.get(name="桃溪村").kind == "village"

    city_admin = User.objects.get(username="city_admin")
    root = PartyOrganization.objects.get(code="JC")
    board = coverage_board(user=city_admin, organization=root, year=timezone.localdate().year)
    for indicator in board.indicators:
        assert 0 < indicator.missing < indicator.total, indicator.key


def test_seed_without_members(db, capsys):
    call_command("seed_demo", members=0)
    assert Team.objects.count() == 12
    assert TeamPairing.objects.count() == 9
