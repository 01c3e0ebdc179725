"""The ledger is append-only in the database itself (SQLite here, PostgreSQL with
DATABASE_URL): updates and deletes are refused, a reversal happens once."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.points import services
from apps.points.models import PointsEntry, RuleKind
from apps.points.tests.helpers import make_record, rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(volunteer):
    rule(RuleKind.HOUR, 1)
    return services.points_post_for_record(record=make_record(volunteer, code="environment"))[0]


def test_an_entry_cannot_be_saved_again(entry):
    entry.points = Decimal("100")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.save()
    assert PointsEntry.objects.get().points == Decimal("1.50")


def test_a_queryset_update_is_refused(entry):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(reason="改过")
    assert PointsEntry.objects.get().reason == entry.reason


def test_delete_is_refused(entry):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PointsEntry.objects.all().delete()
    assert PointsEntry.objects.count() == 1


def test_an_entry_is_reversed_once(entry, volunteer):
    services.points_reverse_for_record(record=entry_record(entry), reason="更正")
    reversal = PointsEntry.objects.get(reverses=entry)
    duplicate = PointsEntry(
        volunteer=volunteer,
        points=-entry.points,
        kind=entry.kind,
        rule=entry.rule,
        rule_version=1,
        source_type=entry.source_type,
        source_id=entry.source_id,
        reason="再冲销一次",
        counted_on=entry.counted_on,
        reverses=entry,
        posting_key="another-key",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert PointsEntry.objects.filter(reverses=entry).get() == reversal


def entry_record(entry):
    from apps.service_records.models import ServiceRecord

    return ServiceRecord.objects.get(pk=entry.source_id)


@pytest.mark.django_db(transaction=True)
def test_a_test_with_real_commits_may_post_points(volunteer):
    # Committed entries, and still append-only; the flush after this test empties the ledger
    # (on SQLite the fixtures set the delete trigger aside for it).
    rule(RuleKind.HOUR, 1)
    entry = services.points_post_for_record(record=make_record(volunteer, code="environment"))[0]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.delete()
    assert PointsEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_next_test_finds_the_ledger_empty_and_still_guarded(volunteer):
    assert not PointsEntry.objects.exists()
    rule(RuleKind.HOUR, 1)
    entry = services.points_post_for_record(record=make_record(volunteer, code="environment"))[0]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).delete()
