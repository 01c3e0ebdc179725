"""Objects the household, pairing and visit tests and matrices point at.

Import into a test module::

    from apps.care.tests.recipients_fixtures import rworld  # noqa: F401

Every personal value is obviously fictional.
"""

import datetime

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.volunteer_helpers import add_profile
from apps.care.models import CareCategory, CareRecipient, RecipientPairing, Visit
from apps.organizations.tests.factories import MembershipFactory

WHOLE = {
    "name": "测试老人甲",
    "family_situation": "独居，子女在外地（虚构）",
    "health": "高血压（虚构）",
    "address": "桂园路虚构1号101室",
    "contact": "13800000000（虚构）",
    "correction_status": "社区矫正中（虚构）",
}


def make_household(community, **overrides):
    today = timezone.localdate()
    values = {
        **WHOLE,
        "family_verified_on": today,
        "health_verified_on": today,
        "address_verified_on": today,
        "contact_verified_on": today,
        **overrides,
    }
    household = CareRecipient.objects.create(community=community, **values)
    household.categories.set(CareCategory.objects.filter(code__in=["elderly", "living_alone"]))
    return household


@pytest.fixture
def rworld(world):
    """The shared world plus a household of 桂园社区 paired with the volunteer since 40 days.

    The volunteer and a spare volunteer of the branch hold active volunteer profiles; the
    pairing has one visit 35 days ago, so it is overdue (monthly visits).
    """
    today = timezone.localdate()
    cast = world.cast
    world.volunteer_profile = add_profile(cast.volunteer, community=world.community)
    spare = UserFactory(username="spare", real_name="孙二")
    MembershipFactory(user=spare, organization=world.tree.branch)
    world.spare = spare
    world.spare_profile = add_profile(spare, community=world.community)
    world.household = make_household(world.community)
    world.pairing = RecipientPairing.objects.create(
        volunteer=cast.volunteer,
        recipient=world.household,
        started_on=today - datetime.timedelta(days=40),
    )
    world.visit = Visit.objects.create(
        pairing=world.pairing,
        visited_on=today - datetime.timedelta(days=35),
        duration_minutes=45,
        notes="聊天、量血压（虚构）",
    )
    world.other_household = make_household(world.other_community, name="测试老人乙")
    return world
