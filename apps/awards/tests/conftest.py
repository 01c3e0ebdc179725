"""A small hand-made year (2025) whose roll-up figures are worked out by hand.

Branch 桂园 (members: volunteer, team_leader, branch_secretary)::

    volunteer      records 60 (team, 5★), 90 (4★), 30 (late)  → 180 min, 3 records, 2 on time
                   points 10.50 + 2 (2024: 100, not counted)    → 12.50, rank 2
                   pledge kept, training 2.5 h (2024: 1 h), 2 visits, reported, paired
    team_leader    record 120 (team, 3★)                        → 120 min, points 20, rank 1
    branch_sec.    nothing                                      → 0, rank 3
Other branch 桃溪: other_branch_secretary, record 45 → 45 min, points 3, rank 1.
Citizen (profile, no membership): record 30 → no organisation, no rank.
Team 桂园红心: 1 member, 2 records, 180 min, 1 published activity, ratings 5★ and 3★ → 4.00.
Households of 桂园社区: 2, one known on all four counts. Requests of 2025: done, open
(declined not counted) → 1 of 2.
"""

import datetime
import itertools
import zoneinfo
from decimal import Decimal

import pytest

from apps.accounts.models import TrainingRecord
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.volunteer_helpers import add_profile
from apps.activities.models import Activity, ActivityStatus
from apps.care.models import RecipientPairing, RequestStatus, ServiceRequest, Visit
from apps.care.tests.recipients_fixtures import make_household
from apps.care.tests.request_fixtures import make_request
from apps.communities.models import Pledge, PledgeStatus
from apps.communities.tests.fixtures import make_report
from apps.points.models import PointsEntry, RuleKind, SourceType
from apps.points.tests.helpers import make_activity, make_record, rule
from apps.service_records.models import Evaluation, RaterKind, RecordStatus

YEAR = 2025
NOW = datetime.datetime(2026, 3, 1, 10, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
_keys = itertools.count(1)


def day(month, dom=1, year=YEAR):
    return datetime.date(year, month, dom)


def points(user, amount, *, bonus, counted_on=None):
    key = next(_keys)
    return PointsEntry.objects.create(
        volunteer=user,
        points=Decimal(str(amount)),
        kind=RuleKind.BONUS,
        rule=bonus,
        rule_version=1,
        source_type=SourceType.ADJUSTMENT,
        source_id=key,
        reason="测试",
        counted_on=counted_on or day(6),
        posting_key=f"test-{key}",
    )


def rate(record, stars, kind=RaterKind.RESIDENT):
    return Evaluation.objects.create(record=record, stars=stars, rater_kind=kind)


@pytest.fixture
def aworld(world):
    cast, tree = world.cast, world.tree
    bonus = rule(RuleKind.BONUS, 100)
    v = cast.volunteer
    world.volunteer_profile = add_profile(v, community=world.community)
    r1 = make_record(v, day=day(3), minutes=60, team=world.team)
    r2 = make_record(v, day=day(4), minutes=90)
    make_record(v, day=day(5), minutes=30, is_late=True, late_reason="忘记登记")
    make_record(v, day=day(6), minutes=500, status=RecordStatus.SUBMITTED)
    make_record(v, day=day(6, year=2024), minutes=500)
    rate(r1, 5)
    rate(r2, 4)
    points(v, "10.5", bonus=bonus)
    points(v, 2, bonus=bonus, counted_on=day(12, 31))
    points(v, 100, bonus=bonus, counted_on=day(12, 31, year=2024))
    Pledge.objects.create(
        user=v,
        community=world.community,
        year=YEAR,
        content="每月清扫楼道",
        target="12次",
        status=PledgeStatus.CONFIRMED,
    )
    for held_on, hours in ((day(2), "2.5"), (day(2, year=2024), "1")):
        TrainingRecord.objects.create(
            user=v,
            name="急救培训",
            content="心肺复苏",
            hours=Decimal(hours),
            organizer="区红十字会",
            held_on=held_on,
        )
    make_report(v, world.community)
    household = make_household(world.community)
    make_household(world.community, contact="")
    pairing = RecipientPairing.objects.create(volunteer=v, recipient=household, started_on=day(1))
    for visited_on in (day(3), day(9)):
        Visit.objects.create(pairing=pairing, visited_on=visited_on, duration_minutes=30)
    Visit.objects.create(pairing=pairing, visited_on=day(9, year=2024), duration_minutes=30)

    leader_record = make_record(cast.team_leader, day=day(7), minutes=120, team=world.team)
    rate(leader_record, 3)
    points(cast.team_leader, 20, bonus=bonus)

    make_record(cast.other_branch_secretary, day=day(8), minutes=45)
    points(cast.other_branch_secretary, 3, bonus=bonus)

    citizen = UserFactory(username="citizen", real_name="张群众")
    add_profile(citizen, community=world.community)
    make_record(citizen, day=day(8), minutes=30)
    world.citizen = citizen

    for when, status in ((day(5), ActivityStatus.PUBLISHED), (day(6), "cancelled")):
        activity = make_activity(tree.branch, day=when)
        Activity.objects.filter(pk=activity.pk).update(team=world.team, status=status)

    created = datetime.datetime(YEAR, 5, 1, 9, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    requests = [
        make_request(world.community, status=RequestStatus.DONE),
        make_request(world.community, status=RequestStatus.OPEN),
        make_request(world.community, status=RequestStatus.DECLINED),
    ]
    ServiceRequest.objects.filter(pk__in=[r.pk for r in requests]).update(created_at=created)
    make_request(world.community, status=RequestStatus.DONE)  # created now: not 2025
    return world
