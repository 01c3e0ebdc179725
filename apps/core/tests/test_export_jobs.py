"""Export jobs: the registry, asking for a job (checked before anything is saved), running it
(inline without a broker), its progress, failures, the expiry and the hourly purge."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from apps.core import export_jobs
from apps.core.export_jobs import (
    export_job_create,
    export_job_is_expired,
    export_job_run,
    export_jobs_purge,
    register_exporter,
)
from apps.core.exporters import BaseExporter, Sheet
from apps.core.models import AuditEntry, ExportJob, ExportStatus
from apps.core.scoping import get_user_scope
from apps.core.storage import private_storage
from apps.core.tasks import export_run, exports_purge
from conftest import zh

pytestmark = pytest.mark.django_db


class NumbersExporter(BaseExporter):
    """Two sheets of numbers: enough to drive a job through every state."""

    identifier = "test.numbers"
    verbose_name = "数字"

    def __init__(self, *, user, count):
        self.user = user
        self.count = count

    @classmethod
    def check_user(cls, user):
        if not get_user_scope(user).can_view_any:
            raise PermissionDenied

    @classmethod
    def clean_params(cls, *, user, params):
        count = params.get("count")
        if count == 404:
            raise Http404
        if not isinstance(count, int) or not 0 < count <= 1000:
            raise ValidationError({"count": translation.gettext("Choose a year.")})
        return {"count": count}

    @classmethod
    def job_title(cls, *, params):
        return f"数字 {params['count']}"

    def sheet_count(self):
        return 2

    def sheets(self):
        if self.count == 13:
            raise RuntimeError("unlucky")
        yield Sheet("平方", ["数", "平方"], ([n, n * n] for n in range(self.count)), [6, 8])
        yield Sheet("公式", ["内容"], [["=1+1"]])


@pytest.fixture(autouse=True)
def numbers():
    register_exporter(NumbersExporter)
    yield NumbersExporter
    export_jobs._registry.pop(NumbersExporter.identifier, None)


def create(user, *, format="xlsx", params=None, exporter="test.numbers"):
    return export_job_create(
        user=user,
        exporter=exporter,
        format=format,
        params={"count": 3} if params is None else params,
    )


def test_a_job_runs_inline_without_a_broker(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = create(cast.inspector)
    job.refresh_from_db()
    assert (job.status, job.progress, job.title) == (ExportStatus.DONE, 100, "数字 3")
    assert job.filename.endswith(".xlsx") and job.size == job.file.size
    assert job.expires_at - job.finished_at == datetime.timedelta(hours=24)
    book = load_workbook(io.BytesIO(job.file.read()))
    assert book.sheetnames == ["平方", "公式"]
    assert [list(r) for r in book["平方"].iter_rows(values_only=True)] == [
        ["数", "平方"],
        [0, 0],
        [1, 1],
        [2, 4],
    ]
    assert book["公式"]["A2"].value == "'=1+1"
    entry = AuditEntry.objects.get(action="export.create")
    assert entry.details["params"] == {"count": 3} and entry.actor == cast.inspector


def test_the_time_to_live_is_a_setting(cast, settings, django_capture_on_commit_callbacks):
    settings.EXPORT_TTL_HOURS = 2
    with django_capture_on_commit_callbacks(execute=True):
        job = create(cast.branch_secretary)
    job.refresh_from_db()
    assert job.expires_at - job.finished_at == datetime.timedelta(hours=2)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"exporter": "nope"}, "exporter", "Choose an export."),
        ({"exporter": ""}, "exporter", "Choose an export."),
        ({"format": "docx"}, "format", None),
        ({"format": ""}, "format", None),
        ({"params": {"count": "many"}}, "count", "Choose a year."),
        ({"params": {}}, "count", "Choose a year."),
    ],
)
def test_wrong_requests_save_nothing(cast, kwargs, field, message):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        create(cast.branch_secretary, **kwargs)
    text = " ".join(error.value.message_dict[field])
    if message:
        assert text == zh(message)
    else:
        assert "请选择可用的格式" in text and "Excel 工作簿" in text and "CSV" in text
    assert not ExportJob.objects.exists()
    assert not AuditEntry.objects.filter(action="export.create").exists()


def test_parameters_that_are_not_a_mapping(cast):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        export_job_create(
            user=cast.branch_secretary, exporter="test.numbers", format="xlsx", params=[3]
        )
    assert error.value.message_dict["params"] == [zh("The parameters are missing.")]
    assert not ExportJob.objects.exists()


def test_an_object_outside_the_scope_is_a_404(cast):
    with pytest.raises(Http404):
        create(cast.branch_secretary, params={"count": 404})
    assert not ExportJob.objects.exists()


def test_a_volunteer_may_not_export(cast):
    with pytest.raises(PermissionDenied):
        create(cast.volunteer)
    assert not ExportJob.objects.exists()


def test_running_twice_does_what_running_once_did(cast):
    job = create(cast.branch_secretary)  # not committed: the task has not run
    assert job.status == ExportStatus.PENDING
    first = export_job_run(job_id=job.pk)
    name = first.file.name
    second = export_job_run(job_id=job.pk)
    assert second.status == ExportStatus.DONE and second.file.name == name
    assert export_run(job.pk) == ExportStatus.DONE
    assert export_run(999999) == "missing"


def test_progress_is_reported_sheet_by_sheet(cast, monkeypatch):
    job = create(cast.branch_secretary)
    seen = []
    original = export_jobs._set_progress

    def spy(job_id, percent):
        seen.append((percent, ExportJob.objects.get(pk=job_id).status))
        original(job_id, percent)

    monkeypatch.setattr(export_jobs, "_set_progress", spy)
    export_job_run(job_id=job.pk)
    assert seen == [(50, ExportStatus.RUNNING), (100, ExportStatus.RUNNING)]
    job.refresh_from_db()
    assert job.progress == 100


def test_a_request_no_longer_valid_when_the_job_runs_fails_with_its_message(cast):
    job = create(cast.branch_secretary)
    ExportJob.objects.filter(pk=job.pk).update(params={"count": 5000})
    with translation.override("zh-hans"):
        job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.FAILED
    assert job.error == zh("Choose a year.")
    assert not job.file


@pytest.mark.allow_error_logs
def test_an_error_in_the_exporter_fails_the_job_without_raising(cast):
    job = create(cast.branch_secretary, params={"count": 13})
    with translation.override("zh-hans"):
        job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.FAILED
    assert job.error == zh("The export failed. Please try again later or tell the administrators.")


def test_an_exporter_no_longer_registered(cast):
    job = create(cast.branch_secretary)
    ExportJob.objects.filter(pk=job.pk).update(exporter="gone")
    with translation.override("zh-hans"):
        job = export_job_run(job_id=job.pk)
    assert (job.status, job.error) == (
        ExportStatus.FAILED,
        zh("This export is no longer offered."),
    )


def test_the_purge_deletes_expired_files_and_keeps_the_jobs(cast):
    now = timezone.now()
    old = export_job_run(
        job_id=create(cast.branch_secretary).pk, now=now - datetime.timedelta(days=2)
    )
    fresh = export_job_run(job_id=create(cast.branch_secretary).pk, now=now)
    old_name = old.file.name
    assert private_storage().exists(old_name)
    assert export_job_is_expired(old) and not export_job_is_expired(fresh)
    assert export_jobs_purge(now=now) == 1
    assert not private_storage().exists(old_name)
    old.refresh_from_db()
    assert old.file.name == "" and old.status == ExportStatus.DONE
    assert export_job_is_expired(old)
    assert private_storage().exists(fresh.file.name)
    assert export_jobs_purge(now=now) == 0
    assert exports_purge() == 0


def test_the_purge_runs_hourly_from_the_beat_schedule():
    task = PeriodicTask.objects.get(task="core.exports_purge")
    assert task.enabled and task.crontab.hour == "*" and task.crontab.minute.isdigit()


def test_the_csv_of_a_workbook_holds_its_first_sheet(cast):
    content = NumbersExporter(user=cast.branch_secretary, count=2).render_csv().decode("utf-8-sig")
    assert content == "数,平方\r\n0,0\r\n1,1\r\n"


def test_export_files_live_outside_the_published_media_under_an_unguessable_name(
    cast, client_as, settings
):
    """The web server publishes MEDIA_ROOT at /media/; an export of people's data must not be
    there, and its path must not follow from the date and the file's name."""
    import pathlib
    import re

    job = export_job_run(job_id=create(cast.branch_secretary).pk)
    path = pathlib.Path(job.file.path).resolve()
    assert path.is_relative_to(pathlib.Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert not path.is_relative_to(pathlib.Path(settings.MEDIA_ROOT).resolve())
    assert re.fullmatch(r"exports/\d{4}/\d{2}/[0-9a-f]{32}/[^/]+\.xlsx", job.file.name)
    other = export_job_run(job_id=create(cast.branch_secretary).pk)
    assert other.file.name != job.file.name
    # Not reachable through the media URL either (Django serves media only with DEBUG=1).
    client = client_as(cast.branch_secretary)
    assert client.get(f"{settings.MEDIA_URL}{job.file.name}").status_code == 404
