"""The roll-up over the tallies, and its reruns: the big tables (records, ratings, the ledger)
are never read by a roll-up, reruns rewrite only what changed, people who move or leave are
rolled up once, and a killed or failed run leaves the previous rows whole."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.awards import rollup
from apps.awards.models import (
    AssessmentYear,
    OrganizationYearSummary,
    RunStatus,
    TeamYearSummary,
    VolunteerYearSummary,
)
from apps.awards.tests.conftest import NOW, YEAR, day, points
from apps.awards.tests.test_rollup import run, snapshot, volunteer_rows
from apps.organizations.models import Membership
from apps.points.models import PointsEntry, PointsRule, RuleKind
from apps.points.tests.helpers import make_record
from apps.service_records.models import Evaluation, ServiceRecord
from conftest import zh

pytestmark = pytest.mark.django_db(transaction=False)

BIG_TABLES = (
    ServiceRecord._meta.db_table,
    Evaluation._meta.db_table,
    PointsEntry._meta.db_table,
)


def test_a_run_reads_the_tallies_never_the_records_ratings_or_ledger(aworld):
    temporary = "CREATE TEMPORARY TABLE rollup_new"
    for parts, compared in ((None, False), (None, True), (3, True)):
        with CaptureQueriesContext(connection) as queries:
            year = run(parts=parts)
        assert year.run_parts_total == (parts or 1)
        sql = [query["sql"] for query in queries.captured_queries]
        assert [text for text in sql if any(table in text for table in BIG_TABLES)] == []
        # The year's first run inserts straight; later ones compare with the rows there.
        assert any(text.startswith(temporary) for text in sql) is compared
    assert VolunteerYearSummary.objects.get(volunteer=aworld.cast.volunteer).records == 3


def test_each_figure_matches_the_records_counted_one_by_one(aworld):
    """A cross-check of the tallies and the roll-up's SQL with the ORM, volunteer by volunteer
    and team by team."""
    bonus = PointsRule.objects.filter(kind=RuleKind.BONUS).first()
    points(aworld.cast.branch_secretary, "7.25", bonus=bonus)  # points without any record
    run()
    approved = ServiceRecord.objects.approved().in_year(YEAR)
    rows = volunteer_rows()
    assert rows[aworld.cast.branch_secretary.pk]["points"] == Decimal("7.25")
    assert rows[aworld.cast.branch_secretary.pk]["records"] == 0
    for volunteer_id, row in rows.items():
        mine = approved.filter(volunteer_id=volunteer_id)
        ratings = Evaluation.objects.filter(record__in=mine)
        expected_points = PointsEntry.objects.filter(
            volunteer_id=volunteer_id, counted_on__year=YEAR
        ).aggregate(total=Sum("points"))["total"]
        assert row["approved_minutes"] == (mine.aggregate(m=Sum("duration_minutes"))["m"] or 0)
        assert row["records"] == mine.count()
        assert row["on_time_records"] == mine.filter(is_late=False).count()
        assert row["ratings"] == ratings.count()
        assert row["rating_stars_total"] == (ratings.aggregate(s=Sum("stars"))["s"] or 0)
        assert row["points"] == (expected_points or Decimal("0.00"))
    for team in TeamYearSummary.objects.all():
        theirs = approved.filter(team_id=team.team_id).aggregate(
            n=Count("pk"), minutes=Sum("duration_minutes")
        )
        assert (team.records, team.approved_minutes) == (theirs["n"], theirs["minutes"] or 0)
        ratings = Evaluation.objects.filter(record__in=approved.filter(team_id=team.team_id))
        assert team.ratings == ratings.count()


def test_a_rerun_rewrites_only_the_rows_that_changed(aworld):
    tree, cast = aworld.tree, aworld.cast
    run()
    ids = dict(VolunteerYearSummary.objects.values_list("volunteer_id", "pk"))
    organisation_ids = dict(OrganizationYearSummary.objects.values_list("organization_id", "pk"))
    run()
    assert dict(VolunteerYearSummary.objects.values_list("volunteer_id", "pk")) == ids
    assert (
        dict(OrganizationYearSummary.objects.values_list("organization_id", "pk"))
        == organisation_ids
    )

    make_record(cast.volunteer, day=day(10), minutes=60)
    run()
    now = dict(VolunteerYearSummary.objects.values_list("volunteer_id", "pk"))
    assert now[cast.volunteer.pk] != ids[cast.volunteer.pk]
    assert {k: v for k, v in now.items() if k != cast.volunteer.pk} == {
        k: v for k, v in ids.items() if k != cast.volunteer.pk
    }
    assert VolunteerYearSummary.objects.get(volunteer=cast.volunteer).approved_minutes == 240
    organisations = dict(OrganizationYearSummary.objects.values_list("organization_id", "pk"))
    # The volunteer's branch and every organisation above it changed; the others did not.
    changed = {tree.branch.pk, tree.street.pk, tree.district.pk, tree.city.pk}
    for organization_id, pk in organisations.items():
        assert (pk != organisation_ids[organization_id]) == (organization_id in changed)
    assert OrganizationYearSummary.objects.get(organization=tree.city).approved_minutes == 405


def test_someone_who_moves_to_another_subtree_is_rolled_up_once_there(aworld):
    tree, cast = aworld.tree, aworld.cast
    run()
    Membership.objects.filter(user=cast.volunteer).update(ended_on=timezone.localdate())
    Membership.objects.create(
        user=cast.volunteer, organization=tree.other_branch, started_on=timezone.localdate()
    )
    # Whatever order the parts run in, the row follows the volunteer to the other district.
    for parts in (None, 2, 3, 1):
        run(parts=parts)
        row = VolunteerYearSummary.objects.get(volunteer=cast.volunteer)
        assert (row.organization_id, row.rank_in_organization) == (tree.other_branch.pk, 1)
        assert (
            VolunteerYearSummary.objects.get(
                volunteer=cast.other_branch_secretary
            ).rank_in_organization
            == 2
        )
        branch = OrganizationYearSummary.objects.get(organization=tree.branch)
        other = OrganizationYearSummary.objects.get(organization=tree.other_branch)
        assert (branch.members, other.members) == (2, 2)
        assert (branch.approved_minutes, other.approved_minutes) == (120, 225)
    # Rolled up from the volunteer's old subtree alone, the row stays where it now belongs.
    run(organization_ids=[tree.district.pk])
    assert VolunteerYearSummary.objects.filter(volunteer=cast.volunteer).count() == 1
    assert (
        VolunteerYearSummary.objects.get(volunteer=cast.volunteer).organization_id
        == tree.other_branch.pk
    )


def test_someone_who_leaves_the_party_and_the_platform_drops_out(aworld):
    cast = aworld.cast
    run()
    assert VolunteerYearSummary.objects.filter(volunteer=cast.branch_secretary).exists()
    Membership.objects.filter(user=cast.branch_secretary).update(ended_on=timezone.localdate())
    run()
    # No active membership and no volunteer profile: not rolled up any more.
    assert not VolunteerYearSummary.objects.filter(volunteer=cast.branch_secretary).exists()
    branch = OrganizationYearSummary.objects.get(organization=aworld.tree.branch)
    assert branch.members == 2


def test_a_run_killed_half_way_is_overtaken_by_the_next(aworld):
    run()
    first = snapshot()
    # A run whose worker died after one of its three parts: its rows are whole, its year
    # still says running …
    killed, parts = rollup.rollup_begin(year=YEAR, now=NOW, parts=3)
    make_record(aworld.cast.volunteer, day=day(10), minutes=60)
    rollup.rollup_run_part(year=YEAR, token=killed.run_token, part=parts[0])
    assert AssessmentYear.objects.get(year=YEAR).run_status == RunStatus.RUNNING
    # … until the next run of the year replaces it.
    run()
    assert AssessmentYear.objects.get(year=YEAR).run_status == RunStatus.DONE
    assert VolunteerYearSummary.objects.get(volunteer=aworld.cast.volunteer).approved_minutes == 240
    after = snapshot()
    assert after != first
    # The late part of the killed run, should it still come, changes nothing.
    assert rollup.rollup_run_part(year=YEAR, token=killed.run_token, part=parts[1]) is False
    assert snapshot() == after


def test_a_failed_run_keeps_the_old_rows(aworld, monkeypatch):
    run()
    first = snapshot()
    real = rollup._team_sql

    def broken(part, **kwargs):
        statements = real(part, **kwargs)
        return [*statements, ("SELECT * FROM no_such_table", [])] if statements else []

    monkeypatch.setattr(rollup, "_team_sql", broken)
    make_record(aworld.cast.volunteer, day=day(10), minutes=60)
    with pytest.raises(Exception, match="no_such_table"):
        run()
    assert snapshot() == first


def test_another_years_rows_are_left_alone(aworld):
    make_record(aworld.cast.volunteer, day=day(7, year=YEAR - 1), minutes=45)
    rollup.rollup_run_year(year=YEAR - 1, now=NOW)
    earlier = VolunteerYearSummary.objects.filter(assessment_year__year=YEAR - 1)
    before = list(earlier.values_list())
    # The fixture's 500 minutes of the year before, and these.
    assert earlier.get(volunteer=aworld.cast.volunteer).approved_minutes == 545
    run()
    run()
    assert list(earlier.values_list()) == before


def test_the_benchmark_prints_both_roll_ups_against_the_bare_query(aworld, capsys):
    call_command("benchmark_rollup", str(YEAR), "--repeat", "1")
    out = capsys.readouterr().out
    assert zh("First roll-up of the year (every row written)") in out
    assert zh("Rerun (only changed rows rewritten)") in out
    ratio = zh(
        "Bare GROUP BY: %(bare).2f s; roll-up: %(rollup).2f s; ratio %(ratio).2f (goal ≤ 2)."
    )
    assert out.count(ratio.split("%(ratio).2f")[1]) == 2  # one line for each roll-up
    checked = zh(
        "Before timing, the tallies the roll-up reads were checked equal to a recount of the "
        "records, their ratings and the ledger (%(seconds).2f s)."
    )
    assert checked.split("%(seconds)")[0] in out
    recount = zh(
        "A full recount of the year's tallies from the records, their ratings and the ledger "
        "takes %(recount).2f s (%(ratio).2f × the bare query): the roll-up no longer pays it, "
        "every write pays its share."
    )
    assert recount.split("%(recount)")[0] in out
    assert VolunteerYearSummary.objects.count() == 5
    assert AssessmentYear.objects.get(year=YEAR).run_status == "done"


def test_the_benchmark_refuses_a_closed_year_and_keeps_its_rows(aworld, capsys):
    run()
    rollup.assessment_year_close(actor=aworld.cast.city_admin, year=YEAR, now=NOW)
    frozen = snapshot()
    with pytest.raises(SystemExit):
        call_command("benchmark_rollup", str(YEAR), "--repeat", "1")
    assert (
        zh("The assessment year %(year)s is closed: its results are frozen and cannot be changed.")
        % {"year": YEAR}
        in capsys.readouterr().err
    )
    assert snapshot() == frozen


def test_a_first_roll_up_of_a_part_takes_over_the_row_of_someone_who_moved_in(aworld):
    """The part has no rows yet, so its rows would go straight in; one of its people still
    has a row from their old subtree, so the part compares and writes over it instead."""
    tree, cast = aworld.tree, aworld.cast
    run(organization_ids=[tree.district.pk])
    assert VolunteerYearSummary.objects.get(volunteer=cast.volunteer).organization_id == (
        tree.branch.pk
    )
    Membership.objects.filter(user=cast.volunteer).update(ended_on=timezone.localdate())
    Membership.objects.create(
        user=cast.volunteer, organization=tree.other_branch, started_on=timezone.localdate()
    )
    assert not VolunteerYearSummary.objects.filter(organization=tree.other_branch).exists()
    with CaptureQueriesContext(connection) as queries:
        run(organization_ids=[tree.other_district.pk])
    sql = [query["sql"] for query in queries.captured_queries]
    assert any(text.startswith("CREATE TEMPORARY TABLE rollup_new") for text in sql)
    row = VolunteerYearSummary.objects.get(volunteer=cast.volunteer)
    assert (row.organization_id, row.approved_minutes, row.rank_in_organization) == (
        tree.other_branch.pk,
        180,
        1,
    )
    assert VolunteerYearSummary.objects.filter(organization=tree.other_branch).count() == 2
