"""Every export door for every role: the dashboard pages, the API and the admin.

Exports are for people with an organisation role (the read-only inspector included); a plain
volunteer gets 403; a job is its asker's alone (404 for anyone else)."""

import pytest

from apps.awards import rollup
from apps.awards.tests.conftest import NOW, YEAR, aworld  # noqa: F401
from apps.core.export_jobs import export_job_create, export_job_run
from apps.core.models import ExportJob
from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case

ADMIN_MODELS = {ExportJob}


@pytest.fixture
def xworld(aworld):  # noqa: F811
    rollup.rollup_run_year(year=YEAR, now=NOW)
    job = export_job_create(
        user=aworld.cast.branch_secretary,
        exporter="awards.assessment",
        format="xlsx",
        params={"year": YEAR, "organization": aworld.tree.branch.pk},
    )
    aworld.job = export_job_run(job_id=job.pk)
    return aworld


def pk(w):
    return {"pk": w.job.pk}


def object_id(w):
    return {"object_id": w.job.pk}


def export_form(w):
    return {"year": str(YEAR), "organization": str(w.tree.branch.pk), "format": "xlsx"}


def export_request(w):
    return {
        "exporter": "awards.assessment",
        "format": "xlsx",
        "params": {"year": YEAR, "organization": w.tree.branch.pk},
    }


NOT_STAFF = {"anonymous": 302, "outsider": 403, "volunteer": 403}
OWN_JOB = {"default": 404, "branch_secretary": 200, **NOT_STAFF}
PAGE_CASES = [
    case("dashboard:export-list", default=200, **NOT_STAFF),
    # The branch is the district's and the city's too; the other branch's secretary: 404.
    case(
        "dashboard:export-create",
        "POST",
        data=export_form,
        default=302,
        other_branch_secretary=404,
        **NOT_STAFF,
    ),
    case("dashboard:export-detail", kwargs=pk, **OWN_JOB),
    case("dashboard:export-progress", kwargs=pk, **OWN_JOB),
    case("dashboard:export-download", kwargs=pk, **OWN_JOB),
]

API = {"api": True}
API_NOT_STAFF = {"anonymous": 403, "outsider": 403, "volunteer": 403}
API_OWN_JOB = {"default": 404, "branch_secretary": 200, **API_NOT_STAFF}
API_CASES = [
    case("api:export-list", default=200, **API_NOT_STAFF, **API),
    case(
        "api:export-list",
        "POST",
        data=export_request,
        default=201,
        other_branch_secretary=404,
        **API_NOT_STAFF,
        **API,
    ),
    case("api:export-detail", kwargs=pk, **API_OWN_JOB, **API),
    case("api:export-download", kwargs=pk, **API_OWN_JOB, **API),
    # A job is never changed through the API.
    case(
        "api:export-detail",
        "PATCH",
        kwargs=pk,
        data=lambda w: {},
        default=405,
        **API_NOT_STAFF,
        **API,
    ),
]

IN_ADMIN = {"default": 404, "branch_secretary": 200, "city_admin": 200, **OUTSIDE_ADMIN}
ADMIN_CASES = [
    case(admin_url(ExportJob, "changelist"), default=200, **OUTSIDE_ADMIN),
    case(admin_url(ExportJob, "add"), default=403, **OUTSIDE_ADMIN),
    case(admin_url(ExportJob, "change"), kwargs=object_id, **IN_ADMIN),
    case(
        admin_url(ExportJob, "delete"),
        kwargs=object_id,
        **{**IN_ADMIN, "branch_secretary": 403, "city_admin": 403},
    ),
    case(admin_url(ExportJob, "history"), kwargs=object_id, **IN_ADMIN),
]

CASES = PAGE_CASES + API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_export_permissions(c, role, xworld, client, api_as):
    before = ExportJob.objects.count()
    response = run_case(c, role, xworld, client, api_as)
    if c.method == "POST" and response.status_code >= 400:
        assert ExportJob.objects.count() == before  # a refusal saves nothing


def test_the_admin_lists_own_jobs_and_the_city_all(xworld, client):
    other = export_job_create(
        user=xworld.cast.inspector,
        exporter="awards.assessment",
        format="pdf",
        params={"year": YEAR, "organization": xworld.tree.district.pk},
    )
    url = "/admin/core/exportjob/"
    client.force_login(xworld.cast.branch_secretary)
    listed = client.get(url).context["cl"].result_list
    assert list(listed) == [xworld.job]
    client.force_login(xworld.cast.city_admin)
    assert set(client.get(url).context["cl"].result_list) == {xworld.job, other}
