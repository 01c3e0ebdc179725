"""A large import runs on a real Celery worker consuming from Redis, and reports progress."""

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from apps.core.tests.test_celery_worker import redis_app  # noqa: F401
from apps.service_records.imports import import_job_create
from apps.service_records.models import ImportJob, ImportKind, ImportStatus, ServiceRecord
from apps.service_records.tests.import_fixtures import elderly, profile, records_file

pytestmark = pytest.mark.worker


@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_large_import(redis_app, world, settings):  # noqa: F811
    settings.IMPORT_SYNC_MAX_ROWS = 5
    elderly()
    profile(world.cast.volunteer, "V000000001")
    first_day = timezone.localdate() - datetime.timedelta(days=3)
    rows = []
    for day in range(3):
        date = first_day + datetime.timedelta(days=day)
        for hour in (8, 10, 14, 16):
            rows.append(
                {"start": f"{date} {hour:02d}:00", "end": f"{date} {hour + 1:02d}:00", "hours": 1}
            )

    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        job = import_job_create(
            actor=world.cast.branch_secretary,
            kind=ImportKind.SERVICE_RECORDS,
            file=records_file(rows),
        )
        assert job.status == ImportStatus.PENDING  # handed to the worker, not run here
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
                break
            time.sleep(0.2)

    assert job.status == ImportStatus.DONE, (job.message, job.errors)
    assert (job.processed_rows, job.imported_rows) == (12, 12)
    assert ServiceRecord.objects.filter(volunteer=world.cast.volunteer).count() == 12
    assert ImportJob.objects.count() == 1
