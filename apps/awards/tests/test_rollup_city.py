"""The city-scale data set, built small, and the roll-up over it adding up to the records."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from apps.awards.citydata import seed_city
from apps.awards.models import OrganizationYearSummary, TeamYearSummary, VolunteerYearSummary
from apps.awards.rollup import rollup_run_year
from apps.awards.tests.conftest import NOW, YEAR
from apps.organizations.models import PartyOrganization
from apps.points.models import PointsEntry
from apps.service_records.models import ServiceRecord
from conftest import zh

# The seed commits and vacuums, as the real command does: outside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.postgres
def test_a_small_city_is_seeded_and_rolled_up_to_its_records():
    made = seed_city(volunteers=60, organizations=30, teams=4, records=900, year=YEAR)
    assert (made["volunteers"], made["records"], made["organizations"]) == (60, 900, 30)
    year = rollup_run_year(year=YEAR, now=NOW, parts=3)
    approved = ServiceRecord.objects.approved().in_year(YEAR)
    assert approved.count() == 810  # one in twenty submitted, one in twenty rejected
    rows = VolunteerYearSummary.objects.filter(assessment_year=year)
    assert rows.count() == 60
    totals = rows.aggregate(minutes=Sum("approved_minutes"), points=Sum("points"))
    assert totals["minutes"] == approved.aggregate(m=Sum("duration_minutes"))["m"]
    assert totals["points"] == PointsEntry.objects.aggregate(p=Sum("points"))["p"]
    root = PartyOrganization.objects.get(parent__isnull=True)
    city = OrganizationYearSummary.objects.get(assessment_year=year, organization=root)
    assert (city.members, city.records, city.approved_minutes) == (
        60,
        810,
        totals["minutes"],
    )
    teams = TeamYearSummary.objects.filter(assessment_year=year)
    assert teams.count() == 4
    assert teams.aggregate(n=Sum("records"))["n"] == approved.filter(team__isnull=False).count()


def test_the_city_set_needs_postgresql(capsys, monkeypatch):
    # Whatever this run's database is, the seed sees one that is not PostgreSQL.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(SystemExit):
        call_command("seed_demo", "--scale", "city", "--fraction", "0.001")
    assert zh("The city-scale data set needs PostgreSQL (set DATABASE_URL).") in (
        capsys.readouterr().err
    )
    assert not PartyOrganization.objects.exists()
