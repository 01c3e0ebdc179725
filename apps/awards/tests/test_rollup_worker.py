"""A real Celery worker, consuming from Redis, runs the roll-up's parts and finishes the run."""

import pytest
from celery.contrib.testing.worker import start_worker

from apps.awards.models import AssessmentYear, RunStatus, VolunteerYearSummary
from apps.awards.rollup import rollup_begin
from apps.awards.tasks import rollup_part_task
from apps.awards.tests.conftest import NOW, YEAR, day
from apps.core.tests.test_celery_worker import redis_app  # noqa: F401
from apps.points.tests.helpers import make_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wworld(world):
    """No points entries here: the append-only ledger refuses the flush after a
    transactional test on SQLite."""
    make_record(world.cast.volunteer, day=day(3), minutes=60, team=world.team)
    make_record(world.cast.other_branch_secretary, day=day(4), minutes=45)
    return world


def test_worker_runs_every_part_and_the_last_one_finishes(redis_app, wworld):  # noqa: F811
    assessment_year, parts = rollup_begin(year=YEAR, now=NOW, parts=3)
    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        results = [rollup_part_task.delay(YEAR, assessment_year.run_token, part) for part in parts]
        finished = [result.get(timeout=30) for result in results]
    assert finished.count(True) == 1  # exactly one part saw the run complete
    assessment_year = AssessmentYear.objects.get(year=YEAR)
    assert assessment_year.run_status == RunStatus.DONE
    assert (assessment_year.run_parts_done, assessment_year.run_parts_total) == (3, 3)
    assert VolunteerYearSummary.objects.get(volunteer=wworld.cast.volunteer).approved_minutes == 60
