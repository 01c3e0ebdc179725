"""My points (积分明细): every point with its reason, the total and the breakdown by kind."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.tests.matrix import case, parametrize, run_case
from apps.points import services
from apps.points.models import PointsEntry
from apps.points.tests.helpers import default_rules, make_record
from conftest import zh

THIS_YEAR = timezone.localdate().year

CASES = [
    case("portal:my-points", default=200, anonymous=302),
    case("portal:my-points", query="?year=abc", default=200, anonymous=302),
    case("portal:my-points", "POST", default=405, anonymous=302),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_my_points_permissions(c, role, world, client, api_as):
    run_case(c, role, world, client, api_as)


def _post_records(volunteer, count, *, first_day=0):
    for day in range(first_day, first_day + count):
        record = make_record(
            volunteer, day=datetime.date(THIS_YEAR, 1, 1) + datetime.timedelta(days=day)
        )
        services.points_post_for_record(record=record)


@pytest.mark.django_db
def test_statement_shows_each_point_with_its_reason(client_as, volunteer, outsider):
    default_rules()
    _post_records(volunteer, 2)
    _post_records(outsider, 1)
    response = client_as(volunteer).get(reverse("portal:my-points"))
    assert response.status_code == 200
    page = response.content.decode()
    mine = PointsEntry.objects.filter(volunteer=volunteer)
    assert mine.count() >= 2
    for entry in mine:
        assert entry.reason in page
    total = sum(e.points for e in mine)
    assert response.context["total"] == total
    assert {line["kind"] for line in response.context["breakdown"]} == set(
        mine.values_list("kind", flat=True)
    )
    # Someone else's points never appear.
    assert list(response.context["page"].object_list) == list(mine.order_by("-counted_on", "-id"))


@pytest.mark.django_db
def test_bad_year_falls_back_to_this_year(client_as, volunteer):
    for query in ("?year=abc", "?year=1900", f"?year={THIS_YEAR + 5}"):
        response = client_as(volunteer).get(reverse("portal:my-points") + query)
        assert response.status_code == 200
        assert response.context["year"] == THIS_YEAR


@pytest.mark.django_db
def test_query_count_does_not_grow_with_entries(client_as, volunteer):
    default_rules()
    client = client_as(volunteer)
    url = reverse("portal:my-points")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _post_records(volunteer, 5)
    few = count()
    _post_records(volunteer, 45, first_day=5)
    assert PointsEntry.objects.filter(volunteer=volunteer).count() >= 40
    assert count() == few


@pytest.mark.django_db
def test_rank_in_the_branch_after_the_roll_up(client_as, volunteer, tree):
    from apps.awards.rollup import rollup_run_year

    default_rules()
    last_year = THIS_YEAR - 1
    record = make_record(volunteer, day=datetime.date(last_year, 6, 1))
    services.points_post_for_record(record=record)
    url = reverse("portal:my-points") + f"?year={last_year}"
    assert client_as(volunteer).get(url).context["summary"] is None
    rollup_run_year(year=last_year)
    response = client_as(volunteer).get(url)
    summary = response.context["summary"]
    assert (summary.volunteer, summary.rank_in_organization) == (volunteer, 1)
    assert (
        zh("Rank %(rank)s in %(organization)s")
        % {
            "rank": 1,
            "organization": tree.branch.name,
        }
        in response.content.decode()
    )
