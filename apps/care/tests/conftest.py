"""Fixtures shared by the care tests: one household in 桂园社区, paired with the volunteer.

Every personal value is obviously fictional.
"""

import datetime

import pytest
from django.utils import timezone

from apps.care.models import CareCategory, CareRecipient, RecipientPairing


@pytest.fixture
def recipient(community):
    today = timezone.localdate()
    household = CareRecipient.objects.create(
        name="测试老人甲",
        community=community,
        family_situation="独居，子女在外地（虚构）",
        family_verified_on=today,
        health="高血压（虚构）",
        health_verified_on=today,
        address="桂园路虚构1号101室",
        address_verified_on=today,
        contact="13800000000（虚构）",
        contact_verified_on=today - datetime.timedelta(days=400),
        correction_status="",
    )
    household.categories.set(CareCategory.objects.filter(code__in=["elderly", "living_alone"]))
    return household


@pytest.fixture
def pairing(recipient, volunteer):
    return RecipientPairing.objects.create(volunteer=volunteer, recipient=recipient)
