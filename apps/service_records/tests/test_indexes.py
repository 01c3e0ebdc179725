"""The record table's indexes: a submit writes as few index entries as the reads need.

Relations most records leave empty (activity, community, household, request, reviewer) have
partial indexes that hold only the records that name one; the volunteer and the team are
found through the composite indexes that start with them; the content fingerprint and the
audit entries' action, compared whole, have no second index for LIKE. These tests check that
the reads by each still find an index (sequential scans off: the test tables are small)."""

import pytest
from django.db import connection

from apps.core.models import AuditEntry
from apps.service_records.models import ServiceRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _no_sequential_scans():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


@pytest.mark.parametrize(
    "field", ["activity", "community", "care_recipient", "request", "reviewed_by"]
)
def test_a_rarely_set_relation_is_found_through_its_partial_index(field):
    assert f"record_{field}" in ServiceRecord.objects.filter(**{f"{field}_id": 7}).explain()


@pytest.mark.parametrize(
    ("lookup", "found_by"),
    [
        # Any of the indexes that start with the volunteer, or the team, will do.
        ({"volunteer_id": 7}, "Index Cond: (volunteer_id = 7)"),
        ({"team_id": 7}, "Index Cond: (team_id = 7)"),
        ({"content_fingerprint": "abc"}, "record_fingerprint"),
    ],
)
def test_the_records_of_a_volunteer_or_team_or_fingerprint_are_found_by_index(lookup, found_by):
    plan = ServiceRecord.objects.filter(**lookup).explain()
    assert found_by in plan and "Seq Scan" not in plan, plan


def test_audit_entries_are_found_by_action_and_by_target():
    assert "audit_action" in AuditEntry.objects.filter(action="service_record.submit").explain()
    assert "core_audite_target" in AuditEntry.objects.filter(target_type_id=3).explain()
