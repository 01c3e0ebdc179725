"""Export jobs: an export asked for by one person, written by a task, kept until it expires.

Exporters register themselves here (from their app's ``ready()``), so ``core`` never imports
a domain app. A job is created only once its exporter has checked the person and the
parameters; the task reads through that person's scope again and writes the file; an hourly
task deletes the files whose time is up (their jobs stay, marked by an empty file).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .exporters import BaseExporter
from .models import ExportJob, ExportStatus
from .services import audit_log

logger = logging.getLogger(__name__)

_registry: dict[str, type[BaseExporter]] = {}


def register_exporter(exporter: type[BaseExporter]) -> type[BaseExporter]:
    """Offer an exporter for export jobs (usable as a class decorator)."""
    if not exporter.identifier:
        raise ValueError(f"{exporter.__name__} has no identifier")
    _registry[exporter.identifier] = exporter
    return exporter


def get_exporter(identifier: str) -> type[BaseExporter] | None:
    return _registry.get(identifier)


def registered_exporters() -> dict[str, type[BaseExporter]]:
    return dict(_registry)


def format_label(format_name: str) -> str:
    return {"xlsx": _("Excel workbook"), "csv": _("CSV file"), "pdf": _("PDF report")}.get(
        format_name, format_name
    )


def export_ttl() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.EXPORT_TTL_HOURS)


def export_job_is_expired(job: ExportJob, *, now: datetime.datetime | None = None) -> bool:
    """A finished job whose file was purged, or whose time is up."""
    if job.status != ExportStatus.DONE:
        return False
    now = now or timezone.now()
    return not job.file or (job.expires_at is not None and job.expires_at <= now)


def export_job_list(*, user):
    """A person's own jobs, newest first: nobody else downloads them."""
    if not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(user=user)


def export_job_create(*, user, exporter: str, format: str, params: dict | None) -> ExportJob:
    """Check the request through the exporter, save the job and run it after commit.

    ``ValidationError`` (by field) for a wrong export, format or parameter, ``Http404`` for an
    object outside the user's scope, ``PermissionDenied`` for someone who may not export; in
    each case nothing is saved. Without a broker (eager Celery) the job has run on return.
    """
    exporter_class = get_exporter(exporter or "")
    if exporter_class is None:
        raise ValidationError({"exporter": _("Choose an export.")}, code="unknown_exporter")
    exporter_class.check_user(user)
    if format not in exporter_class.FORMATS:
        raise ValidationError(
            {
                "format": _("Choose one of the formats offered: %(formats)s.")
                % {"formats": "、".join(format_label(name) for name in exporter_class.FORMATS)}
            },
            code="unknown_format",
        )
    if not isinstance(params, dict):
        raise ValidationError({"params": _("The parameters are missing.")}, code="no_params")
    cleaned = exporter_class.clean_params(user=user, params=params)
    from .tasks import export_run

    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user,
            exporter=exporter_class.identifier,
            format=format,
            params=cleaned,
            title=exporter_class.job_title(params=cleaned)[:255],
        )
        audit_log(
            actor=user,
            action="export.create",
            target=job,
            details={"exporter": job.exporter, "format": format, "params": cleaned},
        )
        transaction.on_commit(lambda: export_run.delay(job.pk))
    job.refresh_from_db()
    return job


def _set_progress(job_id: int, percent: int) -> None:
    # The file is written outside a transaction: each step is visible to the progress bar.
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        progress=min(99, max(1, percent))
    )


def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportStatus.FAILED, error=message, finished_at=timezone.now()
    )


def export_job_run(*, job_id: int, now: datetime.datetime | None = None) -> ExportJob | None:
    """Write a waiting job's file. Running it twice does what running it once did: only a
    waiting job is taken up. A failure marks the job failed with a message; it never raises
    (the eager default would otherwise turn it into a server error)."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update()
            .filter(pk=job_id, status=ExportStatus.PENDING)
            .first()
        )
        if job is None:
            return ExportJob.objects.filter(pk=job_id).first()
        job.status = ExportStatus.RUNNING
        job.progress = 1
        job.save(update_fields=["status", "progress"])
    exporter_class = get_exporter(job.exporter)
    if exporter_class is None:
        _fail(job.pk, _("This export is no longer offered."))
        return ExportJob.objects.get(pk=job.pk)
    try:
        exporter = exporter_class.for_job(user=job.user, params=job.params)
        exporter.progress_callback = lambda percent: _set_progress(job.pk, percent)
        filename, content_type, content = exporter.render(job.format)
    except ValidationError as error:
        _fail(job.pk, " ".join(error.messages))
    except Exception:
        logger.exception("export job %s failed", job.pk)
        _fail(job.pk, _("The export failed. Please try again later or tell the administrators."))
    else:
        now = now or timezone.now()
        job.file.save(filename, ContentFile(content), save=False)
        job.filename = filename
        job.content_type = content_type
        job.size = len(content)
        job.status = ExportStatus.DONE
        job.progress = 100
        job.finished_at = now
        job.expires_at = now + export_ttl()
        job.save(
            update_fields=[
                "file",
                "filename",
                "content_type",
                "size",
                "status",
                "progress",
                "finished_at",
                "expires_at",
            ]
        )
    return ExportJob.objects.get(pk=job.pk)


def export_job_log_download(*, user, job: ExportJob, via: str) -> None:
    audit_log(actor=user, action="export.download", target=job, details={"via": via})


def export_jobs_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of expired jobs; the jobs stay, their file emptied. The count purged."""
    now = now or timezone.now()
    purged = 0
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(file="").only("pk", "file")
    for job in expired.iterator():
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        purged += 1
    return purged
