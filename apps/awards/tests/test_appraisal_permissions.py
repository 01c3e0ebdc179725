"""Every door of the democratic appraisal for every role: the dashboard pages, the read-only
API and the read-only admin."""

import pytest

from apps.awards import rollup
from apps.awards.appraisal import appraisal_save
from apps.awards.models import AppraisalGrade, AssessmentYear, DemocraticAppraisal
from apps.awards.tests.conftest import NOW, YEAR
from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case

ADMIN_MODELS = {DemocraticAppraisal}


@pytest.fixture
def gworld(aworld):
    rollup.rollup_run_year(year=YEAR, now=NOW)
    w = aworld
    w.assessment_year = AssessmentYear.objects.get(year=YEAR)
    appraisal_save(
        actor=w.cast.branch_secretary,
        assessment_year=w.assessment_year,
        organization=w.tree.branch,
        grades={w.cast.volunteer.pk: (AppraisalGrade.EXCELLENT, "")},
    )
    w.appraisal = DemocraticAppraisal.objects.get(member=w.cast.volunteer)
    return w


def sheet(w):
    return {"year": YEAR, "org_pk": w.tree.branch.pk}


NOT_STAFF = {"anonymous": 302, "outsider": 403, "volunteer": 403}
PAGE_CASES = [
    case("dashboard:appraisal-index", default=200, **NOT_STAFF),
    # The branch's sheet: the district's inspector reads it, the other branch does not see it.
    case("dashboard:appraisal", kwargs=sheet, default=200, other_branch_secretary=404, **NOT_STAFF),
    # Saving: the branch's managers and the city; the inspector may look, not change.
    case(
        "dashboard:appraisal-save",
        "POST",
        kwargs=sheet,
        data=lambda w: {f"grade_{w.cast.team_leader.pk}": AppraisalGrade.QUALIFIED},
        default=302,
        inspector=403,
        other_branch_secretary=404,
        **NOT_STAFF,
    ),
]

API = {"api": True}
ROW = {
    "default": 200,
    "anonymous": 403,
    "outsider": 404,
    "volunteer": 404,
    "other_branch_secretary": 404,
}
API_CASES = [
    case("api:appraisal-list", default=200, anonymous=403, **API),
    case("api:appraisal-detail", kwargs=lambda w: {"pk": w.appraisal.pk}, **ROW, **API),
    case(
        "api:appraisal-detail",
        "PATCH",
        kwargs=lambda w: {"pk": w.appraisal.pk},
        data=lambda w: {"grade": AppraisalGrade.BASIC},
        default=405,
        anonymous=403,
        **API,
    ),
]


def obj(w):
    return {"object_id": w.appraisal.pk}


IN_TREE = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
# Read only for everyone: grades change on the dashboard's page.
ADMIN_CASES = [
    case(admin_url(DemocraticAppraisal, "changelist"), default=200, **OUTSIDE_ADMIN),
    case(admin_url(DemocraticAppraisal, "add"), default=403, **OUTSIDE_ADMIN),
    case(admin_url(DemocraticAppraisal, "change"), kwargs=obj, **IN_TREE),
    case(admin_url(DemocraticAppraisal, "delete"), kwargs=obj, **{**IN_TREE, "default": 403}),
    case(admin_url(DemocraticAppraisal, "history"), kwargs=obj, **IN_TREE),
]

CASES = PAGE_CASES + API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_appraisal_permissions(c, role, gworld, client, api_as):
    run_case(c, role, gworld, client, api_as)
    if c.url_name == "dashboard:appraisal-save" and c.expected[role] != 302:
        assert not DemocraticAppraisal.objects.filter(member=gworld.cast.team_leader).exists()


def test_the_admin_change_page_is_read_only(gworld, client_as):
    from django.urls import reverse

    url = reverse(admin_url(DemocraticAppraisal, "change"), kwargs=obj(gworld))
    response = client_as(gworld.cast.city_admin).post(url, {"grade": AppraisalGrade.BASIC})
    assert response.status_code == 403
    gworld.appraisal.refresh_from_db()
    assert gworld.appraisal.grade == AppraisalGrade.EXCELLENT
