"""``rollup_year --check-tallies`` and ``--recount-tallies``: the tallies the roll-up reads,
compared with and rebuilt from the records and the ledger; refusals say why and change
nothing; the benchmark will not time a roll-up over tallies that disagree."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.awards.models import VolunteerYearSummary
from apps.awards.tests.conftest import YEAR
from apps.awards.tests.test_rollup import run, volunteer_rows
from apps.points.models import PointsTally
from apps.service_records.models import RecordTally
from conftest import zh

pytestmark = pytest.mark.django_db(transaction=False)

DIFFER = (
    "The tallies of %(year)s differ from a recount: %(records)d service tallies, "
    "%(points)d points tallies. Rebuild them with --recount-tallies."
)


def tallies():
    return (
        sorted(RecordTally.objects.values_list()),
        sorted(PointsTally.objects.values_list("volunteer_id", "year", "points")),
    )


def spoil(aworld):
    volunteer = aworld.cast.volunteer
    RecordTally.objects.filter(volunteer=volunteer, year=YEAR).update(approved_minutes=1)
    PointsTally.objects.filter(volunteer=volunteer, year=YEAR).update(points=Decimal("99"))


def test_the_check_says_the_tallies_match(aworld, capsys):
    call_command("rollup_year", str(YEAR), "--check-tallies")
    assert (
        zh("The tallies of %(year)s match a recount of the records and the ledger.")
        % {"year": YEAR}
        in capsys.readouterr().out
    )
    assert not VolunteerYearSummary.objects.exists()  # a check rolls nothing up


def test_the_check_lists_what_differs_and_changes_nothing(aworld, capsys):
    spoil(aworld)
    spoilt = tallies()
    with pytest.raises(SystemExit) as exit_:
        call_command("rollup_year", str(YEAR), "--check-tallies")
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    # The volunteer's two service tallies of the year (in the team and outside it) and the
    # points tally.
    assert zh(DIFFER) % {"year": YEAR, "records": 2, "points": 1} in out
    assert str(aworld.cast.volunteer.pk) in out
    assert tallies() == spoilt
    assert not VolunteerYearSummary.objects.exists()


def test_a_recount_puts_the_tallies_right_and_rolls_up(aworld, capsys):
    spoil(aworld)
    call_command("rollup_year", str(YEAR), "--recount-tallies")
    out = capsys.readouterr().out
    assert (
        zh(
            "Recounted the tallies of %(year)s: %(records)d service tallies and %(points)d points "
            "tallies in %(seconds).1f seconds."
        ).split("%(seconds)")[0]
        % {"year": YEAR, "records": 5, "points": 3}
        in out
    )
    row = volunteer_rows()[aworld.cast.volunteer.pk]
    assert (row["approved_minutes"], row["points"]) == (180, Decimal("12.50"))
    call_command("rollup_year", str(YEAR), "--check-tallies")


@pytest.mark.parametrize("option", ["--check-tallies", "--recount-tallies"])
def test_a_future_year_is_refused_and_nothing_changes(aworld, capsys, option):
    before = tallies()
    with pytest.raises(SystemExit) as exit_:
        call_command("rollup_year", "2999", option)
    assert exit_.value.code == 2
    assert (
        zh("%(year)s has not happened yet: a roll-up can only be run for this year or earlier.")
        % {"year": 2999}
        in capsys.readouterr().err
    )
    assert tallies() == before
    assert not VolunteerYearSummary.objects.exists()


def test_checking_and_recounting_at_once_is_refused(aworld):
    with pytest.raises(CommandError):
        call_command("rollup_year", str(YEAR), "--check-tallies", "--recount-tallies")


def test_the_benchmark_will_not_time_a_roll_up_over_wrong_tallies(aworld, capsys):
    run()
    rows = sorted(VolunteerYearSummary.objects.values_list())
    spoil(aworld)
    with pytest.raises(SystemExit) as exit_:
        call_command("benchmark_rollup", str(YEAR), "--repeat", "1")
    assert exit_.value.code == 2
    assert zh(DIFFER) % {"year": YEAR, "records": 2, "points": 1} in capsys.readouterr().err
    assert sorted(VolunteerYearSummary.objects.values_list()) == rows


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_city_set_ends_with_tallies_that_match_and_triggers_on():
    from django.db import connection

    from apps.awards.citydata import seed_city
    from apps.awards.tallies import tallies_check

    seed_city(volunteers=60, organizations=30, teams=4, records=900, year=YEAR)
    assert tallies_check(year=YEAR).ok
    assert RecordTally.objects.filter(year=YEAR).exists()
    assert PointsTally.objects.filter(year=YEAR).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal "
            "AND (tgname LIKE 'record\\_%%' OR tgname = 'points_tally_insert')"
        )
        states = dict(cursor.fetchall())
    assert len(states) == 7 and set(states.values()) == {"O"}  # all enabled again


def test_the_write_cost_needs_postgresql(aworld, capsys, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(SystemExit) as exit_:
        call_command("benchmark_rollup", str(YEAR), "--repeat", "1", "--write-cost")
    assert exit_.value.code == 2
    assert zh("--write-cost needs PostgreSQL.") in capsys.readouterr().err
    assert not VolunteerYearSummary.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_write_cost_is_timed_and_rolled_back(aworld, capsys):
    from apps.service_records.models import Evaluation, ServiceRecord

    records, ratings = ServiceRecord.objects.count(), Evaluation.objects.count()
    before = tallies()
    call_command("benchmark_rollup", str(YEAR), "--repeat", "1", "--write-cost", "3")
    out = capsys.readouterr().out
    line = zh(
        "Inserting %(rows)d approved records in one statement: %(with).2f s with the tally "
        "triggers, %(without).2f s without."
    )
    assert line.split("%(rows)d")[0] + "3" in out
    assert (ServiceRecord.objects.count(), Evaluation.objects.count()) == (records, ratings)
    assert tallies() == before
