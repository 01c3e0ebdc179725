"""Every roll-up door for every role: the dashboard pages, the read-only API and the admin."""

import pytest
from django.urls import reverse

from apps.awards import rollup
from apps.awards.models import (
    AssessmentYear,
    OrganizationYearSummary,
    TeamYearSummary,
    VolunteerYearSummary,
)
from apps.awards.tests.conftest import NOW, YEAR
from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case

ADMIN_MODELS = {AssessmentYear, VolunteerYearSummary, TeamYearSummary, OrganizationYearSummary}


@pytest.fixture
def sworld(aworld):
    rollup.rollup_run_year(year=YEAR, now=NOW)
    w = aworld
    w.assessment_year = AssessmentYear.objects.get(year=YEAR)
    w.volunteer_summary = VolunteerYearSummary.objects.get(volunteer=w.cast.volunteer)
    w.team_summary = TeamYearSummary.objects.get(team=w.team)
    w.branch_summary = OrganizationYearSummary.objects.get(organization=w.tree.branch)
    return w


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def object_id(attribute):
    return lambda w: {"object_id": getattr(w, attribute).pk}


def year(w):
    return {"year": YEAR}


NOT_STAFF = {"anonymous": 302, "outsider": 403, "volunteer": 403}
STAFF_PAGE = {"default": 200, **NOT_STAFF}
PAGE_CASES = [
    case("dashboard:rollup-index", **STAFF_PAGE),
    # Only the city's administrators start a run; a future year comes back with the message.
    case(
        "dashboard:rollup-start",
        "POST",
        data=lambda w: {"year": "2999"},
        default=403,
        anonymous=302,
        city_admin=400,
    ),
    case("dashboard:rollup-detail", kwargs=year, **STAFF_PAGE),
    case("dashboard:rollup-progress", kwargs=year, **STAFF_PAGE),
]

API = {"api": True}
SIGNED_IN = {"default": 200, "anonymous": 403}
# The volunteer's own summary: their branch and the district above see it, others 404.
OWN_ROW = {
    "default": 200,
    "anonymous": 403,
    "outsider": 404,
    "team_leader": 404,
    "community_staff": 404,
    "other_branch_secretary": 404,
}
BRANCH_ROW = {**OWN_ROW, "volunteer": 404}
TEAM_ROW = {**BRANCH_ROW, "team_leader": 200}  # a member of the team sees it
API_CASES = [
    case("api:assessment-year-list", **SIGNED_IN, **API),
    case(
        "api:assessment-year-detail",
        kwargs=pk("assessment_year"),
        default=200,
        anonymous=403,
        outsider=404,
        volunteer=404,
        **API,
    ),
    case("api:volunteer-year-summary-list", **SIGNED_IN, **API),
    case("api:volunteer-year-summary-detail", kwargs=pk("volunteer_summary"), **OWN_ROW, **API),
    case("api:team-year-summary-list", **SIGNED_IN, **API),
    case("api:team-year-summary-detail", kwargs=pk("team_summary"), **TEAM_ROW, **API),
    case("api:organization-year-summary-list", **SIGNED_IN, **API),
    case("api:organization-year-summary-detail", kwargs=pk("branch_summary"), **BRANCH_ROW, **API),
    # Read only: no writes through the API.
    case(
        "api:volunteer-year-summary-detail",
        "PATCH",
        kwargs=pk("volunteer_summary"),
        data=lambda w: {"visits": 50},
        default=405,
        anonymous=403,
        **API,
    ),
]


def admin_cases(model, getter, *, other_branch=404, city_adds=False):
    in_tree = {"default": 200, "other_branch_secretary": other_branch, **OUTSIDE_ADMIN}
    adds = {"city_admin": 200} if city_adds else {}
    return [
        case(admin_url(model, "changelist"), default=200, **OUTSIDE_ADMIN),
        case(admin_url(model, "add"), default=403, **OUTSIDE_ADMIN, **adds),
        case(admin_url(model, "change"), kwargs=getter, **in_tree),
        case(
            admin_url(model, "delete"),
            kwargs=getter,
            **{
                **in_tree,
                "default": 403,
                "other_branch_secretary": 403 if other_branch == 200 else other_branch,
            },
        ),
        case(admin_url(model, "history"), kwargs=getter, **in_tree),
    ]


ADMIN_CASES = [
    # Only the city's administrators add a year or set its deadline; the rest is read only.
    *admin_cases(AssessmentYear, object_id("assessment_year"), other_branch=200, city_adds=True),
    *admin_cases(VolunteerYearSummary, object_id("volunteer_summary")),
    *admin_cases(TeamYearSummary, object_id("team_summary")),
    *admin_cases(OrganizationYearSummary, object_id("branch_summary")),
]

CASES = PAGE_CASES + API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_rollup_permissions(c, role, sworld, client, api_as):
    run_case(c, role, sworld, client, api_as)


def test_a_volunteer_reads_only_their_own_summary(sworld, api_as):
    rows = api_as(sworld.cast.volunteer).get(reverse("api:volunteer-year-summary-list")).json()
    assert [row["volunteer"] for row in rows["results"]] == [sworld.cast.volunteer.pk]
    assert rows["results"][0]["rank_in_organization"] == 2


def test_a_branch_secretary_reads_their_subtree(sworld, api_as):
    api = api_as(sworld.cast.branch_secretary)
    rows = api.get(reverse("api:volunteer-year-summary-list"), {"year": YEAR}).json()["results"]
    assert {row["volunteer"] for row in rows} == {
        sworld.cast.volunteer.pk,
        sworld.cast.team_leader.pk,
        sworld.cast.branch_secretary.pk,
    }
    orgs = api.get(reverse("api:organization-year-summary-list")).json()["results"]
    assert [row["organization"] for row in orgs] == [sworld.tree.branch.pk]
    assert orgs[0]["participation_rate"] == "66.70"
