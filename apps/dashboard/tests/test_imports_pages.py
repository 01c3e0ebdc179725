"""The import pages: templates, upload, the report, the progress fragment, the list's queries."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from apps.accounts.models import User
from apps.service_records.models import ImportJob, ImportKind, ImportStatus, ServiceRecord
from apps.service_records.tests.import_fixtures import (
    RECORD_HEADERS,
    elderly,
    profile,
    records_file,
    upload,
    volunteers_file,
    xlsx_bytes,
)
from conftest import zh


@pytest.fixture
def w(world):
    elderly()
    world.profile = profile(world.cast.volunteer, "V000000001")
    return world


def yesterday(hour):
    day = timezone.localdate() - datetime.timedelta(days=1)
    return f"{day} {hour:02d}:00"


def test_template_download_is_an_xlsx_with_chinese_headers(client_as, branch_secretary):
    response = client_as(branch_secretary).get("/dashboard/imports/templates/service_records/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == RECORD_HEADERS


def test_upload_a_good_file_imports_and_shows_the_result(client, client_as, w):
    client = client_as(w.cast.branch_secretary)
    response = client.post(
        "/dashboard/imports/new/",
        {
            "kind": ImportKind.SERVICE_RECORDS,
            "file": records_file([{"start": yesterday(9), "end": yesterday(10), "hours": 1}]),
        },
        follow=True,
    )
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert response.redirect_chain[-1][0] == f"/dashboard/imports/{job.pk}/"
    assert job.status == ImportStatus.DONE and job.created_by == w.cast.branch_secretary
    assert ServiceRecord.objects.count() == 1
    page = response.content.decode()
    assert zh("All %(count)d rows were imported.") % {"count": 1} in page
    assert "/progress/" not in page  # finished: no more polling


def test_upload_with_bad_rows_shows_the_report_and_saves_nothing(client_as, w):
    client = client_as(w.cast.branch_secretary)
    response = client.post(
        "/dashboard/imports/new/",
        {
            "kind": ImportKind.SERVICE_RECORDS,
            "file": records_file(
                [{"start": yesterday(9), "end": yesterday(10), "hours": 1, "category": "唱歌"}]
            ),
        },
        follow=True,
    )
    page = response.content.decode()
    assert zh("Problems by row and column") in page
    assert "服务类别" in page
    assert zh("There is no service category “%(name)s”.") % {"name": "唱歌"} in page
    assert ImportJob.objects.get().status == ImportStatus.FAILED
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload(b"hello", "notes.txt"),
         "Upload an Excel workbook saved as .xlsx (use the template)."),
        (upload(b"hello", "broken.xlsx"),
         "This file cannot be read as an Excel workbook (.xlsx). It may be damaged or of another "
         "kind; save it from Excel as .xlsx and upload it again."),
    ],
)  # fmt: skip
def test_bad_files_come_back_on_the_form(client_as, w, file, message):
    response = client_as(w.cast.branch_secretary).post(
        "/dashboard/imports/new/", {"kind": ImportKind.SERVICE_RECORDS, "file": file}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [zh(message)]
    assert not ImportJob.objects.exists() and not ServiceRecord.objects.exists()


def test_wrong_template_comes_back_on_the_form(client_as, w):
    response = client_as(w.cast.branch_secretary).post(
        "/dashboard/imports/new/",
        {"kind": ImportKind.VOLUNTEERS, "file": upload(xlsx_bytes(RECORD_HEADERS, [["x"]])),
         "consent": "on"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "姓名、性别、出生日期" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_volunteers_need_the_consent_box(client_as, w):
    users = User.objects.count()
    response = client_as(w.cast.branch_secretary).post(
        "/dashboard/imports/new/",
        {"kind": ImportKind.VOLUNTEERS, "file": volunteers_file([{}])},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["consent"] == [
        zh("Confirm that the volunteers agreed before importing them.")
    ]
    assert User.objects.count() == users and not ImportJob.objects.exists()


def test_a_running_job_polls_its_progress(client_as, w):
    job = ImportJob.objects.create(
        kind=ImportKind.SERVICE_RECORDS,
        file="imports/x.xlsx",
        original_name="x.xlsx",
        status=ImportStatus.RUNNING,
        total_rows=1000,
        processed_rows=250,
        created_by=w.cast.branch_secretary,
    )
    client = client_as(w.cast.branch_secretary)
    page = client.get(f"/dashboard/imports/{job.pk}/").content.decode()
    assert f'hx-get="/dashboard/imports/{job.pk}/progress/"' in page
    assert 'hx-trigger="every 1s"' in page
    fragment = client.get(
        f"/dashboard/imports/{job.pk}/progress/", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in fragment and "25%" in fragment
    assert zh("%(processed)s of %(total)s rows checked") % {"processed": 250, "total": 1000} in (
        fragment
    )


def _jobs(user, count):
    ImportJob.objects.bulk_create(
        ImportJob(
            kind=ImportKind.SERVICE_RECORDS,
            file="imports/x.xlsx",
            original_name=f"file-{i}.xlsx",
            status=ImportStatus.DONE,
            created_by=user,
        )
        for i in range(count)
    )


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_list_shows_own_imports_and_the_city_sees_all(client_as, w):
    _jobs(w.cast.branch_secretary, 2)
    _jobs(w.cast.other_branch_secretary, 3)
    own = client_as(w.cast.branch_secretary).get("/dashboard/imports/").context["page"]
    assert len(own.object_list) == 2
    city = client_as(w.cast.city_admin).get("/dashboard/imports/").context["page"]
    assert len(city.object_list) == 5


def test_list_queries_stay_constant(client_as, w):
    client = client_as(w.cast.city_admin)
    _jobs(w.cast.branch_secretary, 10)
    small = _count(client, "/dashboard/imports/")
    _jobs(w.cast.other_branch_secretary, 90)
    large = _count(client, "/dashboard/imports/")
    # the request's own 7 (session, user, scope, session write), the count, one page of jobs
    # with their uploaders joined
    assert small == large
    assert large == 9
