"""Background work of the service records: thin tasks that take ids and call the services."""

import logging

from celery import shared_task
from django.utils.translation import gettext as _

from .models import ImportJob, ImportStatus, ServiceRecord

logger = logging.getLogger(__name__)


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


@shared_task(name="service_records.refresh_flags")
def refresh_record_flags(record_id: int) -> str:
    """Run the checks against formalism on a committed record and store its flags."""
    from .checks import refresh_flags

    record = ServiceRecord.objects.filter(pk=record_id).first()
    if record is None:
        return "missing"
    refresh_flags(record)
    return "checked"
