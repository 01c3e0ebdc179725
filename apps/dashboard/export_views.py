"""Exports on the dashboard: a branch secretary's one click per year (Excel or PDF), run as a
task with a progress bar; the file is downloadable by its asker until it expires."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.awards.exports import AssessmentExporter, export_organizations, exportable_years
from apps.core.export_jobs import (
    export_job_create,
    export_job_is_expired,
    export_job_list,
    export_job_log_download,
    format_label,
)
from apps.core.models import ExportStatus

from .views import _require_staff

RECENT_JOBS = 20
FIELDS = ("year", "organization", "format")


def _organization_choices(user):
    return list(export_organizations(user).values_list("pk", "name", "depth"))


def _index(request, *, values, errors=None, status=200):
    organizations = _organization_choices(request.user)
    top = min((depth for _pk, _name, depth in organizations), default=0)
    years = list(exportable_years(request.user))
    values = {
        "year": str(years[0]) if years else "",
        "organization": str(next((pk for pk, _n, d in organizations if d == top), "")),
        "format": "xlsx",
        **values,
    }
    return render(
        request,
        "dashboard/exports/index.html",
        {
            "years": years,
            "organizations": [(pk, name, depth - top) for pk, name, depth in organizations],
            "formats": [(name, format_label(name)) for name in AssessmentExporter.FORMATS],
            "values": values,
            "errors": errors or {},
            "jobs": export_job_list(user=request.user)[:RECENT_JOBS],
        },
        status=status,
    )


@require_GET
def export_list(request):
    _require_staff(request)
    return _index(request, values={})


@require_POST
def export_create(request):
    _require_staff(request)
    values = {name: request.POST.get(name, "").strip() for name in FIELDS}
    try:
        job = export_job_create(
            user=request.user,
            exporter=AssessmentExporter.identifier,
            format=values["format"],
            params={"year": values["year"], "organization": values["organization"]},
        )
    except ValidationError as error:
        errors = {}
        by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        for field, messages in by_field.items():
            errors.setdefault(field if field in FIELDS else "form", []).extend(messages)
        return _index(request, values=values, errors=errors, status=400)
    return redirect("dashboard:export-detail", pk=job.pk)


def _job(request, pk):
    """The asker's own job; anyone else's is a 404."""
    _require_staff(request)
    job = export_job_list(user=request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def _job_context(job):
    return {"job": job, "expired": export_job_is_expired(job)}


@require_GET
def export_detail(request, pk):
    job = _job(request, pk)
    return render(request, "dashboard/exports/detail.html", _job_context(job))


@require_GET
def export_progress(request, pk):
    """The progress fragment, polled by htmx while the job waits or runs."""
    job = _job(request, pk)
    return render(request, "dashboard/exports/fragments/progress.html", _job_context(job))


@require_GET
def export_download(request, pk):
    job = _job(request, pk)
    if job.status != ExportStatus.DONE:
        return redirect("dashboard:export-detail", pk=job.pk)
    if export_job_is_expired(job):
        return render(request, "dashboard/exports/expired.html", {"job": job}, status=410)
    export_job_log_download(user=request.user, job=job, via="dashboard")
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=job.content_type,
    )
