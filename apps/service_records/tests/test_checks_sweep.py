"""Records wait for the checks against formalism and one task checks them in batches.

A submit saves its record waiting (a ``QueuedCheck``) and, once committed, queues a sweep unless
one is queued already; the sweep checks every waiting record a batch at a time, with the same
flags as checking each alone, in the same few queries whatever the batch holds, and writes only
the records whose flags changed; a record whose checks fail does not hold up the others; the
beat schedule sweeps what a lost task left.
"""

import datetime
import threading
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from apps.care.models import CareRecipient
from apps.service_records import checks, services, tasks
from apps.service_records.models import QueuedCheck, ServiceRecord
from apps.service_records.tests.helpers import NOW, at, category, join_team, make_record
from apps.teams.tests.fixtures import make_volunteer
from volunteer_platform.celery import app as celery_app

pytestmark = pytest.mark.django_db

DUSTING = checks.content_fingerprint("清扫垃圾堆")


def queue(ids) -> None:
    """Put records back in the queue for their checks, as a submit or an import leaves them."""
    QueuedCheck.objects.bulk_create(
        [QueuedCheck(record_id=pk) for pk in ids], ignore_conflicts=True
    )


def waiting():
    return ServiceRecord.objects.filter(queued_check__isnull=False)


def submit(volunteer, hour, **fields):
    return services.service_record_submit(
        actor=volunteer,
        volunteer=volunteer,
        activity_name="陪伴独居老人",
        category=category(),
        started_at=at("2026-11-12", hour),
        ended_at=at("2026-11-12", hour + 1),
        place="桂园社区",
        content="清扫垃圾堆",
        responsible_person="李明",
        now=NOW,
        **fields,
    )


def test_submits_queue_one_sweep_for_them_all(volunteer, django_capture_on_commit_callbacks):
    cache.delete(tasks.SWEEP_QUEUED_KEY)
    for day in range(2, 9):
        make_record(
            volunteer,
            start=at(datetime.date(2026, 11, day), 7),
            minutes=30,
            content_fingerprint=DUSTING,
        )
    with mock.patch.object(tasks.check_waiting_records, "apply_async") as queued:
        for hour in (9, 11, 13):
            with django_capture_on_commit_callbacks(execute=True):
                submit(volunteer, hour)
    assert queued.call_count == 1  # the first submit queued it; the others found it queued
    assert queued.call_args.kwargs == {"countdown": tasks.SWEEP_DELAY_SECONDS}
    assert waiting().count() == 3 and not waiting().exclude(flags=[]).exists()

    assert tasks.check_waiting_records() == 3
    assert not QueuedCheck.objects.exists()
    flagged = ServiceRecord.objects.filter(content_fingerprint=DUSTING, created_at=NOW)
    assert [f["code"] for r in flagged for f in r.flags] == ["same_content"] * 3
    assert cache.get(tasks.SWEEP_QUEUED_KEY) is None  # the next submit queues the next sweep
    assert tasks.check_waiting_records() == 0  # running it again is harmless


def _varied_records(volunteer, team, community):
    """Records that raise every kind of flag the sweep reads in one go, and some that don't."""
    join_team(volunteer, team)
    recipient = CareRecipient.objects.create(name="测试老人甲", community=community)
    peers = [make_volunteer() for _ in range(3)]
    for n, peer in enumerate(peers):
        join_team(peer, team)
        make_record(peer, start=at("2026-11-03", 9), minutes=60 * (n + 1), team=team)
    records = []
    for day in range(2, 12):
        records.append(
            make_record(
                volunteer,
                start=at(datetime.date(2026, 11, day), 13),
                minutes=180,
                team=team,
                content_fingerprint=DUSTING,
            )
        )
    for hour in (8, 10, 12):
        records.append(
            make_record(
                peers[0], start=at("2026-11-20", hour), minutes=30, care_recipient=recipient
            )
        )
    records.append(make_record(peers[1], start=at("2026-10-05", 9), team=team))
    return records


def test_a_batch_gets_the_flags_each_record_gets_alone(volunteer, team, community):
    records = _varied_records(volunteer, team, community)
    alone = {record.pk: checks.record_flags(record) for record in records}
    assert {f["code"] for flags in alone.values() for f in flags} == {
        "same_content",
        "peer_hours",
        "recipient_per_day",
    }
    queue(alone)
    assert checks.check_waiting_records(batch=4) == len(records)
    for record in ServiceRecord.objects.filter(pk__in=alone):
        assert record.flags == alone[record.pk], record
    assert not QueuedCheck.objects.exists()


def test_a_batch_reads_the_same_few_queries_whatever_its_size(volunteer, team):
    join_team(volunteer, team)

    def sweep(count, day):
        for n in range(count):
            start = at(day, 0) + datetime.timedelta(minutes=10 * n)
            make_record(volunteer, start=start, minutes=5, team=team, content_fingerprint=DUSTING)
        queue(ServiceRecord.objects.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as queries:
            assert checks.check_waiting_records() == ServiceRecord.objects.count()
        return len(queries)

    # Both batches are flagged alike (the same description more than five times), so both
    # write their flags: the waiting rows, photos, descriptions, the team's months, one
    # UPDATE for the flags, one DELETE for their places in the queue.
    small = sweep(8, "2026-11-10")
    assert all(r.flags for r in ServiceRecord.objects.all())
    assert sweep(60, "2026-11-11") == small


def test_a_batch_months_apart_counts_each_description_within_its_own_window(volunteer):
    """The batch reads its descriptions over every day its windows cover; a record still counts
    only the occasions within 30 days of its own: four in January and four in April are not
    eight of the same description."""
    dusting = [
        make_record(
            volunteer,
            start=at(datetime.date(2026, month, day), 9),
            minutes=30,
            content="清扫垃圾堆",
            content_fingerprint=DUSTING,
        )
        for month in (1, 4)
        for day in (5, 6, 7, 8)
    ]
    other = make_record(volunteer, start=at("2026-06-10", 9), minutes=30, content="理发")
    batch = [dusting[0], dusting[-1], other]
    queue(record.pk for record in batch)
    assert checks.check_waiting_records() == 3
    assert all(r.flags == [] for r in ServiceRecord.objects.filter(pk__in=[r.pk for r in batch]))
    # Two more in April make six there: the April records are flagged, January's are not.
    for day in (9, 10):
        dusting.append(
            make_record(
                volunteer,
                start=at(datetime.date(2026, 4, day), 9),
                minutes=30,
                content="清扫垃圾堆",
                content_fingerprint=DUSTING,
            )
        )
    found = checks.records_flags([dusting[0], dusting[-1], other])
    assert [[f["code"] for f in found[r.pk]] for r in (dusting[0], dusting[-1], other)] == [
        [],
        ["same_content"],
        [],
    ]


def test_records_the_checks_find_nothing_in_are_not_written_again(volunteer, team):
    """Their place in the queue goes; the records themselves (and their many index entries)
    stay as they were saved: only a record whose flags change is written."""
    join_team(volunteer, team)
    quiet = [
        make_record(volunteer, start=at(datetime.date(2026, 11, day), 9), content=f"第{day}次服务")
        for day in range(2, 6)
    ]
    queue(record.pk for record in quiet)
    table = ServiceRecord._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        assert checks.check_waiting_records() == len(quiet)
    written = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert not any(table in sql for sql in written), written
    assert not QueuedCheck.objects.exists()
    assert all(r.flags == [] for r in ServiceRecord.objects.filter(pk__in=[q.pk for q in quiet]))


def test_a_queued_check_goes_with_its_record(volunteer):
    record = make_record(volunteer, start=at("2026-11-10", 9))
    queue([record.pk])
    record.delete()
    assert not QueuedCheck.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_record_locked_elsewhere_stays_queued_for_the_next_sweep(volunteer):
    """A correction being saved holds its record: the sweep leaves it (and its place in the
    queue) for the next one instead of waiting, or writing flags from before the correction."""
    held, other = (
        make_record(volunteer, start=at("2026-11-10", hour), content=f"服务{hour}")
        for hour in (9, 11)
    )
    queue([held.pk, other.pk])
    locked, release = threading.Event(), threading.Event()

    def correction():
        try:
            with transaction.atomic():
                ServiceRecord.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=correction)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        assert checks.check_waiting_records() == 1
        assert list(QueuedCheck.objects.values_list("record_id", flat=True)) == [held.pk]
    finally:
        release.set()
        thread.join(timeout=10)
    assert checks.check_waiting_records() == 1
    assert not QueuedCheck.objects.exists()


@pytest.mark.allow_error_logs
def test_a_record_whose_checks_fail_does_not_hold_up_the_others(volunteer, team, community):
    records = _varied_records(volunteer, team, community)
    broken = records[-2]
    recipient_flags = checks._recipient_flags

    def fail_on_one(record):
        if record.pk == broken.pk:
            raise RuntimeError("a check went wrong")
        return recipient_flags(record)

    queue(r.pk for r in records)
    with mock.patch.object(checks, "_recipient_flags", fail_on_one):
        checks.check_waiting_records(batch=50)
    assert not QueuedCheck.objects.exists()
    assert ServiceRecord.objects.get(pk=records[0].pk).flags  # the others were checked
    assert ServiceRecord.objects.get(pk=broken.pk).flags == []  # left as it was


def test_the_beat_sweeps_what_a_lost_task_left():
    entry = PeriodicTask.objects.get(task="service_records.check_waiting_records")
    assert entry.enabled
    assert "service_records.check_waiting_records" in celery_app.tasks


@pytest.fixture
def queued_for_real(settings):
    """As with a broker: a queued sweep waits for its countdown instead of running at once."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True
    tasks.forget_queued_sweep()


def test_a_process_that_queued_a_sweep_skips_the_cache_until_shortly_before_it_starts(
    queued_for_real, monkeypatch
):
    cache.delete(tasks.SWEEP_QUEUED_KEY)
    now = [1_000_000.0]
    monkeypatch.setattr(tasks.time, "time", lambda: now[0])
    with (
        mock.patch.object(tasks.check_waiting_records, "apply_async") as queued,
        mock.patch.object(tasks, "cache", wraps=cache) as shared,
    ):
        tasks.queue_waiting_checks()
        assert queued.call_count == 1 and shared.add.call_count == 1
        assert cache.get(tasks.SWEEP_QUEUED_KEY) == now[0] + tasks.SWEEP_DELAY_SECONDS
        now[0] += tasks.SWEEP_DELAY_SECONDS - tasks.SWEEP_MARGIN_SECONDS - 0.01
        tasks.queue_waiting_checks()  # surely not started yet: no need to ask
        assert shared.add.call_count == 1 and not shared.get.called
        now[0] += 0.02
        tasks.queue_waiting_checks()  # it may start any moment: ask again (still queued)
        assert shared.add.call_count == 2 and queued.call_count == 1
    cache.delete(tasks.SWEEP_QUEUED_KEY)


def test_a_sweep_queued_by_another_process_is_learned_from_the_cache(queued_for_real):
    due = time.time() + tasks.SWEEP_DELAY_SECONDS
    cache.set(tasks.SWEEP_QUEUED_KEY, due, tasks.SWEEP_QUEUED_SECONDS)  # the other process
    with (
        mock.patch.object(tasks.check_waiting_records, "apply_async") as queued,
        mock.patch.object(tasks, "cache", wraps=cache) as shared,
    ):
        tasks.queue_waiting_checks()
        assert not queued.called and shared.get.call_count == 1
        tasks.queue_waiting_checks()
        assert shared.add.call_count == 1 and shared.get.call_count == 1
    cache.delete(tasks.SWEEP_QUEUED_KEY)


def test_with_tasks_run_at_once_every_commit_may_queue_a_sweep(django_capture_on_commit_callbacks):
    # Eagerly (no broker: the embedded default and the tests) the sweep has run already when
    # it is queued, so nothing is remembered and the next record queues its own.
    cache.delete(tasks.SWEEP_QUEUED_KEY)
    with mock.patch.object(tasks.check_waiting_records, "apply_async") as queued:
        tasks.queue_waiting_checks()
        cache.delete(tasks.SWEEP_QUEUED_KEY)  # as the sweep does when it runs
        tasks.queue_waiting_checks()
    assert queued.call_count == 2
    cache.delete(tasks.SWEEP_QUEUED_KEY)
