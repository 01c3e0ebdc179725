"""A real Celery worker, consuming from Redis, writes an assessment export end to end."""

import io
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from apps.awards import rollup
from apps.awards.tests.conftest import NOW, YEAR, day
from apps.core.export_jobs import export_job_create
from apps.core.models import ExportJob, ExportStatus
from apps.core.tasks import exports_purge
from apps.core.tests.test_celery_worker import redis_app  # noqa: F401
from apps.points.tests.helpers import make_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wworld(world):
    """No points entries here: the append-only ledger refuses the flush after a
    transactional test on SQLite."""
    make_record(world.cast.volunteer, day=day(3), minutes=60, team=world.team)
    make_record(world.cast.team_leader, day=day(4), minutes=45)
    rollup.rollup_run_year(year=YEAR, now=NOW)
    return world


def _wait_until_finished(job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        if job.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"export job {job_id} did not finish in {timeout} s")


def test_a_worker_writes_the_workbook_of_a_job(redis_app, wworld):  # noqa: F811
    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            job = export_job_create(
                user=wworld.cast.branch_secretary,
                exporter="awards.assessment",
                format="xlsx",
                params={"year": YEAR, "organization": wworld.tree.branch.pk},
            )
            # Sent only after commit: inside the transaction the job still waits.
            assert job.status == ExportStatus.PENDING
        job = _wait_until_finished(job.pk)
        content = job.file.read()
        # The hourly purge, on the same worker: the expired file goes, the job stays.
        ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
        assert exports_purge.delay().get(timeout=30) == 1
    assert (job.status, job.progress, job.error) == (ExportStatus.DONE, 100, "")
    assert job.filename == f"assessment-{YEAR}-T-GY.xlsx"
    assert not ExportJob.objects.get(pk=job.pk).file
    book = load_workbook(io.BytesIO(content))
    members = {row[1]: row for row in book["成员汇总"].iter_rows(min_row=2, values_only=True)}
    assert members["王秀英"][3] == 1 and members["李明"][3] == 0.75
    assert book["服务记录"].max_row == 3  # the header and two records
