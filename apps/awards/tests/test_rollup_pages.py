"""The dashboard's roll-up pages: start, refusals with their message, progress, query budgets."""

import pytest
from django.urls import reverse

from apps.awards import rollup
from apps.awards.models import AssessmentYear, OrganizationYearSummary, RunStatus
from apps.awards.tests.conftest import NOW, YEAR
from apps.organizations.tests.factories import PartyOrganizationFactory
from conftest import zh


def test_city_staff_start_a_run_and_watch_it_finish(
    aworld, client_as, django_capture_on_commit_callbacks
):
    client = client_as(aworld.cast.city_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboard:rollup-start"), {"year": YEAR})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:rollup-detail", kwargs={"year": YEAR})
    assessment_year = AssessmentYear.objects.get(year=YEAR)
    assert assessment_year.run_status == RunStatus.DONE  # eager: the parts ran in-process
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "桂园社区党支部" in page.content.decode()
    fragment = client.get(reverse("dashboard:rollup-progress", kwargs={"year": YEAR}))
    assert "100%" in fragment.content.decode()
    assert "hx-get" not in fragment.content.decode()


def test_a_running_year_is_polled(aworld, client_as):
    rollup.rollup_begin(year=YEAR, now=NOW)
    fragment = client_as(aworld.cast.inspector).get(
        reverse("dashboard:rollup-progress", kwargs={"year": YEAR})
    )
    assert 'hx-trigger="every 2s"' in fragment.content.decode()


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (
            2999,
            "%(year)s has not happened yet: a roll-up can only be run for this year or earlier.",
        ),
        (1999, "Ensure this value is greater than or equal to %(limit_value)s."),
    ],
)
def test_a_bad_year_is_refused_with_the_message(aworld, client_as, year, message):
    response = client_as(aworld.cast.city_admin).post(
        reverse("dashboard:rollup-start"), {"year": year}
    )
    assert response.status_code == 400
    expected = zh(message) % {"year": year, "limit_value": 2000}
    assert expected in response.content.decode()
    assert not AssessmentYear.objects.exists()


def test_a_closed_year_is_refused_with_the_message(aworld, client_as):
    rollup.rollup_run_year(year=YEAR, now=NOW)
    rollup.assessment_year_close(actor=aworld.cast.city_admin, year=YEAR)
    before = list(OrganizationYearSummary.objects.values_list("pk", flat=True))
    response = client_as(aworld.cast.city_admin).post(
        reverse("dashboard:rollup-start"), {"year": YEAR}
    )
    assert response.status_code == 400
    closed = zh(
        "The assessment year %(year)s is closed: its results are frozen and cannot be changed."
    ) % {"year": YEAR}
    assert closed in response.content.decode()
    assert list(OrganizationYearSummary.objects.values_list("pk", flat=True)) == before


def test_an_unknown_year_is_404(aworld, client_as):
    response = client_as(aworld.cast.city_admin).get(
        reverse("dashboard:rollup-detail", kwargs={"year": 2001})
    )
    assert response.status_code == 404


def test_the_results_page_costs_the_same_at_10_and_100_organisations(aworld, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(aworld.cast.city_admin)
    url = reverse("dashboard:rollup-detail", kwargs={"year": YEAR})
    counts = []
    for size in (3, 93):  # 7 + 3 = 10 organisations, then 100
        for _index in range(size):
            PartyOrganizationFactory(parent=aworld.tree.street)
        rollup.rollup_run_year(year=YEAR, now=NOW)
        client.get(url)
        # session, user, scope (roles), the year, count and page of organisation rows
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    "url_name",
    [
        "api:volunteer-year-summary-list",
        "api:team-year-summary-list",
        "api:organization-year-summary-list",
        "api:assessment-year-list",
    ],
)
def test_api_lists_cost_the_same_at_10_and_100_rows(aworld, api_as, url_name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.tests.factories import UserFactory
    from apps.organizations.tests.factories import MembershipFactory
    from apps.teams.models import Team

    api = api_as(aworld.cast.city_admin)
    counts = []
    for size in (10, 100):
        for index in range(size):
            MembershipFactory(user=UserFactory(), organization=aworld.tree.sibling_branch)
            Team.objects.create(organization=aworld.tree.sibling_branch, name=f"队{size}-{index}")
            PartyOrganizationFactory(parent=aworld.tree.street)
        rollup.rollup_run_year(year=YEAR, now=NOW)
        with CaptureQueriesContext(connection) as captured:
            assert api.get(reverse(url_name), {"page_size": 200}).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
