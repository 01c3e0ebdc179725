"""The export pages: the form, wrong input (400 with a message, nothing saved), the job run at
once without a broker, its progress, the download and its expiry (410), constant queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.awards import rollup
from apps.awards.tests.conftest import NOW, YEAR, aworld  # noqa: F401
from apps.core.export_jobs import export_job_create, export_jobs_purge
from apps.core.models import AuditEntry, ExportJob, ExportStatus
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def pworld(aworld):  # noqa: F811
    rollup.rollup_run_year(year=YEAR, now=NOW)
    return aworld


def form(w, **changes):
    return {"year": str(YEAR), "organization": str(w.tree.branch.pk), "format": "xlsx", **changes}


def post(client, data):
    return client.post(reverse("dashboard:export-create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_the_form_offers_rolled_up_years_and_the_users_organisations(pworld, client_as):
    page = client_as(pworld.cast.inspector).get(reverse("dashboard:export-list"))
    assert page.status_code == 200
    assert page.context["years"] == [YEAR]
    names = [name for _pk, name, _depth in page.context["organizations"]]
    assert names == ["东湖区委", "东湖街道党工委", "桂园社区党支部", "湖滨社区党支部"]
    # the user's highest organisation is chosen
    assert page.context["values"]["organization"] == str(pworld.tree.district.pk)
    html = page.content.decode()
    assert zh("Assessment exports") in html and "PDF" in html


def test_without_a_rolled_up_year_the_page_says_so(aworld, client_as):  # noqa: F811
    page = client_as(aworld.cast.branch_secretary).get(reverse("dashboard:export-list"))
    assert (
        zh(
            "No year has been rolled up yet: exports become available once a year's roll-up has "
            "finished."
        )
        in page.content.decode()
    )


def test_an_export_runs_at_once_without_a_broker(
    pworld, client_as, django_capture_on_commit_callbacks
):
    client = client_as(pworld.cast.branch_secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, form(pworld))
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:export-detail", args=[job.pk])
    assert (job.status, job.user) == (ExportStatus.DONE, pworld.cast.branch_secretary)
    detail = client.get(response["Location"]).content.decode()
    download_url = reverse("dashboard:export-download", args=[job.pk])
    assert download_url in detail
    assert reverse("dashboard:export-progress", args=[job.pk]) not in detail  # no polling
    download = client.get(download_url)
    assert download.status_code == 200
    assert (
        download["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f"assessment-{YEAR}-T-GY.xlsx" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"PK")
    assert AuditEntry.objects.filter(action="export.download", target_id=str(job.pk)).exists()


def test_a_pdf_through_the_page(pworld, client_as, django_capture_on_commit_callbacks):
    client = client_as(pworld.cast.inspector)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, form(pworld, format="pdf", organization=str(pworld.tree.district.pk)))
    job = ExportJob.objects.get()
    download = client.get(reverse("dashboard:export-download", args=[job.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"year": "2024"}, "year", None),
        ({"year": ""}, "year", "Choose a year."),
        ({"year": "二〇二五"}, "year", "Choose a year."),
        ({"format": "docx"}, "format", None),
        ({"format": ""}, "format", None),
        ({"organization": ""}, "organization", "Choose an organisation."),
        ({"organization": "abc"}, "organization", "Choose an organisation."),
    ],
)
def test_wrong_input_is_a_400_with_its_message(pworld, client_as, changes, field, message):
    response = post(client_as(pworld.cast.branch_secretary), form(pworld, **changes))
    assert response.status_code == 400
    errors = response.context["errors"][field]
    if field == "year" and message is None:
        assert errors == [zh("The year %(year)s has not been rolled up yet.") % {"year": 2024}]
    elif field == "format":
        assert "请选择可用的格式" in errors[0] and "PDF" in errors[0]
    else:
        assert errors == [zh(message)]
    assert errors[0] in response.content.decode()
    assert not ExportJob.objects.exists()


def test_an_organisation_outside_the_scope_is_a_404(pworld, client_as):
    client = client_as(pworld.cast.branch_secretary)
    assert (
        post(client, form(pworld, organization=str(pworld.tree.other_branch.pk))).status_code == 404
    )
    assert post(client, form(pworld, organization="999999")).status_code == 404
    assert not ExportJob.objects.exists()


def _job(w, user=None):
    return export_job_create(
        user=user or w.cast.branch_secretary,
        exporter="awards.assessment",
        format="xlsx",
        params={"year": YEAR, "organization": w.tree.branch.pk},
    )


def test_a_waiting_job_polls_and_its_download_waits(pworld, client_as):
    job = _job(pworld)  # on_commit not run: the job waits
    client = client_as(pworld.cast.branch_secretary)
    fragment = client.get(reverse("dashboard:export-progress", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("dashboard:export-progress", args=[job.pk])}"' in fragment
    assert 'hx-trigger="every 1s"' in fragment
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, progress=40)
    fragment = client.get(reverse("dashboard:export-progress", args=[job.pk])).content.decode()
    assert 'aria-valuenow="40"' in fragment and "hx-get" in fragment
    response = client.get(reverse("dashboard:export-download", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:export-detail", args=[job.pk])


def test_a_failed_job_shows_its_message(pworld, client_as):
    job = _job(pworld)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error="年度已变更")
    page = client_as(pworld.cast.branch_secretary).get(
        reverse("dashboard:export-detail", args=[job.pk])
    )
    assert "年度已变更" in page.content.decode()


def test_an_expired_download_is_a_clear_410(pworld, client_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _job(pworld)
    client = client_as(pworld.cast.branch_secretary)
    url = reverse("dashboard:export-download", args=[job.pk])
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    response = client.get(url)
    assert response.status_code == 410
    assert zh("This download has expired") in response.content.decode()
    detail = client.get(reverse("dashboard:export-detail", args=[job.pk])).content.decode()
    assert zh("This download has expired. Please export again.") in detail
    assert url not in detail
    assert export_jobs_purge() == 1  # and once the file is gone, still 410
    assert client.get(url).status_code == 410


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard:export-list")).status_code == 200
    return len(queries)


def test_the_list_page_queries_stay_constant(pworld, client_as):
    client = client_as(pworld.cast.branch_secretary)
    _job(pworld)
    few = _list_queries(client)
    for _ in range(5):
        _job(pworld)
    assert _list_queries(client) == few
