"""The demo data set: idempotent, deterministic, and with gaps for the coverage board."""

import re

from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User, VolunteerProfile
from apps.care.coverage import care_coverage
from apps.care.demo import HOUSEHOLDS, demo_rating_token
from apps.care.models import (
    CareRecipient,
    RecipientPairing,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
    Visit,
)
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
from conftest import zh

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
    CareRecipient,
    RecipientPairing,
    Visit,
    ServiceRequest,
    RequestEvent,
)


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _report_owners():
    return sorted(
        ResidenceReport.objects.values_list("user__username", "status", "community__name")
    )


def _care_snapshot():
    """What the care demo decided: who is paired with which household, each request's state."""
    households = {r.pk: (r.name, r.community.name) for r in CareRecipient.objects.all()}
    return (
        sorted(households.values()),
        sorted(
            (p.volunteer.username, households[p.recipient_id], p.visit_every_days, p.started_on)
            for p in RecipientPairing.objects.select_related("volunteer")
        ),
        sorted(Visit.objects.values_list("pairing__volunteer__username", "visited_on", "kind")),
        sorted(
            ServiceRequest.objects.values_list(
                "tracking_number", "status", "community__name", "dispatched_team__name", "deadline"
            )
        ),
    )


def test_seed_twice_changes_nothing(db, capsys):
    call_command("seed_demo", members=60)
    out = capsys.readouterr().out
    first, owners, care = _counts(), _report_owners(), _care_snapshot()
    call_command("seed_demo", members=60)
    assert _counts() == first
    assert _report_owners() == owners
    assert _care_snapshot() == care
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


def test_seed_is_deterministic(db, capsys):
    call_command("seed_demo", members=60)
    first = _care_snapshot()
    for model in (RequestEvent, ServiceRequest, Visit, RecipientPairing):
        model.objects.all().delete()
    for household in CareRecipient.objects.all():
        household.categories.clear()
    CareRecipient.objects.all().delete()
    call_command("seed_demo", members=60)
    assert _care_snapshot() == first


def test_seed_makes_care_data_with_gaps(db, capsys):
    call_command("seed_demo", members=120)
    out = capsys.readouterr().out
    care_line = zh(
        "Created: %(households)d care households, %(pairings)d household pairings, "
        "%(visits)d visits, %(requests)d service requests, %(events)d request events."
    )
    chunks = [chunk for chunk in re.split(r"%\(\w+\)d", care_line) if chunk.strip()]
    lines = [line for line in out.splitlines() if all(chunk in line for chunk in chunks)]
    assert len(lines) == 1, out
    assert str(HOUSEHOLDS) in lines[0]
    counts = _counts()
    assert counts["CareRecipient"] == HOUSEHOLDS
    assert counts["ServiceRequest"] == 20
    assert counts["RequestEvent"] >= 20
    households = list(CareRecipient.objects.all())
    assert len({h.community_id for h in households}) == Community.objects.count()
    for household in households:
        # Obviously fictional: a reader of the demo never mistakes it for a real person.
        assert household.name.startswith("测试老人")
        assert household.address.startswith("虚构路")
        assert household.health.startswith("（虚构）")
        assert not household.contact or household.contact.endswith("（虚构）")
    corrections = [h for h in households if h.correction_status]
    assert corrections and all(h.correction_status == "（虚构）社区矫正中" for h in corrections)
    assert all(h.categories.exists() for h in households)

    volunteer = User.objects.get(username="volunteer")
    pairing = RecipientPairing.objects.get(volunteer=volunteer, ended_on__isnull=True)
    assert pairing.recipient.community.name == "桂园社区"

    requests = list(ServiceRequest.objects.order_by("tracking_number"))
    assert requests[0].tracking_number == "XYDEMO000001"
    assert len({r.rating_token for r in requests}) == 20
    assert all(r.rating_token == demo_rating_token(r.tracking_number) for r in requests)
    assert all(r.requester_phone.endswith("（虚构）") for r in requests)
    statuses = {r.status for r in requests}
    assert {
        RequestStatus.SUBMITTED,
        RequestStatus.ACCEPTED,
        RequestStatus.DISPATCHED,
        RequestStatus.OPEN,
        RequestStatus.IN_PROGRESS,
        RequestStatus.DONE,
        RequestStatus.CLOSED,
    } <= statuses
    assert ServiceRequest.objects.overdue().count() >= 3
    for request in requests:
        if request.dispatched_team_id:
            assert TeamPairing.objects.filter(
                team=request.dispatched_team, community=request.community, ended_on=None
            ).exists()
        history = list(request.events.values_list("status", flat=True))
        assert history[0] == RequestStatus.SUBMITTED and history[-1] == request.status
        if request.rating_stars:
            assert request.status == RequestStatus.CLOSED and request.rated_at
    assert ServiceRequest.objects.filter(community__name="桂园社区", status="submitted").exists()

    city_admin = User.objects.get(username="city_admin")
    root = PartyOrganization.objects.get(code="JC")
    care = care_coverage(user=city_admin, organization=root)
    for indicator in care.indicators:
        assert 0 < indicator.missing < indicator.total, indicator.key
    assert care.rating.count == 4 and 1 <= care.rating.average <= 5
