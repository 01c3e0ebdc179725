"""The recording rules (MCA Order 67), through the submit, enter-for-team and update services.

Every refusal has its message checked (in Chinese, as the pages show it) and leaves the database
as it was: no record, no photo, no audit entry.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from apps.core.models import AuditEntry
from apps.service_records import services
from apps.service_records.models import Evidence, RecordSource, RecordStatus, ServiceRecord
from apps.service_records.tests.helpers import (
    NOW,
    at,
    category,
    join_team,
    make_record,
    unsaved_record,
)
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def submit(volunteer, *, actor=None, **fields):
    fields.setdefault("activity_name", "陪伴独居老人")
    fields.setdefault("category", category())
    fields.setdefault("started_at", at("2026-11-12", 9))
    fields.setdefault("ended_at", at("2026-11-12", 11))
    fields.setdefault("place", "桂园社区")
    fields.setdefault("content", "上门陪伴聊天")
    fields.setdefault("responsible_person", "李明")
    fields.setdefault("now", NOW)
    return services.service_record_submit(actor=actor or volunteer, volunteer=volunteer, **fields)


def _state():
    return (ServiceRecord.objects.count(), Evidence.objects.count(), AuditEntry.objects.count())


def refused(call, field):
    """Run ``call``; it must refuse with a message on ``field`` and change nothing."""
    before = _state()
    with pytest.raises(ValidationError) as caught:
        call()
    assert _state() == before
    return caught.value.message_dict[field]


def test_a_good_record_is_saved_with_its_facts(volunteer):
    record = submit(volunteer)
    assert record.status == RecordStatus.SUBMITTED
    assert record.duration_minutes == 120
    assert record.service_date == datetime.date(2026, 11, 12)
    assert record.within_working_hours
    assert not record.is_late
    assert record.content_fingerprint
    assert record.created_at == NOW
    assert AuditEntry.objects.filter(action="service_record.submit").count() == 1


def test_overlapping_records_are_refused(volunteer):
    submit(volunteer, activity_name="助老理发")
    messages = refused(
        lambda: submit(volunteer, started_at=at("2026-11-12", 10), ended_at=at("2026-11-12", 12)),
        "started_at",
    )
    expected = zh(
        "This overlaps the record “%(name)s” from %(start)s to %(end)s: one person "
        "cannot serve twice at the same time."
    ) % {"name": "助老理发", "start": "2026-11-12 09:00", "end": "2026-11-12 11:00"}
    assert messages == [expected]


def test_back_to_back_records_do_not_overlap(volunteer):
    submit(volunteer)
    submit(volunteer, started_at=at("2026-11-12", 11), ended_at=at("2026-11-12", 12))
    assert ServiceRecord.objects.count() == 2


def test_a_rejected_record_does_not_block_its_time(volunteer):
    make_record(volunteer, start=at("2026-11-12", 9), status=RecordStatus.REJECTED)
    submit(volunteer)
    assert ServiceRecord.objects.count() == 2


def test_25_hours_in_a_day_are_refused(volunteer):
    messages = refused(
        lambda: submit(
            volunteer,
            started_at=at("2026-11-11", 0),
            ended_at=at("2026-11-12", 1),
            duration_minutes=25 * 60,
        ),
        "duration_minutes",
    )
    assert messages == [
        zh("At most %(hours)d hours of service can be recorded for one day.") % {"hours": 12}
    ]


SPAN_MESSAGE = (
    "One record covers at most %(hours)d hours from start to end: record longer service day by day."
)


def test_a_record_spanning_more_than_a_day_is_refused(volunteer):
    messages = refused(
        lambda: submit(
            volunteer,
            started_at=at("2026-11-10", 20),
            ended_at=at("2026-11-12", 8),
            duration_minutes=8 * 60,
        ),
        "ended_at",
    )
    assert messages == [zh(SPAN_MESSAGE) % {"hours": 24}]


def test_a_record_of_a_whole_day_is_accepted_and_its_overlaps_are_found(volunteer):
    """A day from start to end is allowed; a later record inside its span is refused, the
    overlap read looking back as far as a record can reach."""
    submit(
        volunteer,
        activity_name="防汛值守",
        started_at=at("2026-11-10", 9),
        ended_at=at("2026-11-11", 9),
        duration_minutes=10 * 60,
    )
    messages = refused(
        lambda: submit(
            volunteer, started_at=at("2026-11-11", 8, 30), ended_at=at("2026-11-11", 8, 45)
        ),
        "started_at",
    )
    assert messages == [
        zh(
            "This overlaps the record “%(name)s” from %(start)s to %(end)s: one person "
            "cannot serve twice at the same time."
        )
        % {"name": "防汛值守", "start": "2026-11-10 09:00", "end": "2026-11-11 09:00"}
    ]


def test_the_database_refuses_a_record_longer_than_a_day(volunteer):
    from django.db import IntegrityError, transaction

    record = unsaved_record(volunteer, start=at("2026-11-10", 9), minutes=60)
    record.ended_at = at("2026-11-11", 9, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()
    assert not ServiceRecord.objects.exists()


def test_a_day_cannot_add_up_to_more_than_the_cap(volunteer):
    make_record(volunteer, start=at("2026-11-12", 6), minutes=10 * 60)
    messages = refused(
        lambda: submit(volunteer, started_at=at("2026-11-12", 17), ended_at=at("2026-11-12", 20)),
        "duration_minutes",
    )
    assert messages == [
        zh(
            "At most %(hours)d hours of service can be recorded for one day; "
            "%(day)s already has %(existing)s hours."
        )
        % {"hours": 12, "day": "2026-11-12", "existing": 10.0}
    ]


def test_the_daily_cap_is_configurable(volunteer, settings):
    settings.SERVICE_RECORD_MAX_HOURS_PER_DAY = 1
    refused(lambda: submit(volunteer), "duration_minutes")


def test_a_future_date_is_refused(volunteer):
    messages = refused(
        lambda: submit(volunteer, started_at=at("2026-11-17", 9), ended_at=at("2026-11-17", 11)),
        "ended_at",
    )
    assert messages == [zh("Service can only be recorded once it has ended, not in advance.")]


def test_a_service_still_running_is_refused(volunteer):
    refused(
        lambda: submit(volunteer, started_at=at("2026-11-16", 9), ended_at=at("2026-11-16", 11)),
        "ended_at",
    )


def test_end_before_start_is_refused(volunteer):
    messages = refused(
        lambda: submit(volunteer, started_at=at("2026-11-12", 11), ended_at=at("2026-11-12", 9)),
        "ended_at",
    )
    assert zh("The end must be after the start.") in messages


@pytest.mark.parametrize("minutes", [0, -30])
def test_zero_or_negative_duration_is_refused(volunteer, minutes):
    messages = refused(lambda: submit(volunteer, duration_minutes=minutes), "duration_minutes")
    assert messages == [zh("The service time must be more than zero.")]


def test_a_duration_longer_than_the_span_is_refused(volunteer):
    messages = refused(lambda: submit(volunteer, duration_minutes=180), "duration_minutes")
    assert messages == [
        zh(
            "The service time (%(minutes)d minutes) cannot be longer than the time "
            "from start to end (%(span)d minutes)."
        )
        % {"minutes": 180, "span": 120}
    ]


def test_travel_can_be_left_out_of_the_duration(volunteer):
    record = submit(volunteer, duration_minutes=90)
    assert record.duration_minutes == 90


@pytest.mark.parametrize(
    ("name", "keyword"),
    [
        ("志愿服务工作会议", "会议"),
        ("志愿者聚餐", "聚餐"),
        ("团建拓展", "团建"),
        ("文艺汇演彩排", "彩排"),
        ("商业促销活动", "商业"),
    ],
)
def test_non_volunteer_activities_are_refused(volunteer, name, keyword):
    messages = refused(lambda: submit(volunteer, activity_name=name), "activity_name")
    assert messages == [
        zh(
            "“%(keyword)s” is not volunteer service: meetings, dinners, team-building, "
            "rehearsals and commercial events are not recorded (MCA Order 67 Art. 17)."
        )
        % {"keyword": keyword}
    ]


def test_missing_facts_are_named(volunteer):
    before = _state()
    with pytest.raises(ValidationError) as caught:
        submit(volunteer, activity_name=" ", place="", content="", category=None)
    assert _state() == before
    errors = caught.value.message_dict
    assert errors["activity_name"] == [zh("Give the activity's name.")]
    assert errors["place"] == [zh("Give the place.")]
    assert errors["content"] == [zh("Say what was done.")]
    assert errors["category"] == [zh("Choose a service category.")]


# Late entries (补录) ----------------------------------------------------------------------------


def test_the_tenth_working_day_is_in_time(volunteer):
    # 2026-11-02 (Monday) to 2026-11-16: ten working days.
    record = submit(volunteer, started_at=at("2026-11-02", 9), ended_at=at("2026-11-02", 11))
    assert not record.is_late
    assert record.late_reason == ""


def test_the_eleventh_working_day_needs_a_reason(volunteer):
    # 2026-10-30 (Friday) to 2026-11-16 (Monday): eleven working days.
    fields = {"started_at": at("2026-10-30", 9), "ended_at": at("2026-10-30", 11)}
    messages = refused(lambda: submit(volunteer, **fields), "late_reason")
    assert messages == [
        zh(
            "This service ended %(days)d working days ago; records are due within "
            "%(limit)d working days. Give a reason for the late entry (补录): a "
            "reviewer will check it."
        )
        % {"days": 11, "limit": 10}
    ]
    record = submit(volunteer, late_reason="社区停电，当时无法登记", **fields)
    assert record.is_late
    assert record.late_reason == "社区停电，当时无法登记"


def test_the_deadline_skips_the_national_day_week(volunteer):
    fields = {"started_at": at("2026-09-30", 9), "ended_at": at("2026-09-30", 11)}
    in_time = submit(volunteer, now=at("2026-10-20", 18), **fields)
    assert not in_time.is_late
    in_time.status = RecordStatus.REJECTED
    in_time.save()
    refused(lambda: submit(volunteer, now=at("2026-10-21", 9), **fields), "late_reason")


# Entering for a team ----------------------------------------------------------------------------


def team_fields():
    return {
        "activity_name": "清理楼道杂物",
        "category": category(),
        "started_at": at("2026-11-14", 9),
        "ended_at": at("2026-11-14", 11),
        "place": "桂园社区3栋",
        "content": "清理楼道堆放的杂物",
        "responsible_person": "李明",
        "now": NOW,
    }


def test_a_leader_enters_one_activity_for_the_team(team_leader, volunteer, team):
    join_team(volunteer, team)
    records = services.service_record_enter_for_team(
        actor=team_leader, team=team, volunteers=[volunteer, team_leader], **team_fields()
    )
    assert [r.source for r in records] == [RecordSource.LEADER, RecordSource.LEADER]
    assert {r.submitted_by for r in records} == {team_leader}
    assert all(r.team == team and r.organization == team.organization for r in records)
    assert all(r.flags == [] for r in records)


def test_someone_outside_the_team_is_refused(team_leader, volunteer, team, outsider):
    join_team(volunteer, team)
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_enter_for_team(
            actor=team_leader, team=team, volunteers=[volunteer, outsider], **team_fields()
        )
    assert _state() == before
    assert caught.value.message_dict["volunteers"] == [
        zh("Not active members of %(team)s: %(names)s.")
        % {"team": team.name, "names": outsider.get_full_name()}
    ]


def test_a_leader_of_another_team_may_not_enter(team_leader, other_team, volunteer):
    join_team(volunteer, other_team)
    before = _state()
    with pytest.raises(PermissionDenied):
        services.service_record_enter_for_team(
            actor=team_leader, team=other_team, volunteers=[volunteer], **team_fields()
        )
    assert _state() == before


def test_one_bad_volunteer_refuses_the_whole_batch(team_leader, volunteer, team):
    join_team(volunteer, team)
    make_record(volunteer, start=at("2026-11-14", 10))
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_enter_for_team(
            actor=team_leader, team=team, volunteers=[team_leader, volunteer], **team_fields()
        )
    assert _state() == before
    [message] = caught.value.message_dict["started_at"]
    assert message.startswith(f"{volunteer.get_full_name()}：")


def test_entering_for_nobody_is_refused(team_leader, team):
    messages = refused(
        lambda: services.service_record_enter_for_team(
            actor=team_leader, team=team, volunteers=[], **team_fields()
        ),
        "volunteers",
    )
    assert messages == [zh("Choose at least one volunteer.")]


def test_the_written_out_read_agrees_with_the_orm(volunteer, team_leader):
    """``rules.day_and_overlaps`` is one statement written out for speed: it answers what the
    ORM answers, for every kind of neighbour (same day, overlapping across midnight, rejected,
    someone else's, the record being corrected)."""
    from django.db.models import Count, Q, Sum

    from apps.service_records.rules import LIVE_STATUSES, day_and_overlaps

    late = make_record(volunteer, start=at("2026-11-11", 22), minutes=180)  # into the 12th
    make_record(volunteer, start=at("2026-11-12", 8), minutes=60)
    make_record(volunteer, start=at("2026-11-12", 9, 30), minutes=30)
    make_record(volunteer, start=at("2026-11-12", 14), minutes=45)
    make_record(volunteer, start=at("2026-11-12", 9), minutes=60, status=RecordStatus.REJECTED)
    make_record(volunteer, start=at("2026-11-13", 9), minutes=60, status=RecordStatus.APPROVED)
    make_record(team_leader, start=at("2026-11-12", 9), minutes=60)
    spans = [
        (at("2026-11-12", 9), at("2026-11-12", 10)),
        (at("2026-11-12", 0, 30), at("2026-11-12", 1)),
        (at("2026-11-12", 20), at("2026-11-12", 21)),
        (at("2026-11-13", 8), at("2026-11-13", 9, 30)),
        (at("2026-11-14", 8), at("2026-11-14", 9)),
    ]
    for start, end in spans:
        for exclude in (None, late.pk):
            day = timezone.localtime(start).date()
            others = ServiceRecord.objects.filter(volunteer=volunteer, status__in=LIVE_STATUSES)
            if exclude:
                others = others.exclude(pk=exclude)
            overlap = Q(started_at__lt=end, ended_at__gt=start)
            expected = others.filter(Q(service_date=day) | overlap).aggregate(
                already=Sum("duration_minutes", filter=Q(service_date=day)),
                overlaps=Count("pk", filter=overlap),
            )
            expected["already"] = expected["already"] or 0
            found = day_and_overlaps(
                volunteer_id=volunteer.pk,
                day=day,
                started_at=start,
                ended_at=end,
                exclude_pk=exclude,
            )
            assert found == expected, (start, end, exclude)


def _index_rows(plan: dict) -> list[int]:
    """The rows each scan of an index on the volunteer's records returned, in a plan (EXPLAIN
    ANALYZE, JSON). (An index the planner may take for the day alone, such as ``(status,
    service_date)``, holds everyone's records of the day, which other tests may have left.)"""
    rows = []
    if "Index Scan" in plan["Node Type"] and "volunte" in plan.get("Index Name", ""):
        rows.append(plan["Actual Rows"])
    for child in plan.get("Plans", []):
        rows += _index_rows(child)
    return rows


def _with_history(volunteer) -> None:
    """240 days of approved two-hour records from 9:00, from 2026-03-01."""
    first = datetime.date(2026, 3, 1)
    ServiceRecord.objects.bulk_create(
        unsaved_record(
            volunteer, start=at(first + datetime.timedelta(days=n), 9), status=RecordStatus.APPROVED
        )
        for n in range(240)
    )


def _read_with_its_index_rows(volunteer, day: str, start: int, end: int) -> tuple[dict, list]:
    """The rules' read for ``day`` from ``start`` to ``end`` o'clock, and the rows each of its
    index scans returned (EXPLAIN ANALYZE), with sequential scans off: a table this small
    would be read whole."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.service_records.rules import day_and_overlaps

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE service_records_servicerecord")
        cursor.execute("SET LOCAL enable_seqscan = off")
    with CaptureQueriesContext(connection) as read:
        found = day_and_overlaps(
            volunteer_id=volunteer.pk,
            day=datetime.date.fromisoformat(day),
            started_at=at(day, start),
            ended_at=at(day, end),
        )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + read.captured_queries[0]["sql"])
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return found, _index_rows(plan[0]["Plan"])


@pytest.mark.postgres
def test_the_overlap_read_does_not_go_through_the_whole_history(volunteer):
    """A volunteer with a long history logs yesterday's service: the rules' read looks at the
    records of that day and those ending after the new one starts, not at every earlier record
    (they all start before it ends)."""
    _with_history(volunteer)
    make_record(volunteer, start=at("2026-11-15", 8), minutes=60)  # the same day, earlier
    found, rows = _read_with_its_index_rows(volunteer, "2026-11-15", 9, 10)
    assert found == {"already": 60, "overlaps": 0}
    assert rows and max(rows) <= 2, rows


@pytest.mark.postgres
def test_an_earlier_day_logged_after_a_long_run_of_later_ones_reads_about_a_day(volunteer):
    """Records logged newest first (a backlog entered after later service): the records that
    end after the new one starts are all the later ones, but no record spans more than a day,
    so the read stops a day after the new one ends."""
    _with_history(volunteer)
    found, rows = _read_with_its_index_rows(volunteer, "2026-04-30", 20, 21)
    assert found == {"already": 120, "overlaps": 0}
    # The day's record, and the next day's, which ends within a day of the new one.
    assert rows and max(rows) <= 2, rows


@pytest.mark.postgres
def test_the_rules_read_is_planned_once_per_connection(settings):
    """Prepared and planned once: the next runs of the recording rules' read reuse the generic
    plan (``pg_prepared_statements.generic_plans``) and plan nothing afresh."""
    from django.db import connections

    from apps.service_records.rules import day_and_overlaps

    settings.DATABASE_PREPARED_STATEMENTS = True
    fresh = connections.create_connection("default")
    start = at("2026-11-12", 9)
    try:
        # A connection of its own, as a gunicorn worker has: the read goes through
        # django.db.connection, pointed at it.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("apps.service_records.rules.connection", fresh)
            for minute in range(4):
                day_and_overlaps(
                    volunteer_id=0,  # no rows needed: the plan is the point
                    day=start.date(),
                    started_at=start + datetime.timedelta(minutes=minute),
                    ended_at=start + datetime.timedelta(minutes=minute + 1),
                )
        with fresh.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%%service_records_servicerecord%%'"
            )
            assert cursor.fetchall() == [(4, 0)]
    finally:
        fresh.close()
