"""The roll-up's run-wide stage and its row-by-row comparison: the big tables are read once per
run, reruns rewrite only what changed, and people who move or leave are rolled up once."""

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


def stage_tables():
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(name for name in names if name.startswith(rollup.STAGE_PREFIX))


def stage_builds(queries):
    return [
        query["sql"]
        for query in queries
        if query["sql"].startswith("CREATE") and rollup.STAGE_PREFIX in query["sql"]
    ]


def test_the_stage_is_built_once_a_run_and_dropped_at_its_end(aworld):
    with CaptureQueriesContext(connection) as queries:
        year = run(parts=3)
    assert year.run_parts_total == 3
    # Records, ratings and points are read by one statement each, not once per part.
    builds = stage_builds(queries.captured_queries)
    assert len(builds) == 4  # by volunteer and team, by volunteer, by team, their index
    reads = [
        query["sql"]
        for query in queries.captured_queries
        if ServiceRecord._meta.db_table in query["sql"]
        or PointsEntry._meta.db_table in query["sql"]
    ]
    assert len(reads) == 2  # the by-pair build (records and ratings), the points
    assert stage_tables() == []


def test_each_figure_matches_the_records_counted_one_by_one(aworld):
    """A cross-check of the stage's SQL with the ORM, volunteer by volunteer and team by team."""
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


def test_a_killed_run_leaves_a_stage_the_next_run_drops(aworld):
    run()
    first = snapshot()
    # A run whose worker died after building the stage: its stage stays behind …
    killed, parts = rollup.rollup_begin(year=YEAR, now=NOW)
    rollup._prepare_stage(year=YEAR, token=killed.run_token)
    assert len(stage_tables()) == 2
    # … until the next run of the year starts, which replaces it with its own and drops that.
    with CaptureQueriesContext(connection) as queries:
        run()
    assert len(stage_builds(queries.captured_queries)) == 4
    assert stage_tables() == []
    assert snapshot() == first


def test_a_failed_run_drops_its_stage_and_keeps_the_old_rows(aworld, monkeypatch):
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
    assert stage_tables() == []
    assert snapshot() == first


def test_the_stage_of_another_year_is_left_alone(aworld):
    other, _parts = rollup.rollup_begin(year=YEAR - 1, now=NOW)
    rollup._prepare_stage(year=YEAR - 1, token=other.run_token)
    run()
    assert [name for name in stage_tables() if f"_{YEAR - 1}_" in name] == sorted(
        rollup._stage_tables(YEAR - 1, other.run_token)
    )
    rollup._drop_stages(YEAR - 1, token=other.run_token)
    assert stage_tables() == []


def test_the_benchmark_prints_both_roll_ups_against_the_bare_query(aworld, capsys):
    call_command("benchmark_rollup", str(YEAR), "--repeat", "1")
    out = capsys.readouterr().out
    assert zh("First roll-up of the year (every row written)") in out
    assert zh("Rerun (only changed rows rewritten)") in out
    ratio = zh(
        "Bare GROUP BY: %(bare).2f s; roll-up: %(rollup).2f s; ratio %(ratio).2f (goal ≤ 2)."
    )
    assert out.count(ratio.split("%(ratio).2f")[1]) == 2  # one line for each roll-up
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
