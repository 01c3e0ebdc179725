"""Who meets an award's rules, from the hand-worked 2025 roll-up; quotas and their use."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from apps.awards import rollup
from apps.awards.eligibility import candidate_check, candidate_list, quota_uses
from apps.awards.models import AssessmentYear, Quota
from apps.awards.tests.award_fixtures import nominate, nworld  # noqa: F401
from apps.awards.tests.conftest import NOW, YEAR
from apps.core.scoping import get_user_scope
from apps.organizations.tests.factories import MembershipFactory
from apps.points.tests.helpers import make_record
from apps.service_records.models import RecordStatus
from conftest import zh


def check(w, category=None, **candidate):
    with translation.override("zh-hans"):
        return candidate_check(
            assessment_year=w.assessment_year, category=category or w.vcat, **candidate
        )


def test_the_volunteer_meets_every_rule(nworld):  # noqa: F811
    assert check(nworld, volunteer=nworld.cast.volunteer) == []
    assert check(nworld, nworld.tcat, team=nworld.team) == []


def test_too_few_hours(nworld):  # noqa: F811
    nworld.vcat.min_hours = Decimal("5")
    assert check(nworld, volunteer=nworld.cast.volunteer) == [
        zh("%(hours)s approved hours in %(year)s; at least %(minimum)s are required.")
        % {"hours": Decimal("3.00"), "year": YEAR, "minimum": Decimal("5")}
    ]


def test_too_few_points(nworld):  # noqa: F811
    nworld.vcat.min_points = Decimal("15")
    assert check(nworld, volunteer=nworld.cast.volunteer) == [
        zh("%(points)s points in %(year)s; at least %(minimum)s are required.")
        % {"points": Decimal("12.50"), "year": YEAR, "minimum": Decimal("15")}
    ]


def test_rating_too_low_and_no_rating_at_all(nworld):  # noqa: F811
    assert check(nworld, volunteer=nworld.cast.team_leader) == [
        zh("Average rating %(rating)s; at least %(minimum)s is required.")
        % {"rating": Decimal("3.00"), "minimum": Decimal("4")}
    ]
    reasons = check(nworld, volunteer=nworld.cast.branch_secretary)
    assert zh("No rating in %(year)s.") % {"year": YEAR} in reasons


def test_rejected_records_of_the_year_count(nworld):  # noqa: F811
    make_record(nworld.cast.volunteer, day=datetime.date(2024, 7, 1), status=RecordStatus.REJECTED)
    assert check(nworld, volunteer=nworld.cast.volunteer) == []
    make_record(nworld.cast.volunteer, day=datetime.date(YEAR, 7, 1), status=RecordStatus.REJECTED)
    assert check(nworld, volunteer=nworld.cast.volunteer) == [
        zh("%(count)s rejected records in %(year)s; at most %(maximum)s are allowed.")
        % {"count": 1, "year": YEAR, "maximum": 0}
    ]


def test_not_a_party_member(nworld):  # noqa: F811
    nworld.vcat.min_hours = nworld.vcat.min_average_rating = None
    assert check(nworld, volunteer=nworld.citizen) == [zh("Not an active party member.")]
    nworld.vcat.party_members_only = False
    assert check(nworld, volunteer=nworld.citizen) == []


def test_wrong_kind(nworld):  # noqa: F811
    assert zh("“%(category)s” is awarded to teams, not volunteers.") % {
        "category": nworld.tcat.name
    } in check(nworld, nworld.tcat, volunteer=nworld.cast.volunteer)
    assert zh("“%(category)s” is awarded to volunteers, not teams.") % {
        "category": nworld.vcat.name
    } in check(nworld, team=nworld.team)


def test_roll_up_not_run(nworld):  # noqa: F811
    year = AssessmentYear.objects.create(year=2024)
    with translation.override("zh-hans"):
        reasons = candidate_check(
            assessment_year=year, category=nworld.vcat, volunteer=nworld.cast.volunteer
        )
    assert reasons == [
        zh(
            "The roll-up of %(year)s has not been completed: the candidates' figures are not "
            "known yet."
        )
        % {"year": 2024}
    ]


def test_candidate_list_of_the_branch(nworld):  # noqa: F811
    w = nworld
    nomination = nominate(w)
    rows = candidate_list(
        user=w.cast.branch_secretary,
        assessment_year=w.assessment_year,
        category=w.vcat,
        organization=w.tree.branch,
    )
    assert [row.volunteer for row in rows] == [
        w.cast.volunteer,
        w.cast.team_leader,
        w.cast.branch_secretary,
    ]
    first = rows[0]
    assert first.eligible and first.nomination == nomination
    assert (first.hours, first.points, first.average_rating) == (
        Decimal("3.00"),
        Decimal("12.50"),
        Decimal("4.50"),
    )
    assert first.organization == w.tree.branch and first.name == "王秀英"
    assert not rows[1].eligible and rows[1].nomination is None
    teams = candidate_list(
        user=w.cast.city_admin,
        assessment_year=w.assessment_year,
        category=w.tcat,
        organization=w.tree.city,
    )
    assert [(row.team, row.eligible) for row in teams] == [(w.team, True), (w.other_team, False)]


def test_candidate_list_reasons_match_candidate_check(nworld):  # noqa: F811
    w = nworld
    make_record(w.cast.volunteer, day=datetime.date(YEAR, 7, 1), status=RecordStatus.REJECTED)
    with translation.override("zh-hans"):
        rows = candidate_list(
            user=w.cast.city_admin,
            assessment_year=w.assessment_year,
            category=w.vcat,
            organization=w.tree.city,
        )
    for row in rows:
        assert row.reasons == check(w, volunteer=row.volunteer), row.name
    assert {row.rejected_records for row in rows if row.volunteer == w.cast.volunteer} == {1}


def _grow_and_count(w, members):
    MembershipFactory.create_batch(members, organization=w.tree.branch)
    rollup.rollup_run_year(year=YEAR, now=NOW)
    w.assessment_year.refresh_from_db()
    get_user_scope(w.cast.branch_secretary)  # the request has it already
    with CaptureQueriesContext(connection) as queries:
        rows = candidate_list(
            user=w.cast.branch_secretary,
            assessment_year=w.assessment_year,
            category=w.vcat,
            organization=w.tree.branch,
        )
    return len(rows), len(queries)


def test_candidate_list_queries_stay_constant(nworld):  # noqa: F811
    small_rows, small = _grow_and_count(nworld, 5)
    large_rows, large = _grow_and_count(nworld, 50)
    assert (small_rows, large_rows) == (8, 58)
    # the summaries with their subqueries, and the live nominations
    assert (small, large) == (2, 2)


def test_quota_uses_on_the_way_up(nworld):  # noqa: F811
    w = nworld
    above = Quota.objects.create(
        assessment_year=w.assessment_year, category=w.vcat, organization=w.tree.district, places=5
    )
    Quota.objects.create(
        assessment_year=w.assessment_year,
        category=w.vcat,
        organization=w.tree.other_district,
        places=3,
    )
    nominate(w)
    uses = quota_uses(
        assessment_year=w.assessment_year, category=w.vcat, organization=w.tree.branch
    )
    assert [(use.quota, use.used, use.left) for use in uses] == [(w.quota, 1, 1), (above, 1, 4)]


@pytest.mark.parametrize("year", [YEAR])
def test_a_year_number_is_accepted(nworld, year):  # noqa: F811
    assert (
        candidate_check(assessment_year=year, category=nworld.vcat, volunteer=nworld.cast.volunteer)
        == []
    )
