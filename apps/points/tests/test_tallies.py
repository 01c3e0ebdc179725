"""The points tallies the roll-up reads: each volunteer's points per year, kept by a trigger on
the append-only ledger, equal to the ledger summed after every way entries arrive (posting,
reversing, posting twice, a bulk insert across a year's end)."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from apps.points import services, tallies
from apps.points.models import PointsEntry, PointsTally, SourceType
from apps.points.tests.helpers import default_rules, make_record

pytestmark = pytest.mark.django_db


def summed() -> dict:
    out = defaultdict(Decimal)
    for entry in PointsEntry.objects.all():
        out[entry.volunteer_id, entry.counted_on.year] += entry.points
    return dict(out)


def kept() -> dict:
    return {(t.volunteer_id, t.year): t.points for t in PointsTally.objects.all()}


def assert_in_step():
    assert kept() == summed()
    for year in (2025, 2026, 2027):
        assert tallies.points_tally_differences(year=year) == (0, [])


def entry(volunteer, points, *, rule, counted_on, key):
    return PointsEntry(
        volunteer=volunteer,
        points=Decimal(points),
        kind=rule.kind,
        rule=rule,
        rule_version=rule.version,
        source_type=SourceType.ADJUSTMENT,
        source_id=key,
        reason="测试",
        counted_on=counted_on,
        posting_key=f"tally-test-{key}",
    )


def test_the_tallies_follow_the_ledger(volunteer, branch_secretary):
    rules = default_rules()
    record = make_record(volunteer, minutes=90)
    services.points_post_for_record(record=record)
    services.points_post_for_record(record=record)  # posting twice posts once
    assert kept() == {(volunteer.pk, 2026): Decimal("1.80")}  # 1.5 h × 1.2 (elderly)
    assert_in_step()

    services.points_reverse_for_record(record=record, reason="核对")
    assert kept() == {(volunteer.pk, 2026): Decimal("0.00")}  # a reversal, not a deletion
    assert_in_step()

    bonus = rules["bonus"]
    made = [
        entry(who, points, rule=bonus, counted_on=day, key=index)
        for index, (who, points, day) in enumerate(
            [
                (volunteer, "2.50", datetime.date(2025, 12, 31)),
                (volunteer, "0.10", datetime.date(2026, 1, 1)),
                (volunteer, "0.20", datetime.date(2026, 1, 1)),
                (branch_secretary, "-1.25", datetime.date(2026, 6, 1)),
                (branch_secretary, "3", datetime.date(2027, 1, 1)),
            ]
        )
    ]
    PointsEntry.objects.bulk_create(made)
    # The same keys again: the ledger ignores them, and so do the tallies.
    PointsEntry.objects.bulk_create(
        [entry(volunteer, "99", rule=bonus, counted_on=datetime.date(2026, 1, 1), key=1)],
        ignore_conflicts=True,
    )
    assert kept()[volunteer.pk, 2026] == Decimal("0.30")
    assert kept()[branch_secretary.pk, 2026] == Decimal("-1.25")
    assert_in_step()


def test_a_check_finds_what_differs_and_a_recount_puts_it_right(volunteer):
    rules = default_rules()
    PointsEntry.objects.bulk_create(
        [
            entry(volunteer, "4", rule=rules["bonus"], counted_on=datetime.date(2026, 3, 1), key=1),
            entry(volunteer, "1", rule=rules["bonus"], counted_on=datetime.date(2025, 3, 1), key=2),
        ]
    )
    PointsTally.objects.filter(year=2026).update(points=Decimal("40"))
    PointsTally.objects.filter(year=2025).delete()
    assert tallies.points_tally_differences(year=2026) == (
        1,
        [
            {
                "volunteer_id": volunteer.pk,
                "year": 2026,
                "tally": Decimal("40.00"),
                "recount": Decimal("4.00"),
            }
        ],
    )
    assert tallies.points_tally_differences(year=2025)[1][0]["tally"] is None
    assert tallies.points_tally_recount(year=2026) == 1
    assert tallies.points_tally_recount(year=2025) == 1
    assert_in_step()


def test_the_trigger_is_installed_and_put_back_after_migrations(volunteer):
    rules = default_rules()
    assert tallies.trigger_installed()
    tallies.drop_points_tally_trigger()
    assert not tallies.trigger_installed()
    entry(volunteer, "5", rule=rules["bonus"], counted_on=datetime.date(2026, 2, 2), key=7).save()
    assert kept() == {}
    tallies.reinstall_after_migrate(using=connection.alias)
    assert tallies.trigger_installed()
    assert_in_step()
    assert tallies.install_points_tally_trigger() is False  # nothing missing, nothing made
