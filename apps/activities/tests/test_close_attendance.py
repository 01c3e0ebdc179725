"""The automatic check-out at the end, the task that runs it, and its beat schedule."""

import datetime
import logging

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.activities import services, tasks
from apps.activities.models import Activity, Attendance, AttendanceMethod, Signup, SignupStatus
from apps.activities.tests.fixtures import HOUR, make_activity, new_volunteer, sign_up
from apps.service_records.models import RecordSource, ServiceRecord
from apps.service_records.services import service_record_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(aworld):
    """``finished``: ended two hours ago. The volunteer checked in and never checked out;
    ``absent`` signed up and never came; ``waiting`` is on the waiting list."""
    finished = make_activity(
        aworld.team, starts_at=timezone.now() - 4 * HOUR, community=aworld.community
    )
    aworld.finished = finished
    aworld.still_in = sign_up(
        finished,
        aworld.cast.volunteer,
        checked_in_at=finished.starts_at + datetime.timedelta(minutes=5),
        check_in_method=AttendanceMethod.QR,
        attendance=Attendance.CHECKED_IN,
    )
    aworld.absent = sign_up(finished, new_volunteer())
    aworld.waiting = sign_up(finished, new_volunteer(), status=SignupStatus.WAITLISTED)
    return aworld


def _state():
    return (
        list(Signup.objects.order_by("pk").values()),
        list(Activity.objects.order_by("pk").values("pk", "closed_at")),
        ServiceRecord.objects.count(),
    )


def test_close_checks_out_at_the_end_and_marks_no_shows(w):
    assert services.activity_close_attendance(activity=w.finished) == 1
    w.still_in.refresh_from_db()
    assert w.still_in.checked_out_at == w.finished.ends_at
    assert w.still_in.check_out_method == AttendanceMethod.AUTOMATIC
    assert w.still_in.attendance == Attendance.ATTENDED
    record = ServiceRecord.objects.get(signup=w.still_in)
    assert record.source == RecordSource.CHECK_IN and record.duration_minutes == 115
    w.absent.refresh_from_db()
    w.waiting.refresh_from_db()
    assert w.absent.attendance == Attendance.NO_SHOW
    assert w.waiting.attendance == Attendance.UNKNOWN
    w.finished.refresh_from_db()
    assert w.finished.closed_at is not None


def test_close_is_idempotent(w):
    services.activity_close_attendance(activity=w.finished)
    before = _state()
    assert services.activity_close_attendance(activity=w.finished) == 0
    assert _state() == before


def test_close_leaves_an_activity_under_way_alone(w):
    before = _state()
    assert services.activity_close_attendance(activity=w.published) == 0
    assert _state() == before


def test_refused_record_keeps_the_checkout_and_logs_a_warning(w, caplog):
    service_record_submit(
        actor=w.cast.volunteer,
        volunteer=w.cast.volunteer,
        activity_name="入户走访",
        category=w.category,
        started_at=w.finished.starts_at + HOUR,
        ended_at=w.finished.starts_at + 2 * HOUR,
        place="桂园路",
        content="走访独居老人",
        responsible_person="李明",
    )
    records = ServiceRecord.objects.count()
    with caplog.at_level(logging.WARNING, logger="apps.activities.services"):
        assert services.activity_close_attendance(activity=w.finished) == 1
    w.still_in.refresh_from_db()
    assert w.still_in.checked_out_at == w.finished.ends_at
    assert w.still_in.attendance == Attendance.ATTENDED
    assert ServiceRecord.objects.count() == records
    warnings = [r for r in caplog.records if r.name == "apps.activities.services"]
    assert warnings and warnings[0].levelno == logging.WARNING
    assert str(w.still_in.pk) in warnings[0].getMessage()
    w.finished.refresh_from_db()
    assert w.finished.closed_at is not None


def test_task_closes_what_is_past_the_window_in_batches(w):
    recent = make_activity(
        w.team, starts_at=timezone.now() - 2 * HOUR - datetime.timedelta(minutes=30)
    )  # ended 30 minutes ago: its QR codes still work
    more = [
        make_activity(w.other_team, starts_at=timezone.now() - (10 + n) * HOUR) for n in range(3)
    ]
    result = tasks.close_finished_activities(now=timezone.now(), batch_size=2)
    # The fixture's "ended" activity (yesterday), ``finished`` and the three more.
    assert result == {"activities": 5, "checked_out": 1}
    assert (
        not Activity.objects.filter(pk__in=[w.finished.pk, w.ended.pk] + [a.pk for a in more])
        .filter(closed_at__isnull=True)
        .exists()
    )
    recent.refresh_from_db()
    assert recent.closed_at is None
    assert tasks.close_finished_activities(now=timezone.now()) == {
        "activities": 0,
        "checked_out": 0,
    }


def test_task_runs_through_celery(w):
    # Eager in the test settings: the same call a worker makes.
    result = tasks.close_finished.delay().get()
    assert result["activities"] >= 2 and result["checked_out"] == 1


def test_beat_schedule_runs_every_ten_minutes(db):
    task = PeriodicTask.objects.get(task="activities.close_finished")
    assert task.enabled
    assert task.crontab.minute == "*/10"
    assert task.crontab.hour == "*"
