"""The coverage board: each indicator on a small tree, drill-downs, the export and bad input."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from apps.accounts.tests.factories import UserFactory
from apps.care.coverage import INDICATORS as CARE_INDICATORS
from apps.communities.coverage import (
    COMMUNITIES_UNPAIRED,
    INDICATORS,
    MEMBERS_UNREPORTED,
    REPORTED_WITHOUT_PLEDGE,
    REPORTED_WITHOUT_POST,
    TEAMS_UNPAIRED,
    coverage_board,
    coverage_default_organization,
    coverage_drilldown,
)
from apps.communities.models import (
    ClaimStatus,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    TeamPairing,
)
from apps.core.models import AuditEntry
from apps.organizations.models import EmploymentStatus
from apps.organizations.tests.factories import MembershipFactory
from apps.teams.models import Team

YEAR = timezone.localdate().year
_numbers = iter(range(1, 100_000))


def member(organization, name, *, employment=EmploymentStatus.EMPLOYED, ended=False):
    user = UserFactory(real_name=name)
    MembershipFactory(
        user=user,
        organization=organization,
        employment=employment,
        started_on=datetime.date(2020, 1, 1),
        ended_on=datetime.date(2021, 1, 1) if ended else None,
    )
    return user


def report(user, community, status=ResidenceReportStatus.CONFIRMED):
    return ResidenceReport.objects.create(
        number=f"R{next(_numbers):08d}",
        user=user,
        community=community,
        home_address="桂园路1号",
        status=status,
    )


def claim(user, post, status=ClaimStatus.APPROVED):
    return PostClaim.objects.create(post=post, user=user, status=status)


def pledge(user, community, year=YEAR):
    return Pledge.objects.create(
        user=user, community=community, year=year, content="每月服务", target="12次"
    )


@pytest.fixture
def scene(tree, team, other_team, community, other_community):
    """Gaps on purpose: other_team and other_community unpaired, members at every stage."""
    today = timezone.localdate()
    TeamPairing.objects.create(team=team, community=community, started_on=today)
    # An ended pairing does not count.
    TeamPairing.objects.create(
        team=other_team,
        community=other_community,
        started_on=datetime.date(2020, 1, 1),
        ended_on=datetime.date(2021, 1, 1),
    )
    Team.objects.create(organization=tree.branch, name="已停用的队", is_active=False)
    post = Post.objects.create(community=community, title="楼栋长", slots=5)
    people = {
        "complete": member(tree.branch, "甲全"),
        "no_post": member(tree.branch, "乙缺岗"),
        "pending": member(tree.branch, "丙待确认"),
        "retired": member(tree.branch, "丁退休", employment=EmploymentStatus.RETIRED),
        "left": member(tree.branch, "戊已转出", ended=True),
        "far": member(tree.other_branch, "己外区"),
    }
    report(people["complete"], community)
    claim(people["complete"], post)
    pledge(people["complete"], community)
    report(people["no_post"], community)
    claim(people["no_post"], post, status=ClaimStatus.PENDING)
    pledge(people["no_post"], community, year=YEAR - 1)
    report(people["pending"], community, status=ResidenceReportStatus.PENDING)
    report(people["retired"], community)
    return people


def figures(board):
    return {i.key: (i.total, i.missing) for i in board.indicators}


def test_city_wide_indicators(scene, tree, city_admin):
    board = coverage_board(user=city_admin, organization=tree.city, year=YEAR)
    assert figures(board) == {
        TEAMS_UNPAIRED: (2, 1),
        COMMUNITIES_UNPAIRED: (2, 1),
        MEMBERS_UNREPORTED: (4, 2),
        REPORTED_WITHOUT_POST: (2, 1),
        REPORTED_WITHOUT_PLEDGE: (2, 1),
    }
    teams = board.indicators[0]
    assert (teams.covered, teams.percent) == (1, 50.0)


def test_branch_subtree_and_last_years_pledges(scene, tree, branch_secretary):
    # The secretary is an in-service member of the branch too, and has not reported.
    board = coverage_board(user=branch_secretary, organization=tree.branch, year=YEAR)
    assert figures(board) == {
        TEAMS_UNPAIRED: (1, 0),
        COMMUNITIES_UNPAIRED: (1, 0),
        MEMBERS_UNREPORTED: (4, 2),
        REPORTED_WITHOUT_POST: (2, 1),
        REPORTED_WITHOUT_PLEDGE: (2, 1),
    }
    last_year = coverage_board(user=branch_secretary, organization=tree.branch, year=YEAR - 1)
    assert figures(last_year)[REPORTED_WITHOUT_PLEDGE] == (2, 1)


def test_empty_subtree_has_no_percentage(tree, city_admin):
    board = coverage_board(user=city_admin, organization=tree.sibling_branch, year=YEAR)
    assert all((i.total, i.missing, i.percent) == (0, 0, None) for i in board.indicators)


def test_drilldowns_name_the_gaps(scene, tree, city_admin, other_team, other_community):
    def rows(indicator):
        return list(
            coverage_drilldown(
                user=city_admin, organization=tree.city, indicator=indicator, year=YEAR
            )
        )

    assert [t.name for t in rows(TEAMS_UNPAIRED)] == [other_team.name]
    assert [c.name for c in rows(COMMUNITIES_UNPAIRED)] == [other_community.name]
    unreported = rows(MEMBERS_UNREPORTED)
    assert {(u.real_name, u.branch_name) for u in unreported} == {
        ("丙待确认", "桂园社区党支部"),
        ("己外区", "桃溪村党支部"),
    }
    assert [u.real_name for u in rows(REPORTED_WITHOUT_POST)] == ["乙缺岗"]
    assert [u.real_name for u in rows(REPORTED_WITHOUT_PLEDGE)] == ["乙缺岗"]


def test_team_drilldown_names_the_leader(tree, city_admin, team_leader, team):
    [row] = coverage_drilldown(
        user=city_admin, organization=tree.branch, indicator=TEAMS_UNPAIRED, year=YEAR
    )
    assert (row.name, row.organization.name, row.leader_name) == (
        team.name,
        "桂园社区党支部",
        "李明",
    )


def test_selectors_refuse_organisations_outside_the_scope(tree, other_branch_secretary):
    with pytest.raises(PermissionDenied):
        coverage_board(user=other_branch_secretary, organization=tree.branch, year=YEAR)
    with pytest.raises(PermissionDenied):
        coverage_drilldown(
            user=other_branch_secretary,
            organization=tree.branch,
            indicator=MEMBERS_UNREPORTED,
            year=YEAR,
        )


def test_default_organisation_is_the_outermost_reached(tree, city_admin, inspector, volunteer):
    assert coverage_default_organization(user=city_admin) == tree.city
    assert coverage_default_organization(user=inspector) == tree.district
    # A plain member sees their branch but reaches no coverage.
    assert coverage_default_organization(user=volunteer) is None


# Pages ---------------------------------------------------------------------------------------


def test_board_page_shows_cards_and_links(scene, client_as, tree, city_admin):
    response = client_as(city_admin).get("/dashboard/coverage/")
    assert response.status_code == 200
    assert response.context["organization"] == tree.city
    body = response.content.decode()
    assert f"/dashboard/coverage/{tree.city.pk}/{TEAMS_UNPAIRED}/?year={YEAR}" in body
    assert f"/dashboard/coverage/{tree.city.pk}/export/?year={YEAR}" in body
    assert "50.0%" in body
    picked = client_as(city_admin).get(
        "/dashboard/coverage/", {"organization": tree.branch.pk, "year": YEAR - 1}
    )
    assert picked.context["board"].organization == tree.branch
    assert picked.context["board"].year == YEAR - 1


def test_board_for_an_organisation_outside_the_subtree_is_404(
    client_as, tree, other_branch_secretary
):
    client = client_as(other_branch_secretary)
    assert client.get("/dashboard/coverage/", {"organization": tree.branch.pk}).status_code == 404
    assert client.get("/dashboard/coverage/", {"organization": "abc"}).status_code == 404
    own = client.get("/dashboard/coverage/", {"organization": tree.other_branch.pk})
    assert own.status_code == 200


def test_member_of_a_branch_cannot_read_its_coverage(client_as, tree, inspector):
    # The inspector reaches the district; a membership elsewhere does not open that coverage.
    MembershipFactory(user=inspector, organization=tree.other_branch)
    response = client_as(inspector).get(
        "/dashboard/coverage/", {"organization": tree.other_branch.pk}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("year", ["1800", "abc", "99999", str(YEAR + 2)])
@pytest.mark.parametrize("where", ["board", "drilldown", "export"])
def test_bad_year_is_a_400_with_a_message(client_as, tree, city_admin, year, where):
    url = {
        "board": "/dashboard/coverage/",
        "drilldown": f"/dashboard/coverage/{tree.city.pk}/{TEAMS_UNPAIRED}/",
        "export": f"/dashboard/coverage/{tree.city.pk}/export/",
    }[where]
    entries = AuditEntry.objects.count()
    with translation.override("en"):
        response = client_as(city_admin).get(url, {"year": year}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        errors = response.context["form"].errors["year"]
        expected = (
            "Enter a whole number."
            if year == "abc"
            else f"Choose a year between 2000 and {YEAR + 1}."
        )
        assert errors == [expected]
    assert response["Content-Type"].startswith("text/html")
    assert response.context["board"] is None
    assert AuditEntry.objects.count() == entries


def test_unknown_indicator_is_404(client_as, tree, city_admin):
    response = client_as(city_admin).get(f"/dashboard/coverage/{tree.city.pk}/no-such-thing/")
    assert response.status_code == 404


def test_drilldown_is_paginated(client_as, tree, city_admin):
    for index in range(55):
        member(tree.branch, f"成员{index:02d}")
    client = client_as(city_admin)
    url = f"/dashboard/coverage/{tree.branch.pk}/{MEMBERS_UNREPORTED}/"
    first = client.get(url)
    assert first.status_code == 200
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 55
    assert "成员00" in first.content.decode()
    second = client.get(url, {"page": 2})
    assert [u.real_name for u in second.context["page"]] == [f"成员{i:02d}" for i in range(50, 55)]
    assert client.get(url, {"page": "zzz"}).status_code == 200


def test_export_is_a_workbook_with_a_sheet_per_indicator(scene, client_as, tree, city_admin):
    with translation.override("en"):
        response = client_as(city_admin).get(
            f"/dashboard/coverage/{tree.city.pk}/export/", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert f"coverage-T-CITY-{YEAR}-{timezone.localdate():%Y%m%d}.xlsx" in disposition
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 1 + len(INDICATORS) + len(CARE_INDICATORS)
    summary = workbook.worksheets[0]
    assert summary.freeze_panes == "A2"
    rows = list(summary.iter_rows(values_only=True))
    assert rows[0] == ("Indicator", "Total", "Covered", "Missing", "Covered (%)")
    assert rows[1] == ("Teams paired with a community", 2, 1, 1, 50)
    assert summary.column_dimensions["A"].width == 44
    unreported = list(workbook.worksheets[3].iter_rows(values_only=True))
    assert unreported[0] == ("Name", "Mobile phone", "Party branch")
    assert {r[0] for r in unreported[1:]} == {"丙待确认", "己外区"}
    entry = AuditEntry.objects.get(action="coverage.export")
    assert (entry.actor, entry.details) == (city_admin, {"year": YEAR})


def test_export_headers_are_translatable(client_as, tree, city_admin):
    """Headers come from the catalogue: whatever the language, they are gettext's answer."""
    response = client_as(city_admin).get(f"/dashboard/coverage/{tree.city.pk}/export/")
    workbook = load_workbook(io.BytesIO(response.content))
    with translation.override("zh-hans"):
        expected = translation.gettext("Indicator")
    assert workbook.worksheets[0]["A1"].value == expected


# Query budgets -------------------------------------------------------------------------------


def _grow(tree, community, rows):
    """``rows`` teams, communities and in-service members, at every stage of coverage."""
    from apps.communities.models import Community

    for _ in range(rows):
        index = next(_numbers)
        branch_team = Team.objects.create(organization=tree.branch, name=f"队{index}")
        place = Community.objects.create(
            name=f"社区{index}", district="东湖区", street="东湖街道", organization=tree.branch
        )
        if index % 2:
            TeamPairing.objects.create(team=branch_team, community=place)
        person = member(tree.branch, f"党员{index}")
        if index % 3:
            report(person, community)
            pledge(person, community)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# Every signed-in request costs 7 queries before the page's own (see test_query_budgets).
REQUEST = 7


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        # default organisation, the picker, 3 aggregates (teams, communities, members), 4 care
        # aggregates (volunteers, pairings, households, requests)
        ("/dashboard/coverage/", REQUEST + 5 + 4),
        # organisation, count, one page of names
        (f"/dashboard/coverage/{{pk}}/{MEMBERS_UNREPORTED}/", REQUEST + 3),
        (f"/dashboard/coverage/{{pk}}/{TEAMS_UNPAIRED}/", REQUEST + 3),
        (f"/dashboard/coverage/{{pk}}/{COMMUNITIES_UNPAIRED}/", REQUEST + 3),
        # organisation, 3 + 4 aggregates, 5 + 4 lists, the audit entry (savepoint, insert,
        # release; the content type is cached after the first export)
        ("/dashboard/coverage/{pk}/export/", REQUEST + 1 + 3 + 4 + 5 + 4 + 3),
    ],
)
def test_coverage_queries_stay_constant(client_as, tree, community, city_admin, url, budget):
    client = client_as(city_admin)
    url = url.format(pk=tree.city.pk)
    _grow(tree, community, 10)
    small = _count(client, url)
    _grow(tree, community, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"
    assert large == budget, f"{url}: {large} queries, budget {budget}"


def test_export_never_writes_a_formula(scene, client_as, tree, city_admin):
    """A name typed as a formula is written as text (escaped), never run by a spreadsheet."""
    from apps.accounts.models import User

    User.objects.filter(pk=scene["pending"].pk).update(real_name='=HYPERLINK("http://x")')
    response = client_as(city_admin).get(f"/dashboard/coverage/{tree.city.pk}/export/")
    workbook = load_workbook(io.BytesIO(response.content))
    names = {
        row[0] for sheet in workbook.worksheets[1:] for row in sheet.iter_rows(values_only=True)
    }
    assert '\'=HYPERLINK("http://x")' in names
    assert not any(isinstance(n, str) and n.startswith("=") for n in names)
