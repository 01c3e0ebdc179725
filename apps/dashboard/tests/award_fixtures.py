"""The awards workflow's world for the page tests and the permission matrix.

Builds on the hand-made roll-up year (``apps/awards/tests/conftest.py``): after the roll-up the
volunteer (3 h, 4.5★, no rejected record) meets the test category's rules; the team leader
(2 h, 3★) and the branch secretary (no rating) do not. Import the fixtures into a test module::

    from apps.dashboard.tests.award_fixtures import aworld, nworld  # noqa: F401
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.awards import rollup
from apps.awards.models import (
    AssessmentYear,
    AwardCategory,
    AwardKind,
    Nomination,
    NominationStatus,
    Objection,
)
from apps.awards.tests.conftest import NOW, YEAR, aworld  # noqa: F401


def make_nomination(w, volunteer, *, status=NominationStatus.NOMINATED, days_left=None, **kw):
    """A nomination written directly (the page under test is not the one making it)."""
    if days_left is not None:
        today = timezone.localdate()
        kw.setdefault("publicity_starts_on", today - datetime.timedelta(days=1))
        kw.setdefault("publicity_ends_on", today + datetime.timedelta(days=days_left))
    return Nomination.objects.create(
        assessment_year=w.assessment_year,
        category=w.category,
        organization=kw.pop("organization", w.tree.branch),
        volunteer=volunteer,
        deeds=kw.pop("deeds", "常年坚持为社区老人送餐。"),
        hours=Decimal("3.00"),
        status=status,
        **kw,
    )


@pytest.fixture
def nworld(aworld):  # noqa: F811
    rollup.rollup_run_year(year=YEAR, now=NOW)
    w = aworld
    w.assessment_year = AssessmentYear.objects.get(year=YEAR)
    w.category = AwardCategory.objects.create(
        name="优秀社区志愿者（测试）",
        kind=AwardKind.VOLUNTEER,
        awarding_unit="中共江城市委组织部",
        party_members_only=True,
        min_hours=Decimal("2"),
        min_average_rating=Decimal("4"),
        max_rejected_records=0,
        publicity_days=7,
        order=0,
    )
    return w


@pytest.fixture
def pworld(nworld):
    """The volunteer's nomination is being publicised, with an open objection by an outsider."""
    w = nworld
    w.nomination = make_nomination(
        w, w.cast.volunteer, status=NominationStatus.PUBLICITY, days_left=5
    )
    w.objection = Objection.objects.create(
        nomination=w.nomination, submitted_by=w.cast.outsider, text="该同志的服务时长有虚报嫌疑。"
    )
    return w
