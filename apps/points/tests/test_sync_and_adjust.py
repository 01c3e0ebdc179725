"""The yearly sync (training, kept pledges, visits, ratings, the base), adjustments by staff and
recalculation after a rule change."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.models import TrainingRecord
from apps.care.models import RecipientPairing, Visit
from apps.care.tests.recipients_fixtures import make_household
from apps.communities.models import Pledge, PledgeStatus
from apps.core.models import AuditEntry
from apps.points import selectors, services, tasks
from apps.points.models import PointsEntry, RuleKind
from apps.points.tests.helpers import YEAR, category, default_rules, make_record
from apps.service_records.models import RaterKind
from conftest import zh

pytestmark = pytest.mark.django_db
TODAY = datetime.date(YEAR, 11, 30)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rules(db):
    return default_rules()


@pytest.fixture
def sources(profile, volunteer, community, city_admin):
    TrainingRecord.objects.create(
        user=volunteer,
        name="急救培训",
        content="心肺复苏",
        hours=Decimal("3.0"),
        organizer="区红十字会",
        held_on=datetime.date(YEAR, 3, 1),
    )
    Pledge.objects.create(
        user=volunteer,
        community=community,
        year=YEAR,
        content="每月服务两次",
        target="全年24次",
        status=PledgeStatus.CONFIRMED,
        confirmed_at=datetime.datetime(YEAR, 10, 1, 10, tzinfo=SHANGHAI),
    )
    pairing = RecipientPairing.objects.create(
        volunteer=volunteer,
        recipient=make_household(community),
        started_on=datetime.date(YEAR, 1, 1),
    )
    for day in (datetime.date(YEAR, 4, 1), datetime.date(YEAR, 5, 1)):
        Visit.objects.create(pairing=pairing, visited_on=day, duration_minutes=30)
    record = make_record(volunteer)
    record.evaluations.create(rater_kind=RaterKind.RESIDENT, stars=5)
    record.evaluations.create(rater_kind=RaterKind.COMMUNITY_STAFF, stars=1)
    return record


def test_sync_posts_what_is_missing_once(rules, sources, volunteer):
    posted = services.points_sync(year=YEAR, today=TODAY)
    assert posted == {
        "records": 1,
        "training": 1,
        "pledges": 1,
        "visits": 2,
        "ratings": 2,
        "base": 1,
    }
    breakdown = {
        row["kind"]: row["points"] for row in selectors.points_breakdown(user=volunteer, year=YEAR)
    }
    assert breakdown == {
        "hour": Decimal("1.80"),
        "training": Decimal("1.50"),
        "pledge": Decimal("2.00"),
        "visit": Decimal("2.00"),
        "rating": Decimal("0.00"),
        "base": Decimal("5.00"),
    }
    pledge = PointsEntry.objects.get(kind=RuleKind.PLEDGE)
    assert pledge.counted_on == datetime.date(YEAR, 10, 1)
    assert pledge.reason == zh("Pledge for %(year)s confirmed as kept") % {"year": YEAR}
    assert PointsEntry.objects.get(kind=RuleKind.BASE).counted_on == datetime.date(YEAR, 1, 1)
    again = services.points_sync(year=YEAR, today=TODAY)
    assert set(again.values()) == {0}
    assert PointsEntry.objects.count() == 8


def test_the_task_syncs_the_current_year(rules, sources):
    assert tasks.sync_year.delay(YEAR).get()["base"] == 1


def test_sync_refuses_a_future_year(rules):
    with pytest.raises(ValidationError) as caught:
        services.points_sync(year=YEAR + 1, today=TODAY)
    assert caught.value.messages == [zh("Points cannot be synced for a year that has not begun.")]


def test_adjustments_by_staff(rules, profile, volunteer, branch_secretary):
    bonus = services.points_adjust(
        actor=branch_secretary, volunteer=volunteer, points="8", reason="抗洪抢险表现突出"
    )
    assert (bonus.kind, bonus.points, bonus.rule) == (
        RuleKind.BONUS,
        Decimal("8.00"),
        rules["bonus"],
    )
    audit = AuditEntry.objects.get(action="points.adjust")
    assert bonus.source_id == audit.pk and audit.actor == branch_secretary
    deduction = services.points_adjust(
        actor=branch_secretary, volunteer=volunteer, points="-3", reason="无故缺席"
    )
    assert deduction.kind == RuleKind.DEDUCTION


@pytest.mark.parametrize(
    "points,reason,field,message",
    [
        ("0", "理由", "points", "Give a number of points other than zero."),
        ("5", " ", "reason", "Say why the points are adjusted."),
        ("11", "理由", "points", "A single adjustment may not exceed %(max)s points."),
    ],
)
def test_bad_adjustments_are_refused(
    rules, profile, volunteer, branch_secretary, points, reason, field, message
):
    with pytest.raises(ValidationError) as caught:
        services.points_adjust(
            actor=branch_secretary, volunteer=volunteer, points=points, reason=reason
        )
    assert zh(message) % {"max": "10"} in caught.value.message_dict[field]
    assert not PointsEntry.objects.exists()


def test_the_yearly_bonus_cap_refuses_more(rules, profile, volunteer, city_admin):
    services.points_adjust(actor=city_admin, volunteer=volunteer, points=10, reason="表彰")
    with pytest.raises(ValidationError) as caught:
        services.points_adjust(actor=city_admin, volunteer=volunteer, points=6, reason="表彰")
    expected = zh("This would pass the yearly limit of %(cap)s (%(left)s left).") % {
        "cap": "15",
        "left": "5",
    }
    assert caught.value.message_dict["points"] == [expected]
    assert PointsEntry.objects.count() == 1


@pytest.mark.parametrize("role", ["other_branch_secretary", "inspector", "team_leader"])
def test_only_managers_adjust(request, rules, profile, volunteer, role):
    with pytest.raises(PermissionDenied):
        services.points_adjust(
            actor=request.getfixturevalue(role), volunteer=volunteer, points=1, reason="x"
        )
    assert not PointsEntry.objects.exists()


def test_no_rule_no_adjustment(profile, volunteer, city_admin):
    with pytest.raises(ValidationError) as caught:
        services.points_adjust(
            actor=city_admin,
            volunteer=volunteer,
            points=1,
            reason="x",
            counted_on=datetime.date(YEAR, 1, 5),
        )
    assert caught.value.message_dict["points"] == [
        zh("No bonus rule is in effect on %(date)s.") % {"date": f"{YEAR}-01-05"}
    ]


def test_recalculation_previews_then_reverses_and_reposts(rules, volunteer, city_admin):
    services.points_post_for_record(record=make_record(volunteer, minutes=90))
    services.points_post_for_record(
        record=make_record(volunteer, code="environment", day=datetime.date(YEAR, 6, 2))
    )
    new = services.points_rule_change(
        actor=city_admin,
        rule=rules["elderly"],
        points="1.5",
        effective_from=datetime.date(YEAR, 1, 1),
    )
    before = list(PointsEntry.objects.values_list("pk", flat=True))
    preview = services.points_recalculate_preview(rule_change=new, today=TODAY)
    # The volunteer's points of that kind in the rule's dates, before and after.
    assert preview == [(volunteer, Decimal("3.30"), Decimal("3.75"))]
    assert list(PointsEntry.objects.values_list("pk", flat=True)) == before

    with pytest.raises(ValidationError):
        services.points_recalculate(actor=city_admin, rule_change=new, reason=" ", today=TODAY)
    rows = services.points_recalculate(
        actor=city_admin, rule_change=new, reason="助老系数上调", today=TODAY
    )
    assert rows == preview
    assert selectors.points_total(user=volunteer, year=YEAR) == Decimal("3.75")
    reversal = PointsEntry.objects.get(reverses__isnull=False)
    assert reversal.points == Decimal("-1.80") and "助老系数上调" in reversal.reason
    assert PointsEntry.objects.live().get(rule=new).points == Decimal("2.25")
    assert AuditEntry.objects.filter(action="points.recalculate").count() == 1
    # Nothing left to change: a second run writes nothing.
    assert (
        services.points_recalculate(actor=city_admin, rule_change=new, reason="再次", today=TODAY)
        == []
    )
    assert PointsEntry.objects.count() == 4


def test_recalculation_is_for_the_city(rules, branch_secretary):
    with pytest.raises(PermissionDenied):
        services.points_recalculate(
            actor=branch_secretary, rule_change=rules["elderly"], reason="x", today=TODAY
        )


def test_a_new_base_rule_is_recalculated_for_everyone(rules, profile, volunteer, city_admin):
    services.points_sync(year=YEAR, today=TODAY)
    new = services.points_rule_change(
        actor=city_admin, rule=rules["base"], points=6, effective_from=datetime.date(YEAR, 1, 1)
    )
    assert services.points_recalculate_preview(rule_change=new, today=TODAY) == [
        (volunteer, Decimal("5.00"), Decimal("6.00"))
    ]
    category("elderly")  # categories untouched
