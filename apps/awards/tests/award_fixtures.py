"""The awards workflow on top of the hand-worked 2025 (see ``conftest.py``), rolled up.

Rolled-up figures: volunteer 3.00 h, 12.50 points, 4.50★; team leader 2.00 h, 20 points, 3★;
branch secretary 0 h, no rating; team 桂园红心 3.00 h, 4.00★. With the categories below only the
volunteer (and the team) meet the rules.
"""

import datetime
from decimal import Decimal

import pytest

from apps.awards import rollup
from apps.awards.models import (
    AssessmentYear,
    AwardCategory,
    AwardKind,
    Nomination,
    NominationStatus,
    Quota,
)
from apps.awards.nominations import nomination_create, publicity_start
from apps.awards.tests.conftest import NOW, YEAR

TODAY = NOW.date()  # 2026-03-01
DEEDS = "常年照顾社区独居老人，组织邻里互助。"


@pytest.fixture
def nworld(aworld):
    """``aworld`` rolled up, with a volunteer and a team category and the branch's quota."""
    w = aworld
    rollup.rollup_run_year(year=YEAR, now=NOW)
    w.assessment_year = AssessmentYear.objects.get(year=YEAR)
    w.vcat = AwardCategory.objects.create(
        name="优秀党员志愿者（测试）",
        kind=AwardKind.VOLUNTEER,
        awarding_unit="中共江城市委组织部",
        min_hours=Decimal("2"),
        min_average_rating=Decimal("4"),
        max_rejected_records=0,
        publicity_days=7,
    )
    w.tcat = AwardCategory.objects.create(
        name="优秀志愿服务队（测试）",
        kind=AwardKind.TEAM,
        awarding_unit="中共江城市委组织部",
        party_members_only=False,
        min_hours=Decimal("1"),
        publicity_days=5,
    )
    w.quota = Quota.objects.create(
        assessment_year=w.assessment_year, category=w.vcat, organization=w.tree.branch, places=2
    )
    return w


def nominate(w, *, volunteer=None, team=None, category=None, actor=None):
    if volunteer is None and team is None:
        volunteer = w.cast.volunteer
    return nomination_create(
        actor=actor or w.cast.branch_secretary,
        assessment_year=w.assessment_year,
        category=category or (w.tcat if team is not None else w.vcat),
        deeds=DEEDS,
        volunteer=volunteer,
        team=team,
    )


@pytest.fixture
def nominated(nworld):
    """The volunteer nominated by the branch secretary."""
    nworld.nomination = nominate(nworld)
    return nworld


@pytest.fixture
def publicised(nominated):
    """The volunteer's nomination in publicity from 2026-03-01 to 2026-03-07."""
    w = nominated
    publicity_start(
        actor=w.cast.city_admin, assessment_year=w.assessment_year, category=w.vcat, today=TODAY
    )
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.PUBLICITY
    return w


AFTER_PUBLICITY = TODAY + datetime.timedelta(days=7)  # 2026-03-08


def in_publicity(w, *, days_ago=0):
    """Move the nomination's publicity so that it is running today (the real date)."""
    from django.utils import timezone

    start = timezone.localdate() - datetime.timedelta(days=days_ago)
    Nomination.objects.filter(pk=w.nomination.pk).update(
        publicity_starts_on=start, publicity_ends_on=start + datetime.timedelta(days=6)
    )
    w.nomination.refresh_from_db()


@pytest.fixture
def pworld(publicised):
    """For the matrices: the volunteer's nomination publicised from today, an objection raised
    by the outsider, and an award from elsewhere on the volunteer's record."""
    from apps.awards.nominations import award_create, objection_create

    w = publicised
    in_publicity(w)
    w.objection = objection_create(
        actor=w.cast.outsider, nomination=w.nomination, text="该同志的服务记录需要核实。"
    )
    w.award = award_create(
        actor=w.cast.city_admin,
        name="区级优秀志愿者",
        awarded_on=datetime.date(2025, 12, 5),
        awarding_unit="东湖区委组织部",
        volunteer=w.cast.volunteer,
    )
    return w
