"""Builders for points tests: rules, records and a world with a volunteer profile."""

import datetime
import zoneinfo
from decimal import Decimal

from apps.accounts.models import ServiceCategory
from apps.activities.models import Activity
from apps.points.models import PointsRule, RuleKind
from apps.service_records.models import RecordSource, RecordStatus, ServiceRecord

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
YEAR = 2026
START = datetime.date(2025, 1, 1)


NAMES = {"elderly": "助老", "disability": "助残", "environment": "环保"}


def category(code):
    # get_or_create: a transactional test's flush removes the categories the migration made.
    return ServiceCategory.objects.get_or_create(code=code, defaults={"name": NAMES[code]})[0]


def rule(kind, points, *, category=None, stars=None, start=START, end=None, version=1, **caps):
    made = PointsRule(
        kind=kind,
        points=Decimal(str(points)),
        category=category,
        stars=stars,
        effective_from=start,
        effective_to=end,
        version=version,
        **{k: Decimal(str(v)) for k, v in caps.items()},
    )
    made.full_clean()
    made.save()
    return made


def default_rules():
    return {
        "hour": rule(RuleKind.HOUR, 1),
        "elderly": rule(RuleKind.HOUR, "1.2", category=category("elderly")),
        "activity": rule(RuleKind.ACTIVITY, "0.5"),
        "training": rule(RuleKind.TRAINING, "0.5"),
        "pledge": rule(RuleKind.PLEDGE, 2),
        "visit": rule(RuleKind.VISIT, 1),
        "five": rule(RuleKind.RATING, 1, stars=5),
        "one": rule(RuleKind.RATING, -1, stars=1),
        "base": rule(RuleKind.BASE, 5),
        "bonus": rule(RuleKind.BONUS, 10, cap_per_year=15),
        "deduction": rule(RuleKind.DEDUCTION, -10),
    }


def make_record(
    volunteer,
    *,
    day=datetime.date(YEAR, 6, 1),
    hour=9,
    minutes=90,
    code="elderly",
    status=RecordStatus.APPROVED,
    activity=None,
    name="陪伴老人",
    **fields,
):
    started = datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)
    return ServiceRecord.objects.create(
        volunteer=volunteer,
        activity_name=name,
        category=category(code),
        started_at=started,
        ended_at=started + datetime.timedelta(minutes=minutes),
        duration_minutes=minutes,
        place="桂园社区",
        content="陪老人聊天",
        responsible_person="李明",
        source=RecordSource.SELF_REPORTED,
        status=status,
        activity=activity,
        **fields,
    )


def make_activity(organization, *, day=datetime.date(YEAR, 6, 1), code="elderly"):
    started = datetime.datetime.combine(day, datetime.time(9), tzinfo=SHANGHAI)
    return Activity.objects.create(
        title="重阳节敬老活动",
        category=category(code),
        organization=organization,
        starts_at=started,
        ends_at=started + datetime.timedelta(hours=4),
        place="桂园社区",
        capacity=20,
        description="陪老人过节",
    )
