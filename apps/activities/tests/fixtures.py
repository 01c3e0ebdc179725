"""Activities in each state, for the activities tests and the portal's activity pages tests.

Import the fixture into a test module (or a conftest)::

    from apps.activities.tests.fixtures import aworld  # noqa: F401

Times are relative to the real clock: the service records app checks "not in the future"
against it, so an activity that "ended yesterday" must really have ended.
"""

import datetime
import itertools
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.accounts.models import ServiceCategory, TrainingRecord
from apps.activities.models import (
    Activity,
    ActivityPlan,
    ActivityPlanItem,
    ActivityStatus,
    Campaign,
    CampaignKind,
    Signup,
    SignupStatus,
)
from apps.communities.models import ServicePoint, TeamPairing
from apps.teams.models import TeamMembership, TeamMembershipStatus, TeamRole
from apps.teams.tests.fixtures import make_profile, make_volunteer

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
_days = itertools.count()


def category():
    return ServiceCategory.objects.order_by("pk").first() or ServiceCategory.objects.create(
        code="elderly", name="助老"
    )


def make_activity(team, *, starts_at=None, hours=2, status=ActivityStatus.PUBLISHED, **fields):
    """An activity as the services would leave it (tests set the status directly).

    Without ``starts_at``, each activity gets a day of its own a month ahead, so they never
    overlap by accident."""
    starts_at = starts_at or timezone.now() + (30 + next(_days)) * DAY
    fields.setdefault("title", "社区助老服务")
    fields.setdefault("category", category())
    fields.setdefault("place", "桂园社区活动中心")
    fields.setdefault("capacity", 5)
    fields.setdefault("description", "陪伴老人，打扫卫生")
    return Activity.objects.create(
        team=team,
        organization=team.organization,
        starts_at=starts_at,
        ends_at=starts_at + hours * HOUR,
        status=status,
        **fields,
    )


def sign_up(activity, user, *, status=SignupStatus.CONFIRMED, **fields):
    return Signup.objects.create(activity=activity, volunteer=user, status=status, **fields)


def make_trained(user):
    return TrainingRecord.objects.create(
        user=user,
        name="志愿服务通识培训",
        content="安全与礼仪",
        hours=2,
        organizer="桂园社区",
        held_on=timezone.localdate() - 10 * DAY,
    )


@pytest.fixture
def aworld(world):
    """The shared world plus, for the branch's team (paired with 桂园社区):

    * the volunteer: an active registered volunteer and an active member of the team;
    * ``published``: a published activity in two days (5 places) in 桂园社区, with the
      volunteer's confirmed ``signup``;
    * ``draft``: a draft of the team; ``other_draft``: a draft of the other branch's team;
    * ``ended``: yesterday's activity, the volunteer checked in and out (``ended_signup``);
    * ``live``: began half an hour ago, the volunteer signed up (``live_signup``), not in yet;
    * ``open_activity``: published, a month ahead, nobody signed up;
    * ``plan`` (this year, one ``plan_item``) and ``campaign`` (in a week) of the branch.
    """
    cast = world.cast
    now = timezone.now()
    TeamPairing.objects.create(team=world.team, community=world.community)
    make_profile(cast.volunteer)
    TeamMembership.objects.create(
        team=world.team,
        user=cast.volunteer,
        role=TeamRole.MEMBER,
        status=TeamMembershipStatus.ACTIVE,
    )
    published = make_activity(world.team, starts_at=now + 2 * DAY, community=world.community)
    signup = sign_up(published, cast.volunteer)
    ended = make_activity(world.team, starts_at=now - DAY - 3 * HOUR, community=world.community)
    ended_signup = sign_up(
        ended,
        cast.volunteer,
        checked_in_at=ended.starts_at,
        checked_out_at=ended.ends_at,
        attendance="attended",
        check_in_method="qr",
        check_out_method="qr",
    )
    live = make_activity(
        world.team, starts_at=now - 30 * MINUTE, community=world.community, title="正在进行的活动"
    )
    live_signup = sign_up(live, cast.volunteer)
    plan = ActivityPlan.objects.create(organization=world.tree.branch, year=now.year)
    plan_item = ActivityPlanItem.objects.create(
        plan=plan, project="敬老助老", month=3, responsible="李明", planned_count=2
    )
    campaign = Campaign.objects.create(
        kind=CampaignKind.VOLUNTEER_DAY,
        name="国际志愿者日",
        date=timezone.localdate() + 7 * DAY,
        organization=world.tree.branch,
        title="12·5志愿服务集中行动",
        category=category(),
        start_time=datetime.time(9),
        end_time=datetime.time(11, 30),
        place="桂园广场",
        capacity=10,
    )
    point = ServicePoint.objects.create(
        community=world.community, name="桂园便民服务点", kind="point", address="桂园路1号"
    )
    return SimpleNamespace(
        **vars(world),
        category=category(),
        published=published,
        signup=signup,
        draft=make_activity(world.team, status=ActivityStatus.DRAFT, title="草稿活动"),
        other_draft=make_activity(world.other_team, status=ActivityStatus.DRAFT, title="桃溪草稿"),
        ended=ended,
        ended_signup=ended_signup,
        plan=plan,
        plan_item=plan_item,
        campaign=campaign,
        service_point=point,
        live=live,
        live_signup=live_signup,
        open_activity=make_activity(world.team, community=world.community, title="开放报名"),
    )


def new_volunteer(**kwargs):
    """Another active registered volunteer."""
    return make_volunteer(**kwargs)
