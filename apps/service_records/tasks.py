"""Background work of the service records: thin tasks that take ids and call the services."""

import logging
import time

from celery import shared_task
from django.core.cache import cache
from django.utils.translation import gettext as _

from .models import ImportJob, ImportStatus, ServiceRecord

logger = logging.getLogger(__name__)

#: Present while a sweep of the records waiting for their checks is queued.
SWEEP_QUEUED_KEY = "service_records:checks-sweep-queued"
#: A sweep starts this long after the first record that asked for it, and takes in every
#: record committed meanwhile: one task per few seconds, not one per record.
SWEEP_DELAY_SECONDS = 2
#: If a queued sweep is lost (a worker killed), the next record queues one after this long;
#: the beat schedule sweeps every few minutes in any case.
SWEEP_QUEUED_SECONDS = 60


@shared_task(name="service_records.run_import")
def run_import(job_id: int) -> str:
    """Check and write an import job. Running it twice does what running it once did: only a
    waiting job is taken up."""
    from .imports import import_job_run

    try:
        job = import_job_run(job_id=job_id)
    except ImportJob.DoesNotExist:
        return "missing"
    except Exception:
        logger.exception("import job %s stopped", job_id)
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED,
            message=_("The import stopped because of an unexpected error; nothing was saved."),
        )
        raise
    return job.status


#: The value under ``SWEEP_QUEUED_KEY`` is when the queued sweep starts (``time.time()``).
#: A process that has seen it skips the cache until this long before then: the sweep has
#: surely not started, and will find a record committed now. The margin is for clocks (one
#: site's machines, kept by NTP, agree within milliseconds); were one further off, a record
#: it committed would wait for the next sweep, or the beat's, and nothing would be lost.
SWEEP_MARGIN_SECONDS = 0.25
_seen = {"due": float("-inf")}  # when the latest sweep this process knows of starts


def forget_queued_sweep() -> None:
    """Know of no queued sweep (tests start so: the broker's messages are purged between them)."""
    _seen["due"] = float("-inf")


def queue_waiting_checks() -> None:
    """After a record waiting for its checks is committed: queue a sweep, unless one is
    queued already and has not started (it will find this record too)."""
    now = time.time()
    if now < _seen["due"] - SWEEP_MARGIN_SECONDS:
        return
    due = now + SWEEP_DELAY_SECONDS
    if cache.add(SWEEP_QUEUED_KEY, due, SWEEP_QUEUED_SECONDS):
        check_waiting_records.apply_async(countdown=SWEEP_DELAY_SECONDS)
        if not check_waiting_records.app.conf.task_always_eager:  # eager: it has run already
            _seen["due"] = due
        return
    queued = cache.get(SWEEP_QUEUED_KEY)  # queued by another process: when does it start?
    if isinstance(queued, float):
        _seen["due"] = queued


@shared_task(name="service_records.check_waiting_records", ignore_result=True)
def check_waiting_records() -> int:
    """Run the checks against formalism on every record waiting for them."""
    from .checks import check_waiting_records as check

    # Cleared before looking: a record committed from now on queues the next sweep, and one
    # committed before is seen by this one.
    cache.delete(SWEEP_QUEUED_KEY)
    return check()


@shared_task(name="service_records.refresh_flags", ignore_result=True)
def refresh_record_flags(record_id: int) -> str:
    """Run the checks against formalism on a committed record and store its flags."""
    from .checks import refresh_flags

    record = ServiceRecord.objects.filter(pk=record_id).first()
    if record is None:
        return "missing"
    refresh_flags(record)
    return "checked"
