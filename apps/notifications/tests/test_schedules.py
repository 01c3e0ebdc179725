"""The reminders' beat schedules: beat itself decides a reminder is due (at fixed times), and
an invalid crontab typed in the admin is refused with a clear message, nothing saved."""

import datetime
import threading
import zoneinfo
from importlib import import_module

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from apps.notifications import reminders, services
from apps.notifications.models import Notification, NotificationKind
from apps.notifications.tests.test_reminders_records import NOW, activity, signup
from conftest import zh
from volunteer_platform.celery import app as celery_app

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_TASKS = {
    "notifications.remind_activity_tomorrow",
    "notifications.remind_records_to_review",
    "notifications.remind_service_not_logged",
    "notifications.remind_deadline_near",
    "notifications.remind_certificates_waiting",
    "notifications.remind_campaign_ahead",
}


@pytest.fixture
def schedules(db):
    """The rows the migrations create (a transactional test elsewhere may have flushed them)."""
    from django.apps import apps

    for name in ("0002_periodic_tasks", "0004_more_periodic_tasks"):
        import_module(f"apps.notifications.migrations.{name}").create(apps, None)


def shanghai(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def test_migration_created_a_crontab_task_per_reminder(schedules):
    tasks = PeriodicTask.objects.filter(task__in=NEW_TASKS, enabled=True)
    assert set(tasks.values_list("task", flat=True)) == NEW_TASKS
    assert all(task.crontab_id for task in tasks)
    import apps.notifications.tasks  # noqa: F401  (registers them, as the worker does)

    assert set(NEW_TASKS) <= set(celery_app.tasks)


def _entry(name, *, now, last_run_at):
    """Beat's own entry for the task row, with its clock fixed at ``now``.

    (``DatabaseScheduler.all_as_schedule`` leaves out crontabs not due within the real
    current hour, so the entry is built the way the scheduler builds each of its entries.)
    """
    entry = DatabaseScheduler.Entry(PeriodicTask.objects.get(name=name), app=celery_app)
    assert isinstance(entry, ModelEntry)
    entry.schedule.nowfun = lambda: now
    entry.last_run_at = last_run_at
    return entry


def test_beat_finds_the_activity_reminder_due_at_its_time(schedules):
    name = "Reminder: activity tomorrow"  # 10:00 every day, Asia/Shanghai
    yesterday = shanghai(2026, 6, 14, 10, 0)
    before = _entry(name, now=shanghai(2026, 6, 15, 9, 59), last_run_at=yesterday)
    due, next_check = before.is_due()
    assert not due and 0 < next_check <= 60
    at_ten = _entry(name, now=shanghai(2026, 6, 15, 10, 0, 5), last_run_at=yesterday)
    assert at_ten.is_due()[0]
    # once run at 10:00, it is not due again until tomorrow
    after = _entry(
        name, now=shanghai(2026, 6, 15, 10, 1), last_run_at=shanghai(2026, 6, 15, 10, 0, 5)
    )
    due, next_check = after.is_due()
    assert not due and next_check == pytest.approx(24 * 3600 - 60, abs=60)


def test_staff_change_to_the_schedule_is_what_beat_follows(schedules):
    task = PeriodicTask.objects.get(task="notifications.remind_records_to_review")
    task.crontab = CrontabSchedule.objects.create(minute="30", hour="7", timezone="Asia/Shanghai")
    task.save()
    entry = _entry(
        task.name, now=shanghai(2026, 6, 15, 7, 30, 1), last_run_at=shanghai(2026, 6, 14, 8, 15)
    )
    assert entry.is_due()[0]


def test_disabled_reminder_is_never_due(schedules):
    task = PeriodicTask.objects.get(task="notifications.remind_campaign_ahead")
    task.enabled = False
    task.save()
    entry = ModelEntry(PeriodicTask.objects.get(pk=task.pk), app=celery_app)
    assert not entry.is_due()[0]


# --- An invalid crontab in the admin ----------------------------------------------------------


def _crontab_form(**fields):
    data = {
        "minute": "0",
        "hour": "8",
        "day_of_month": "*",
        "month_of_year": "*",
        "day_of_week": "*",
        "timezone": "Asia/Shanghai",
        # the inline of tasks using the schedule (read only, none added)
        "periodictask_set-TOTAL_FORMS": "0",
        "periodictask_set-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "minute",
            "61",
            "“%(value)s” is not a valid minute. Use 0–59, *, a list (0,30) or a step (*/15).",
        ),
        (
            "hour",
            "abc",
            "“%(value)s” is not a valid hour. Use 0–23, *, a list (8,18) or a range (8-17).",
        ),
        (
            "day_of_week",
            "9",
            "“%(value)s” is not a valid day of the week. Use 0–6 (0 is Sunday), * or a range.",
        ),
    ],
)
def test_invalid_crontab_refused_in_chinese(world, client, field, value, message):
    client.force_login(world.cast.city_admin)
    before = CrontabSchedule.objects.count()
    url = reverse("admin:django_celery_beat_crontabschedule_add")
    response = client.post(url, _crontab_form(**{field: value}))
    assert response.status_code == 200
    assert zh(message) % {"value": value} in response.context["adminform"].form.errors[field]
    assert (zh(message) % {"value": value}).split("。")[0] in response.content.decode()
    assert CrontabSchedule.objects.count() == before


def test_invalid_crontab_on_a_reminders_schedule_changes_nothing(schedules, world, client):
    task = PeriodicTask.objects.get(task="notifications.remind_activity_tomorrow")
    schedule = task.crontab
    client.force_login(world.cast.city_admin)
    url = reverse("admin:django_celery_beat_crontabschedule_change", args=[schedule.pk])
    response = client.post(url, _crontab_form(minute="61", hour="10"))
    assert response.status_code == 200
    assert "minute" in response.context["adminform"].form.errors
    schedule.refresh_from_db()
    assert (schedule.minute, schedule.hour) == ("0", "10")


def test_valid_crontab_saved(world, client):
    client.force_login(world.cast.city_admin)
    url = reverse("admin:django_celery_beat_crontabschedule_add")
    response = client.post(url, _crontab_form(minute="*/15", hour="8-17", day_of_week="1-5"))
    assert response.status_code == 302
    assert CrontabSchedule.objects.filter(minute="*/15", hour="8-17", day_of_week="1-5").exists()


# --- Never twice, at scale and at once -------------------------------------------------------


def _statements(queries):
    return [q["sql"].split()[0].upper() for q in queries.captured_queries]


def test_create_queries_per_thousand(volunteer):
    """PostgreSQL: one INSERT … ON CONFLICT DO NOTHING RETURNING per 1000 rows. SQLite: one
    look-up of the keys already there, then the insert (split by SQLite's parameter limit)."""
    items = [(volunteer.pk, f"bulk:{i}", "t", "", "") for i in range(1000)]
    with CaptureQueriesContext(connection) as queries:
        created = services.notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items)
    assert created == 1000
    statements = _statements(queries)
    if connection.vendor == "postgresql":
        assert statements == ["INSERT"]
    else:
        assert statements[0] == "SELECT" and set(statements[1:]) == {"INSERT"}
    with CaptureQueriesContext(connection) as queries:
        again = services.notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items)
    assert again == 0 and len(queries) == 1


def test_duplicate_items_in_one_batch_count_once(volunteer):
    items = [(volunteer.pk, "dup", "t", "", "")] * 3
    assert services.notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_run_the_same_reminder_at_once(world):
    """Two threads (two connections) run the activity reminder together: one per person."""
    cast = world.cast
    soon = activity(world.team, NOW + 30 * datetime.timedelta(hours=1))
    people = [cast.volunteer, cast.team_leader, cast.outsider, cast.inspector]
    for person in people:
        signup(soon, person)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(reminders.remind_activity_tomorrow(now=NOW))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Notification.objects.count() == len(people)
    assert sum(results) == len(people)  # exact: RETURNING counts only the rows inserted
    assert set(Notification.objects.values_list("user_id", flat=True)) == {p.pk for p in people}
