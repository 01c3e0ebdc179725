"""What counts as hours, whose records a user sees, what waits for review."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.service_records import selectors
from apps.service_records.models import RecordStatus
from apps.service_records.tests.helpers import at, make_record

pytestmark = pytest.mark.django_db


def test_only_approved_hours_count_and_pending_are_shown_apart(recworld):
    volunteer = recworld.cast.volunteer
    # recworld: 2 h submitted, 2 h approved, 2 h rejected in November 2026
    make_record(volunteer, start=at("2025-12-31", 23), minutes=60, status=RecordStatus.APPROVED)
    make_record(volunteer, start=at("2026-01-01", 0), minutes=30, status=RecordStatus.APPROVED)
    make_record(volunteer, start=at("2026-03-05", 9), minutes=45, status=RecordStatus.REVOKED)
    assert selectors.hours_in_year(user=volunteer, year=2026) == {
        "approved_minutes": 150,
        "pending_minutes": 120,
        "approved_hours": 2.5,
        "pending_hours": 2.0,
        "total_approved_hours": 3.5,  # all years: 60 + 30 + 120 minutes
    }
    # 23:00 on New Year's Eve in Shanghai is still 2025 there.
    assert selectors.hours_in_year(user=volunteer, year=2025)["approved_minutes"] == 60


@pytest.mark.postgres
def test_own_hours_are_read_through_a_statement_prepared_and_planned_once(recworld, settings):
    """ "My records" reads one's own figures on every visit: with prepared statements on, the
    same figures, from one statement each connection prepares once and plans once."""
    from django.db import connections

    from apps.core import prepared

    volunteer = recworld.cast.volunteer
    make_record(volunteer, start=at("2026-01-01", 0), minutes=30, status=RecordStatus.APPROVED)
    as_text = selectors.hours_in_year(user=volunteer, year=2026, with_stamp=True)

    settings.DATABASE_PREPARED_STATEMENTS = True
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    prepared._prepared.pop(connection.connection, None)
    with CaptureQueriesContext(connection) as sent:
        answers = [
            selectors.hours_in_year(user=volunteer, year=2026, with_stamp=True) for _ in range(3)
        ]
    assert answers == [as_text] * 3
    statements = [q["sql"] for q in sent.captured_queries]
    assert statements[0].startswith("PREPARE vp_statement_")
    name = statements[0].split()[1]
    assert [sql.split("(")[0] for sql in statements[1:]] == [f"EXECUTE {name}"] * 3

    # A connection of its own, as a gunicorn worker has, plans it once (the generic plan).
    fresh = connections.create_connection("default")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("apps.service_records.selectors.connection", fresh)
            for _ in range(4):
                selectors.hours_in_year(user=volunteer, year=2026, with_stamp=True)
        with fresh.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
                [name],
            )
            assert cursor.fetchall() == [(4, 0)]
    finally:
        fresh.close()


def test_someone_elses_hours_only_within_reach(recworld):
    volunteer = recworld.cast.volunteer
    seen = selectors.hours_in_year(
        user=recworld.cast.branch_secretary, year=2026, volunteer=volunteer
    )
    assert seen["approved_minutes"] == 120
    unseen = selectors.hours_in_year(
        user=recworld.cast.other_branch_secretary, year=2026, volunteer=volunteer
    )
    assert unseen["approved_minutes"] == 0


def test_hours_by_month(recworld):
    volunteer = recworld.cast.volunteer
    make_record(volunteer, start=at("2026-03-05", 9), minutes=45, status=RecordStatus.APPROVED)
    months = selectors.volunteer_hours_by_month(user=volunteer, year=2026)
    assert len(months) == 12
    assert months[2] == {"month": 3, "approved_minutes": 45, "pending_minutes": 0}
    assert months[10] == {"month": 11, "approved_minutes": 120, "pending_minutes": 120}


@pytest.mark.parametrize(
    ("hours", "stars"),
    [(0, 0), (99.9, 0), (100, 1), (299, 1), (300, 2), (600, 3), (1000, 4), (1500, 5), (9999, 5)],
)
def test_star_level(hours, stars):
    assert selectors.star_level(hours=hours) == stars


def test_star_levels_are_configurable(settings):
    settings.VOLUNTEER_STAR_HOURS = [8, 10, 15, 20, 25]
    assert selectors.star_level(hours=12) == 2


def test_service_record_list_is_the_users_own_by_default(recworld):
    secretary = recworld.cast.branch_secretary
    assert list(selectors.service_record_list(user=secretary)) == []
    visible = selectors.service_record_list(user=secretary, mine=False, year=2026)
    assert {r.pk for r in visible} == {
        recworld.submitted.pk,
        recworld.approved.pk,
        recworld.rejected.pk,
    }
    mine = selectors.service_record_list(user=recworld.cast.volunteer, status=RecordStatus.APPROVED)
    assert [r.pk for r in mine] == [recworld.approved.pk]
    assert selectors.service_record_list(user=recworld.cast.outsider, mine=False).count() == 0


def test_review_queue_puts_flagged_records_first_and_never_the_users_own(recworld):
    leader = recworld.cast.team_leader
    flagged = make_record(
        recworld.cast.volunteer,
        start=at("2026-11-09", 9),
        team=recworld.team,
        flags=[{"code": "same_photo", "reason": "同一照片", "params": {}}],
    )
    make_record(leader, start=at("2026-11-01", 9), team=recworld.team)
    queue = list(selectors.review_queue(user=leader))
    assert [r.pk for r in queue] == [flagged.pk, recworld.submitted.pk]
    assert selectors.review_queue(user=recworld.cast.volunteer).count() == 0
    assert selectors.review_queue(user=recworld.cast.inspector).count() == 0
    assert selectors.review_queue(user=recworld.cast.other_branch_secretary).count() == 0


def test_review_queue_reads_in_constant_queries(recworld):
    shown = []

    def count():
        with CaptureQueriesContext(connection) as queries:
            for record in selectors.review_queue(user=recworld.cast.branch_secretary):
                shown.append((record.volunteer.real_name, record.category.name))
                shown.append((record.team.name, record.community.name, record.evidence_count))
        return len(queries)

    count()  # the user's scope is read once and kept
    small = count()
    for i in range(30):
        make_record(
            recworld.cast.volunteer,
            start=at("2026-06-01", 8) + datetime.timedelta(hours=3 * i),
            team=recworld.team,
            community=recworld.community,
        )
    assert count() == small == 1
    assert len(shown) > 60


def test_team_records(recworld):
    rows = selectors.team_records(user=recworld.cast.team_leader, team=recworld.team, year=2026)
    assert rows.count() == 3
    assert selectors.team_records(user=recworld.cast.outsider, team=recworld.team).count() == 0
    assert (
        selectors.team_records(
            user=recworld.cast.team_leader, team=recworld.team, status=RecordStatus.REJECTED
        ).count()
        == 1
    )
