"""The record table's indexes: a submit writes as few index entries as the reads need.

Relations most records leave empty (activity, community, household, request, reviewer) have
partial indexes that hold only the records that name one; the volunteer and the team are
found through the composite indexes that start with them; the content fingerprint, the rating
link's token and the audit entries' action, compared whole, have no second index for LIKE;
what is never searched (when a record was entered, its category alone) has no index. These
tests check that the reads by each still find an index (sequential scans off: the test tables
are small)."""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.core.models import AuditEntry
from apps.service_records.models import ServiceRecord
from apps.service_records.selectors import own_totals_statement

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


def test_a_rating_link_finds_its_record_through_the_unique_token():
    plan = ServiceRecord.objects.filter(evaluation_token="abc").explain()
    assert "record_evaluation_token" in plan and "Seq Scan" not in plan, plan


def test_a_submit_writes_no_index_that_no_read_uses():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s",
            [ServiceRecord._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert not [d for d in definitions if "pattern_ops" in d], definitions
    single = {d.rsplit("(", 1)[1].rstrip(")") for d in definitions if "WHERE" not in d}
    assert not single & {"created_at", "category_id"}, definitions
    # Twelve whole-table indexes (the key, the token, the signup, five composites, one of them
    # covering "my records", the fingerprint, the date, the organisation, who entered it) and
    # five partial ones: adding one is a choice made here too.
    assert len(definitions) == 17, definitions


def test_two_records_never_share_a_rating_token(recworld):
    first, second = recworld.submitted, recworld.approved
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.filter(pk=second.pk).update(evaluation_token=first.evaluation_token)
    second.refresh_from_db()
    assert second.evaluation_token != first.evaluation_token


def test_my_records_figures_are_read_from_the_index_alone():
    # An index-only scan is a plan only for an index that holds every column the statement
    # reads; bitmap scans, which visit the table, are off so that the planner shows it.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        sql, params = own_totals_statement(7, 2026)
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using record_volunteer_day" in plan, plan
