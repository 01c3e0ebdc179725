"""Approval posts points, reopening and revoking reverse them; caps; posting twice posts once."""

import datetime
from decimal import Decimal

import pytest

from apps.points import selectors, services
from apps.points.models import PointsEntry, RuleKind, SourceType
from apps.points.tests.helpers import YEAR, default_rules, make_activity, make_record, rule
from apps.service_records import services as record_services
from apps.service_records.models import RaterKind, RecordStatus
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db):
    return default_rules()


def test_approval_posts_hours_times_the_category_coefficient(rules, volunteer, branch_secretary):
    record = make_record(volunteer, minutes=90, status=RecordStatus.SUBMITTED)
    record_services.service_record_approve(actor=branch_secretary, record=record)
    entry = PointsEntry.objects.get()
    assert entry.points == Decimal("1.80")
    assert (entry.kind, entry.rule, entry.rule_version) == (RuleKind.HOUR, rules["elderly"], 1)
    assert (entry.source_type, entry.source_id) == (SourceType.RECORD, record.pk)
    assert entry.counted_on == record.service_date
    assert entry.created_by == branch_secretary
    assert "陪伴老人" in entry.reason and "1.5" in entry.reason


def test_a_category_without_its_own_rule_uses_the_default(rules, volunteer):
    record = make_record(volunteer, minutes=50, code="environment")
    services.points_post_for_record(record=record)
    entry = PointsEntry.objects.get()
    assert (entry.rule, entry.points) == (rules["hour"], Decimal("0.83"))


def test_posting_twice_posts_once(rules, volunteer):
    record = make_record(volunteer)
    first = services.points_post_for_record(record=record)
    second = services.points_post_for_record(record=record)
    assert [e.pk for e in first] == [e.pk for e in second]
    assert PointsEntry.objects.count() == 1


def test_an_unapproved_record_posts_nothing(rules, volunteer):
    record = make_record(volunteer, status=RecordStatus.SUBMITTED)
    assert services.points_post_for_record(record=record) == []
    assert not PointsEntry.objects.exists()


def test_no_rule_in_effect_posts_nothing(volunteer):
    rule(RuleKind.HOUR, 1, start=datetime.date(YEAR, 7, 1))
    services.points_post_for_record(record=make_record(volunteer, day=datetime.date(YEAR, 6, 30)))
    assert not PointsEntry.objects.exists()


def test_the_rule_in_effect_on_the_service_date_applies(volunteer):
    rule(RuleKind.HOUR, 1, end=datetime.date(YEAR, 6, 30))
    later = rule(RuleKind.HOUR, 2, start=datetime.date(YEAR, 7, 1), version=2)
    services.points_post_for_record(
        record=make_record(volunteer, day=datetime.date(YEAR, 7, 1), minutes=60)
    )
    entry = PointsEntry.objects.get()
    assert (entry.rule, entry.rule_version, entry.points) == (later, 2, Decimal("2.00"))


def test_reopen_reverses_and_approving_again_posts_again(rules, volunteer, branch_secretary):
    record = make_record(volunteer, status=RecordStatus.SUBMITTED)
    record_services.service_record_approve(actor=branch_secretary, record=record)
    record_services.service_record_reopen(actor=branch_secretary, record=record, reason="时长有误")
    reversal = PointsEntry.objects.get(reverses__isnull=False)
    assert reversal.points == Decimal("-1.80")
    assert "时长有误" in reversal.reason
    assert selectors.points_total(user=volunteer, year=YEAR) == 0
    # Reversing twice reverses once.
    services.points_reverse_for_record(record=record, reason="again")
    assert PointsEntry.objects.count() == 2
    record_services.service_record_approve(actor=branch_secretary, record=record)
    assert PointsEntry.objects.count() == 3
    assert selectors.points_total(user=volunteer, year=YEAR) == Decimal("1.80")
    assert PointsEntry.objects.live().count() == 1


def test_revoking_an_approved_record_reverses(rules, volunteer, branch_secretary):
    record = make_record(volunteer, status=RecordStatus.SUBMITTED)
    record_services.service_record_approve(actor=branch_secretary, record=record)
    record_services.service_record_revoke(actor=branch_secretary, record=record, reason="不属实")
    assert selectors.points_total(user=volunteer, year=YEAR) == 0
    assert PointsEntry.objects.filter(reverses__isnull=False).count() == 1


def test_activity_points_and_ratings_post_with_the_record(rules, tree, volunteer):
    activity = make_activity(tree.branch)
    record = make_record(volunteer, activity=activity, minutes=60)
    record.evaluations.create(rater_kind=RaterKind.RESIDENT, stars=5)
    services.points_post_for_record(record=record)
    kinds = dict(PointsEntry.objects.values_list("kind", "points"))
    assert kinds == {
        RuleKind.HOUR: Decimal("1.20"),
        RuleKind.ACTIVITY: Decimal("0.50"),
        RuleKind.RATING: Decimal("1.00"),
    }
    services.points_reverse_for_record(record=record, reason="重审")
    assert selectors.points_total(user=volunteer, year=YEAR) == 0


def test_daily_cap(volunteer):
    rule(RuleKind.HOUR, 1, cap_per_day=8)
    services.points_post_for_record(record=make_record(volunteer, hour=8, minutes=300))
    services.points_post_for_record(record=make_record(volunteer, hour=14, minutes=300))
    capped = PointsEntry.objects.order_by("pk").last()
    assert capped.points == Decimal("3.00")
    assert "8" in capped.reason
    # Another day has room again.
    services.points_post_for_record(
        record=make_record(volunteer, day=datetime.date(YEAR, 6, 2), minutes=60)
    )
    assert selectors.points_total(user=volunteer, year=YEAR) == Decimal("9.00")


def test_activity_and_yearly_caps(tree, volunteer):
    rule(RuleKind.HOUR, 1, cap_per_activity=3, cap_per_year=4)
    activity = make_activity(tree.branch)
    services.points_post_for_record(record=make_record(volunteer, activity=activity, minutes=120))
    services.points_post_for_record(
        record=make_record(volunteer, activity=activity, hour=13, minutes=120)
    )
    assert list(PointsEntry.objects.order_by("pk").values_list("points", flat=True)) == [
        Decimal("2.00"),
        Decimal("1.00"),
    ]
    services.points_post_for_record(
        record=make_record(volunteer, day=datetime.date(YEAR, 6, 3), minutes=180)
    )
    assert selectors.points_total(user=volunteer, year=YEAR) == Decimal("4.00")
    last = PointsEntry.objects.order_by("pk").last()
    assert last.points == Decimal("1.00")
    with_reason = zh("capped at the yearly limit of %(cap)s") % {"cap": "4.00"}
    assert with_reason in last.reason


def test_statement_breakdown_and_total(rules, volunteer, tree):
    services.points_post_for_record(record=make_record(volunteer, minutes=60))
    services.points_post_for_record(
        record=make_record(volunteer, activity=make_activity(tree.branch), hour=14, minutes=120)
    )
    services.points_post_for_record(
        record=make_record(volunteer, day=datetime.date(YEAR - 1, 3, 1), minutes=60)
    )
    statement = list(selectors.points_statement(user=volunteer, year=YEAR))
    assert len(statement) == 3
    assert all(entry.reason for entry in statement)
    breakdown = selectors.points_breakdown(user=volunteer, year=YEAR)
    assert [(row["kind"], row["points"]) for row in breakdown] == [
        ("hour", Decimal("3.60")),
        ("activity", Decimal("0.50")),
    ]
    assert selectors.points_total(user=volunteer, year=YEAR) == Decimal("4.10")
    assert selectors.points_total(user=volunteer, year=YEAR + 5) == 0
