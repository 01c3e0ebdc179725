"""The record tallies the roll-up reads: kept by database triggers through every kind of write
(the review services, ratings, bulk inserts, queryset updates, deletes), so that after each
they equal the records counted one by one. Runs on SQLite (the default) and PostgreSQL (CI)."""

import datetime
import threading
from collections import defaultdict

import pytest
from django.db import connection
from django.db.models import Count, Sum

from apps.service_records import services, tallies
from apps.service_records.evaluations import evaluation_submit
from apps.service_records.models import (
    Evaluation,
    RaterKind,
    RecordStatus,
    RecordTally,
    ServiceRecord,
)
from apps.service_records.tests.helpers import at, category, make_record, unsaved_record

pytestmark = pytest.mark.django_db


def counted() -> dict:
    """The tallies worked out in Python, record by record, from the records and evaluations."""
    ratings = {
        row["record_id"]: (row["n"], row["s"])
        for row in Evaluation.objects.values("record_id").annotate(n=Count("pk"), s=Sum("stars"))
    }
    out = defaultdict(lambda: [0, 0, 0, 0, 0])
    for record in ServiceRecord.objects.filter(status=RecordStatus.APPROVED):
        figures = out[record.volunteer_id, record.service_date.year, record.team_id or 0]
        n, stars = ratings.get(record.pk, (0, 0))
        for index, value in enumerate(
            (record.duration_minutes, 1, 0 if record.is_late else 1, n, stars)
        ):
            figures[index] += value
    return {key: tuple(figures) for key, figures in out.items()}


def kept() -> dict:
    return {
        (t.volunteer_id, t.year, t.team_key): (
            t.approved_minutes,
            t.records,
            t.on_time_records,
            t.ratings,
            t.rating_stars,
        )
        for t in RecordTally.objects.all()
    }


def assert_in_step():
    assert kept() == counted()
    records = ServiceRecord.objects.annotate(n=Count("evaluations"), s=Sum("evaluations__stars"))
    for record in records:
        assert (record.ratings_count, record.rating_stars_total) == (record.n, record.s or 0)
    for year in (2024, 2025, 2026, 2027):
        assert tallies.record_tally_differences(year=year) == (0, [])


def rate(record, stars, kind=RaterKind.RESIDENT):
    return Evaluation.objects.create(record=record, stars=stars, rater_kind=kind)


def test_the_tallies_follow_every_kind_of_write(world):
    cast, team = world.cast, world.team
    volunteer, leader, reviewer = cast.volunteer, cast.team_leader, cast.branch_secretary
    first = make_record(volunteer, start=at("2026-11-02", 9), team=team)
    second = make_record(volunteer, start=at("2026-11-03", 9), minutes=90, team=team)
    third = make_record(volunteer, start=at("2026-11-04", 9), minutes=30)
    assert kept() == {}  # awaiting review: not counted
    assert_in_step()

    services.service_record_approve(actor=reviewer, record=first)
    services.service_record_approve(actor=reviewer, record=second)
    services.service_record_reject(actor=reviewer, record=third, reason="时间不对")
    assert kept() == {(volunteer.pk, 2026, team.pk): (210, 2, 2, 0, 0)}
    assert_in_step()

    # Ratings through the service and straight into the table; a change of stars; a rating
    # moved to another record; one taken back.
    evaluation_submit(record=first, stars=5, comment="", rater_kind=RaterKind.RESIDENT)
    staff = rate(first, 4, RaterKind.COMMUNITY_STAFF)
    rate(second, 3)
    assert kept()[volunteer.pk, 2026, team.pk][3:] == (3, 12)
    assert_in_step()
    Evaluation.objects.filter(pk=staff.pk).update(stars=2)
    assert_in_step()
    Evaluation.objects.filter(pk=staff.pk).update(record=third)  # a rejected record
    assert kept()[volunteer.pk, 2026, team.pk][3:] == (2, 8)
    assert_in_step()
    Evaluation.objects.filter(pk=staff.pk).delete()
    assert_in_step()

    # Reopened: out of the tally with its ratings; approved again: back in.
    services.service_record_reopen(actor=reviewer, record=first, reason="核对时长")
    assert kept() == {(volunteer.pk, 2026, team.pk): (90, 1, 1, 1, 3)}
    assert_in_step()
    services.service_record_approve(actor=reviewer, record=first)
    assert_in_step()

    # Edits by queryset: another team, another year, another length, late, another volunteer.
    ServiceRecord.objects.filter(pk=second.pk).update(team=None)
    assert_in_step()
    ServiceRecord.objects.filter(pk=first.pk).update(service_date=datetime.date(2025, 12, 31))
    assert (volunteer.pk, 2025, team.pk) in kept()
    assert_in_step()
    ServiceRecord.objects.filter(pk=first.pk).update(
        duration_minutes=45, is_late=True, late_reason="补录"
    )
    assert_in_step()
    ServiceRecord.objects.filter(pk=second.pk).update(volunteer=cast.branch_secretary)
    assert_in_step()
    ServiceRecord.objects.filter(pk=second.pk).update(flags=[{"code": "x", "reason": "y"}])
    assert_in_step()  # a change the tallies do not watch

    # A bulk insert, then bulk status changes.
    made = ServiceRecord.objects.bulk_create(
        [
            ServiceRecord(
                volunteer=(volunteer, leader, cast.branch_secretary)[index % 3],
                activity_name="扫楼道",
                category=category(),
                started_at=at(day, 9),
                ended_at=at(day, 10),
                service_date=datetime.date.fromisoformat(day),
                duration_minutes=60,
                place="桂园社区",
                content="打扫",
                responsible_person="李明",
                source="import",
                status=(RecordStatus.APPROVED, RecordStatus.SUBMITTED)[index % 2],
                team=team if index % 4 else None,
                evaluation_token=f"bulk-{index}",
            )
            for index, day in enumerate(["2025-12-31", "2026-01-01", "2026-06-30"] * 8)
        ]
    )
    assert_in_step()
    ServiceRecord.objects.filter(pk__in=[r.pk for r in made[:12]]).update(
        status=RecordStatus.APPROVED
    )
    assert_in_step()
    ServiceRecord.objects.filter(pk__in=[r.pk for r in made[6:18]]).update(
        status=RecordStatus.REJECTED, team=world.other_team
    )
    assert_in_step()
    for record in made[:4]:
        rate(record, 4)
    assert_in_step()

    # Deleted, ratings and all; then everything: no tally row is left at zero.
    ServiceRecord.objects.filter(pk__in=[r.pk for r in made[:8]]).delete()
    assert_in_step()
    ServiceRecord.objects.all().delete()
    assert RecordTally.objects.count() == 0
    assert_in_step()


def test_saving_a_record_read_before_its_rating_keeps_the_rating(world):
    record = make_record(world.cast.volunteer, status=RecordStatus.APPROVED)
    stale = ServiceRecord.objects.get(pk=record.pk)
    rate(record, 5)
    stale.place = "湖滨社区"
    stale.save()
    record.refresh_from_db()
    assert (record.place, record.ratings_count, record.rating_stars_total) == ("湖滨社区", 1, 5)
    assert_in_step()


def test_a_check_finds_what_differs_and_a_recount_puts_it_right(world):
    volunteer = world.cast.volunteer
    record = make_record(volunteer, status=RecordStatus.APPROVED, team=world.team)
    make_record(volunteer, status=RecordStatus.APPROVED, start=at("2025-05-05", 9))
    rate(record, 4)
    assert_in_step()
    RecordTally.objects.filter(year=2026).update(records=9)  # a tally gone wrong
    RecordTally.objects.filter(year=2025).delete()  # one gone missing
    # A record whose ratings columns disagree with its evaluations (and a tally that
    # followed the column, as the triggers do).
    ServiceRecord.objects.filter(pk=record.pk).update(ratings_count=3)

    found, examples = tallies.record_tally_differences(year=2026)
    assert found == 2
    assert examples[0]["tally"][1] == 9 and examples[0]["recount"][1] == 1
    assert examples[1] == {"record_id": record.pk, "volunteer_id": volunteer.pk, "tally": (3, 4)}
    found, examples = tallies.record_tally_differences(year=2025)
    assert found == 1 and examples[0]["tally"] is None

    assert tallies.record_tally_recount(year=2026) == 1
    assert tallies.record_tally_recount(year=2025) == 1
    assert_in_step()


def test_the_triggers_are_installed_and_put_back_after_migrations(world):
    names = tallies.installed_triggers()
    wanted = {name for name, *_rest in tallies._wanted(connection)}
    assert wanted <= names
    # A migration that rebuilds the records table drops its triggers (SQLite does):
    # while they are away a record goes uncounted, and coming back they recount.
    tallies.drop_record_tally_triggers()
    assert not (wanted & tallies.installed_triggers())
    make_record(world.cast.volunteer, status=RecordStatus.APPROVED)
    assert kept() == {}
    tallies.reinstall_after_migrate(using="default")
    assert wanted <= tallies.installed_triggers()
    assert_in_step()
    # Nothing missing: nothing made, nothing recounted.
    assert tallies.install_record_tally_triggers() == []


@pytest.mark.postgres
def test_the_database_runs_the_functions_written_here(world):
    """A change to a function reaches databases made before it through a migration (0011: the
    tally functions return at once when no approved record is among the rows)."""
    with connection.cursor() as cursor:
        for _name, _table, _event, _transition, function, body in tallies._PG_TRIGGERS:
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [function])
            (source,) = cursor.fetchone()
            assert source.strip() and source.strip() in body
    assert "IF NOT EXISTS" in tallies._PG_TRIGGERS[0][-1]


def test_writes_of_records_waiting_for_review_leave_the_tallies_alone(world):
    before = kept()
    volunteer = world.cast.volunteer
    ServiceRecord.objects.bulk_create(
        [
            unsaved_record(volunteer, status=RecordStatus.SUBMITTED, start=at("2026-11-12", hour))
            for hour in (8, 10, 12)
        ]
    )
    ServiceRecord.objects.filter(volunteer=volunteer).update(content="改过的内容")
    assert kept() == before
    assert_in_step()


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_records_ratings_and_tallies(world):
    """Transactional tests end with a flush (SQLite: DELETE, row by row, triggers firing);
    the triggers never put a row back, so it ends clean."""
    record = make_record(world.cast.volunteer, status=RecordStatus.APPROVED, team=world.team)
    rate(record, 5)
    assert kept() == {(world.cast.volunteer.pk, 2026, world.team.pk): (120, 1, 1, 1, 5)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rating_and_a_reopening_at_the_same_moment_miss_nothing(world):
    """Two connections: one rates records while the other takes them out of the count, with
    no lock taken by the application. The rating's trigger updates the record row, which the
    reopening holds, so one waits for the other, whichever comes first."""
    records = [
        make_record(world.cast.volunteer, status=RecordStatus.APPROVED, start=at(day, 9))
        for day in ("2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08")
    ]
    barrier = threading.Barrier(2)
    errors = []

    def run(work):
        try:
            barrier.wait(timeout=5)
            work()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def rate_all():
        for record in records:
            rate(record, 4)

    def reopen_all():
        for record in reversed(records):
            ServiceRecord.objects.filter(pk=record.pk).update(status=RecordStatus.SUBMITTED)

    threads = [threading.Thread(target=run, args=(work,)) for work in (rate_all, reopen_all)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert kept() == {}
    assert_in_step()
    ServiceRecord.objects.update(status=RecordStatus.APPROVED)
    assert kept() == {(world.cast.volunteer.pk, 2026, 0): (480, 4, 4, 4, 16)}
    assert_in_step()
