"""The roll-up on a hand-made year: exact figures, reruns, atomicity, closing, refusals."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.awards import rollup
from apps.awards.models import (
    AssessmentYear,
    OrganizationYearSummary,
    RunStatus,
    TeamYearSummary,
    VolunteerYearSummary,
)
from apps.awards.tests.conftest import NOW, YEAR
from conftest import zh

pytestmark = pytest.mark.django_db(transaction=False)


def run(**kwargs):
    return rollup.rollup_run_year(year=YEAR, now=NOW, **kwargs)


def volunteer_rows():
    return {
        row.pop("volunteer_id"): row
        for row in VolunteerYearSummary.objects.values(
            "volunteer_id",
            "organization_id",
            "approved_minutes",
            "records",
            "on_time_records",
            "points",
            "ratings",
            "rating_stars_total",
            "average_rating",
            "pledges_kept",
            "training_hours",
            "visits",
            "rank_in_organization",
        )
    }


def snapshot():
    def rows(model, key):
        return sorted(
            (tuple(sorted((k, v) for k, v in row.items() if k not in ("id", "assessment_year_id"))))
            for row in model.objects.values()
        )

    return (
        rows(VolunteerYearSummary, "volunteer_id"),
        rows(TeamYearSummary, "team_id"),
        rows(OrganizationYearSummary, "organization_id"),
    )


def test_volunteer_figures(aworld):
    cast, tree = aworld.cast, aworld.tree
    year = run()
    assert year.run_status == RunStatus.DONE
    assert year.progress_percent == 100
    rows = volunteer_rows()
    assert rows[cast.volunteer.pk] == {
        "organization_id": tree.branch.pk,
        "approved_minutes": 180,
        "records": 3,
        "on_time_records": 2,
        "points": Decimal("12.50"),
        "ratings": 2,
        "rating_stars_total": 9,
        "average_rating": Decimal("4.50"),
        "pledges_kept": 1,
        "training_hours": Decimal("2.5"),
        "visits": 2,
        "rank_in_organization": 2,
    }
    assert rows[cast.team_leader.pk]["rank_in_organization"] == 1
    assert rows[cast.team_leader.pk]["points"] == Decimal("20.00")
    assert rows[cast.branch_secretary.pk]["rank_in_organization"] == 3
    assert rows[cast.branch_secretary.pk]["approved_minutes"] == 0
    assert rows[cast.branch_secretary.pk]["average_rating"] is None
    assert rows[cast.other_branch_secretary.pk]["rank_in_organization"] == 1
    citizen = rows[aworld.citizen.pk]
    assert (citizen["organization_id"], citizen["rank_in_organization"]) == (None, None)
    assert citizen["approved_minutes"] == 30
    # People with neither a membership nor a volunteer profile are not rolled up.
    assert cast.city_admin.pk not in rows


def test_team_figures(aworld):
    run()
    team = TeamYearSummary.objects.get(team=aworld.team)
    assert (team.members, team.approved_minutes, team.records, team.activities) == (1, 180, 2, 1)
    assert (team.ratings, team.average_rating, team.hours) == (2, Decimal("4.00"), Decimal("3.00"))
    other = TeamYearSummary.objects.get(team=aworld.other_team)
    assert (other.members, other.records, other.average_rating) == (0, 0, None)


def test_organisation_figures_add_up_the_subtree(aworld):
    tree = aworld.tree
    run()
    branch = OrganizationYearSummary.objects.get(organization=tree.branch)
    assert branch.members == 3
    assert branch.participation_rate == Decimal("66.7")
    assert branch.hours_per_member == Decimal("1.67")  # 300 min / 60 / 3
    assert (branch.reported_members, branch.in_service_members) == (1, 3)
    assert branch.residence_report_rate == Decimal("33.3")
    assert (branch.paired_volunteers, branch.party_volunteers) == (1, 1)
    assert branch.pairing_rate == Decimal("100.0")
    assert branch.four_facts_rate == Decimal("50.0")
    assert (branch.requests_completed, branch.requests) == (1, 2)
    assert branch.satisfaction == Decimal("4.00")  # (5 + 4 + 3) / 3
    assert branch.on_time_rate == Decimal("75.0")  # 3 of 4 records
    street = OrganizationYearSummary.objects.get(organization=tree.street)
    assert (street.members, street.approved_minutes, street.households) == (3, 300, 2)
    city = OrganizationYearSummary.objects.get(organization=tree.city)
    assert (city.members, city.participating_members, city.approved_minutes) == (4, 3, 345)
    other = OrganizationYearSummary.objects.get(organization=tree.other_branch)
    assert (other.members, other.households, other.participation_rate) == (1, 0, Decimal("100.0"))
    assert other.four_facts_rate is None
    sibling = OrganizationYearSummary.objects.get(organization=tree.sibling_branch)
    assert sibling.members == 0 and sibling.participation_rate is None
    assert OrganizationYearSummary.objects.count() == 7


def test_a_rerun_gives_identical_rows(aworld):
    run()
    first = snapshot()
    run()
    assert snapshot() == first
    run(parts=2)
    assert snapshot() == first


def test_a_part_rolled_up_alone_replaces_only_its_rows(aworld):
    run()
    first = snapshot()
    VolunteerYearSummary.objects.filter(volunteer=aworld.cast.volunteer).update(visits=99)
    run(organization_ids=[aworld.tree.branch.pk])
    assert snapshot() == first


def test_a_part_that_fails_half_way_leaves_the_old_rows(aworld, monkeypatch):
    run()
    first = snapshot()
    real = rollup._team_sql

    def broken(part, **kwargs):
        statements = real(part, **kwargs)
        if statements and aworld.tree.district.path in part["paths"]:
            return [statements[0], ("SELECT * FROM no_such_table", [])]
        return statements

    monkeypatch.setattr(rollup, "_team_sql", broken)
    from apps.points.tests.helpers import make_record

    make_record(aworld.cast.volunteer, day=rollup.datetime.date(YEAR, 10, 1), minutes=600)
    with pytest.raises(Exception, match="no_such_table"):
        run()
    # The branch's part (the district's subtree) rolled back whole: the old rows stand.
    assert snapshot()[0] == first[0]
    assert snapshot()[1] == first[1]
    year = AssessmentYear.objects.get(year=YEAR)
    assert year.run_status == RunStatus.FAILED
    assert "no_such_table" in year.run_message


def test_closing_freezes_the_results(aworld):
    run()
    rollup.assessment_year_close(actor=aworld.cast.city_admin, year=YEAR, now=NOW)
    with pytest.raises(ValidationError) as error:
        rollup.assessment_year_close(actor=aworld.cast.city_admin, year=YEAR, now=NOW)
    assert error.value.messages == [
        zh("The assessment year %(year)s is already closed.") % {"year": YEAR}
    ]
    frozen = snapshot()
    closed = zh(
        "The assessment year %(year)s is closed: its results are frozen and cannot be changed."
    ) % {"year": YEAR}
    with pytest.raises(ValidationError) as error:
        run()
    assert error.value.messages == [closed]
    row = VolunteerYearSummary.objects.get(volunteer=aworld.cast.volunteer)
    row.visits = 50
    with pytest.raises(ValidationError) as error:
        row.save()
    assert error.value.messages == [closed]
    with pytest.raises(ValidationError):
        row.delete()
    assert snapshot() == frozen


def test_closing_needs_a_finished_roll_up_and_the_city(aworld):
    with pytest.raises(ValidationError) as error:
        rollup.assessment_year_close(actor=aworld.cast.city_admin, year=YEAR)
    assert error.value.messages == [
        zh("%(year)s has not been rolled up yet: run the roll-up before closing the year.")
        % {"year": YEAR}
    ]
    run()
    with pytest.raises(ValidationError) as error:
        rollup.assessment_year_close(actor=aworld.cast.branch_secretary, year=YEAR)
    assert error.value.messages == [
        zh("Only the city's administrators may close an assessment year.")
    ]
    assert not AssessmentYear.objects.get(year=YEAR).is_closed


def test_a_future_year_is_refused(aworld):
    with pytest.raises(ValidationError) as error:
        rollup.rollup_run_year(year=2027, now=NOW)
    assert error.value.messages == [
        zh("%(year)s has not happened yet: a roll-up can only be run for this year or earlier.")
        % {"year": 2027}
    ]
    assert not AssessmentYear.objects.exists()
    assert not VolunteerYearSummary.objects.exists()


def test_the_command_prints_a_chinese_summary(aworld, capsys):
    call_command("rollup_year", str(YEAR))
    out = capsys.readouterr().out
    assert VolunteerYearSummary.objects.count() == 5
    assert (
        zh(
            "Rolled up %(year)s: %(volunteers)d volunteers, %(teams)d teams, "
            "%(organizations)d organisations."
        )
        % {"year": YEAR, "volunteers": 5, "teams": 2, "organizations": 7}
        in out
    )


def test_the_command_refuses_a_future_year(aworld, capsys):
    with pytest.raises(SystemExit):
        call_command("rollup_year", "2999")
    assert (
        zh("%(year)s has not happened yet: a roll-up can only be run for this year or earlier.")
        % {"year": 2999}
        in capsys.readouterr().err
    )
