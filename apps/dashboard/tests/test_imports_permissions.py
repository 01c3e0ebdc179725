"""Every import door for every role: the dashboard pages and the read-only admin."""

import pytest

from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case
from apps.service_records.models import ImportJob, ImportKind, ImportStatus

ADMIN_MODELS = {ImportJob}


@pytest.fixture
def iworld(world):
    """The world plus an import the branch secretary uploaded."""
    world.import_job = ImportJob.objects.create(
        kind=ImportKind.SERVICE_RECORDS,
        file="imports/test.xlsx",
        original_name="test.xlsx",
        status=ImportStatus.FAILED,
        total_rows=3,
        processed_rows=3,
        errors=[{"row": 2, "column": "开始时间", "message": "时间格式不对"}],
        message="未导入",
        created_by=world.cast.branch_secretary,
    )
    return world


def job(w):
    return {"pk": w.import_job.pk}


def admin_job(w):
    return {"object_id": w.import_job.pk}


NOT_STAFF = {"anonymous": 302, "outsider": 403, "volunteer": 403}
# Uploading is for those who manage an organisation; the read-only inspector may only look.
IMPORTERS = {"default": 200, "inspector": 403, **NOT_STAFF}
# A job is seen by its uploader and the city's administrators; others get 404.
OWN_JOB = {"default": 200, "inspector": 404, "other_branch_secretary": 404, **NOT_STAFF}

PAGE_CASES = [
    case("dashboard:import-list", default=200, **NOT_STAFF),
    case("dashboard:import-new", **IMPORTERS),
    # no file: the form comes back with its errors
    case(
        "dashboard:import-new",
        "POST",
        data=lambda w: {"kind": "volunteers"},
        **{**IMPORTERS, "default": 400},
    ),  # fmt: skip
    case(
        "dashboard:import-template",
        kwargs=lambda w: {"kind": ImportKind.SERVICE_RECORDS},
        **IMPORTERS,
    ),
    case("dashboard:import-template", kwargs=lambda w: {"kind": "volunteers"}, **IMPORTERS),
    case("dashboard:import-detail", kwargs=job, **OWN_JOB),
    case("dashboard:import-progress", kwargs=job, **OWN_JOB),
]

SEEN_IN_ADMIN = {"default": 200, "inspector": 404, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
ADMIN_CASES = [
    case(admin_url(ImportJob, "changelist"), default=200, **OUTSIDE_ADMIN),
    case(admin_url(ImportJob, "add"), default=403, **OUTSIDE_ADMIN),
    case(admin_url(ImportJob, "change"), kwargs=admin_job, **SEEN_IN_ADMIN),
    case(admin_url(ImportJob, "delete"), kwargs=admin_job, **{**SEEN_IN_ADMIN, "default": 403}),
    case(admin_url(ImportJob, "history"), kwargs=admin_job, **SEEN_IN_ADMIN),
]


CASES = PAGE_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_import_permissions(c, role, iworld, client, api_as):
    run_case(c, role, iworld, client, api_as)
    assert ImportJob.objects.count() == 1


def test_unknown_template_kind_is_404(client_as, branch_secretary):
    assert client_as(branch_secretary).get("/dashboard/imports/templates/nope/").status_code == 404
