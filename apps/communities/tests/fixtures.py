"""Objects of the communities app that tests and permission matrices point at.

Import the fixtures into a test module (or a conftest) to use them::

    from apps.communities.tests.fixtures import cworld  # noqa: F401
"""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.communities.models import (
    CommunityStaff,
    Pledge,
    PledgeStatus,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    ServicePoint,
    ServicePointKind,
    TeamPairing,
)
from apps.organizations.tests.factories import MembershipFactory

_numbers = iter(range(1, 10**6))


def make_report(user, community, status=ResidenceReportStatus.CONFIRMED, **extra):
    return ResidenceReport.objects.create(
        number=f"BD20260101{next(_numbers):06d}",
        user=user,
        community=community,
        home_address="东湖路1号2栋301",
        status=status,
        **extra,
    )


def make_member(organization, **kwargs):
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, organization=organization)
    return user


@pytest.fixture
def cworld(world):
    """The shared world plus one object of each kind of this app.

    The volunteer and the team leader are confirmed at 桂园社区; a resident of the sibling
    branch waits for confirmation. The team leader has claimed the post and reported their
    pledge kept; the volunteer's pledge is made.
    """
    cast = world.cast
    community = world.community
    resident = make_member(world.tree.sibling_branch, username="resident", real_name="赵丽")
    year = timezone.localdate().year
    report = make_report(cast.volunteer, community)
    leader_report = make_report(cast.team_leader, community)
    pending_report = make_report(resident, community, ResidenceReportStatus.PENDING)
    post = Post.objects.create(community=community, title="楼道清洁", slots=5)
    claim = PostClaim.objects.create(post=post, user=cast.team_leader)
    pledge = Pledge.objects.create(
        user=cast.volunteer, community=community, year=year, content="每月服务两次", target="24次"
    )
    kept_pledge = Pledge.objects.create(
        user=cast.team_leader,
        community=community,
        year=year,
        content="帮扶一户困难家庭",
        target="每周探访",
        status=PledgeStatus.KEPT_REPORTED,
        evidence="探访记录52次",
    )
    service_point = ServicePoint.objects.create(
        community=community,
        name="桂园志愿服务站",
        kind=ServicePointKind.STATION,
        address="桂园路8号",
    )
    pairing = TeamPairing.objects.create(team=world.team, community=community)
    staff = CommunityStaff.objects.get(user=cast.community_staff)
    return SimpleNamespace(
        **vars(world),
        resident=resident,
        report=report,
        leader_report=leader_report,
        pending_report=pending_report,
        post=post,
        claim=claim,
        pledge=pledge,
        kept_pledge=kept_pledge,
        service_point=service_point,
        pairing=pairing,
        staff=staff,
        year=year,
    )
