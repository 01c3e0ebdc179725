"""Activities in every state the activity pages act on, for their tests and permission matrix.

Import the fixture into a test module::

    from apps.portal.tests.activity_fixtures import aworld  # noqa: F401
"""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.accounts.models import ServiceCategory
from apps.activities.models import Activity, ActivityStatus, Signup, SignupStatus
from apps.teams.models import TeamMembership, TeamMembershipStatus, TeamRole
from apps.teams.tests.fixtures import make_profile


def make_activity(*, organization, team=None, community=None, category, start, hours=2, **kw):
    kw.setdefault("status", ActivityStatus.PUBLISHED)
    kw.setdefault("title", "桂园社区敬老院陪伴")
    kw.setdefault("place", "桂园社区敬老院")
    kw.setdefault("capacity", 10)
    kw.setdefault("description", "陪老人聊天、读报。")
    kw.setdefault("risks", "地面湿滑，注意防滑。")
    return Activity.objects.create(
        organization=organization,
        team=team,
        community=community,
        category=category,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=hours),
        **kw,
    )


@pytest.fixture
def aworld(world):
    """The shared world plus activities of the branch's team at 桂园社区.

    * ``activity``: published, tomorrow 09:00–11:00, 10 places; the volunteer (an active
      registered volunteer and a member of the team) holds ``signup``;
    * ``draft``: a draft of the team, next week;
    * ``running``: published, started an hour ago, ends in an hour; the volunteer holds
      ``running_signup`` (confirmed, not checked in);
    * ``other_activity``: published, of the other branch's team at 桃溪村.
    """
    cast = world.cast
    make_profile(cast.volunteer)
    TeamMembership.objects.create(
        team=world.team,
        user=cast.volunteer,
        role=TeamRole.MEMBER,
        status=TeamMembershipStatus.ACTIVE,
    )
    category = ServiceCategory.objects.get_or_create(code="elderly", defaults={"name": "助老"})[0]
    now = timezone.now()
    tomorrow = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0)
    tomorrow += datetime.timedelta(days=1)
    ours = {
        "organization": world.tree.branch,
        "team": world.team,
        "community": world.community,
        "category": category,
    }
    activity = make_activity(start=tomorrow, **ours)
    draft = make_activity(
        start=tomorrow + datetime.timedelta(days=7),
        status=ActivityStatus.DRAFT,
        title="社区环境整治",
        **ours,
    )
    running = make_activity(
        start=(now - datetime.timedelta(hours=1)).replace(second=0, microsecond=0),
        title="义诊",
        **ours,
    )
    other_activity = make_activity(
        organization=world.tree.other_branch,
        team=world.other_team,
        community=world.other_community,
        category=category,
        start=tomorrow,
        title="桃溪村清扫河道",
    )
    signup = Signup.objects.create(
        activity=activity, volunteer=cast.volunteer, status=SignupStatus.CONFIRMED
    )
    running_signup = Signup.objects.create(
        activity=running, volunteer=cast.volunteer, status=SignupStatus.CONFIRMED
    )
    return SimpleNamespace(
        **vars(world),
        category=category,
        activity=activity,
        draft=draft,
        running=running,
        other_activity=other_activity,
        signup=signup,
        running_signup=running_signup,
    )
