"""The coverage board's care section: each indicator on a small scene, drill-downs, export."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from apps.accounts.models import VolunteerProfile, VolunteerStatus
from apps.accounts.tests.factories import UserFactory
from apps.care.coverage import (
    FOUR_FACTS,
    HOUSEHOLDS_NOT_VISITED,
    INDICATORS,
    REQUESTS_OVERDUE,
    VOLUNTEERS_UNPAIRED,
    care_coverage,
    care_drilldown,
    masked_name,
)
from apps.care.models import (
    CareRecipient,
    RecipientPairing,
    RequestStatus,
    ServiceRequest,
    Visit,
)
from apps.communities.coverage import INDICATORS as COMMUNITY_INDICATORS
from apps.communities.models import Community
from apps.core.models import AuditEntry
from apps.organizations.tests.factories import MembershipFactory

TODAY = timezone.localdate()
YEAR = TODAY.year
DAY = datetime.timedelta(days=1)
_numbers = iter(range(1, 1_000_000))


def days_ago(n):
    return TODAY - n * DAY


def party_volunteer(organization, name, *, status=VolunteerStatus.ACTIVE, member=True):
    user = UserFactory(real_name=name)
    if member:
        MembershipFactory(user=user, organization=organization, started_on=days_ago(900))
    VolunteerProfile.objects.create(
        user=user,
        volunteer_number=f"VT{next(_numbers):06d}",
        status=status,
        birth_date=datetime.date(1980, 1, 1),
        residence_area="东湖区东湖街道",
        consent_at=timezone.now(),
    )
    return user


def household(community, name="测试老人乙", *, known=4, verified=TODAY, active=True):
    """A household with the first ``known`` facts present, all verified on ``verified``."""
    values = ["独居（虚构）", "（虚构）高血压", "虚构路1号", "1380000（虚构）"]
    fields = {}
    for index, (fact, verified_field) in enumerate(CareRecipient.FOUR_FACTS):
        fields[fact] = values[index] if index < known else ""
        fields[verified_field] = verified
    return CareRecipient.objects.create(name=name, community=community, is_active=active, **fields)


def pair(user, recipient, *, started=None, every=30, ended=False):
    return RecipientPairing.objects.create(
        volunteer=user,
        recipient=recipient,
        started_on=started or days_ago(100),
        ended_on=days_ago(1) if ended else None,
        visit_every_days=every,
    )


def visit(pairing, on):
    return Visit.objects.create(pairing=pairing, visited_on=on, duration_minutes=30)


def service_request(community, *, status=RequestStatus.SUBMITTED, deadline=None, stars=None):
    number = next(_numbers)
    return ServiceRequest.objects.create(
        tracking_number=f"XYT{number:08d}",
        rating_token=f"token-{number}",
        channel="web",
        community=community,
        title="帮忙买药（虚构）",
        requester_phone="13800000001（虚构）",
        status=status,
        deadline=deadline,
        rating_stars=stars,
    )


@pytest.fixture
def scene(tree, community, other_community):
    """Gaps on purpose, in the branch (桂园社区) and the other branch (桃溪村)."""
    people = {
        "paired_fresh": party_volunteer(tree.branch, "甲按时"),
        "paired_late": party_volunteer(tree.branch, "乙逾期"),
        "paired_never": party_volunteer(tree.branch, "丙未走访"),
        "unpaired": party_volunteer(tree.branch, "丁未结对"),
        "ended": party_volunteer(tree.branch, "戊已结束"),
        "pending": party_volunteer(tree.branch, "己待审", status=VolunteerStatus.PENDING),
        "citizen": party_volunteer(tree.branch, "庚群众", member=False),
        "far": party_volunteer(tree.other_branch, "辛外区"),
    }
    homes = {
        "complete": household(community, "张三丰"),
        "stale": household(community, "李四海", verified=days_ago(400)),
        "partial": household(community, "王五洲", known=3),
        "inactive": household(community, "赵六合", known=0, active=False),
        "far": household(other_community, "钱七星"),
    }
    fresh = pair(people["paired_fresh"], homes["complete"])
    visit(fresh, days_ago(40))
    visit(fresh, days_ago(10))
    late = pair(people["paired_late"], homes["stale"], every=7)
    visit(late, days_ago(8))
    pair(people["paired_never"], homes["complete"], started=days_ago(31))
    pair(people["ended"], homes["partial"], ended=True)
    # Exactly on the day is not late yet.
    pair(people["citizen"], homes["partial"], started=days_ago(30))
    pair(people["far"], homes["far"], started=days_ago(100))
    requests = {
        "late": service_request(community, deadline=days_ago(1)),
        "late_progress": service_request(
            community, status=RequestStatus.IN_PROGRESS, deadline=days_ago(3)
        ),
        "on_time": service_request(community, status=RequestStatus.DISPATCHED, deadline=TODAY),
        "no_deadline": service_request(community, status=RequestStatus.OPEN),
        "done_late": service_request(
            community, status=RequestStatus.DONE, deadline=days_ago(9), stars=4
        ),
        "closed": service_request(
            community, status=RequestStatus.CLOSED, deadline=days_ago(9), stars=5
        ),
        "far": service_request(other_community, deadline=days_ago(2), stars=1),
    }
    return people, homes, requests


def figures(care):
    return {i.key: (i.total, i.missing) for i in care.indicators}


def test_city_wide_care_indicators(scene, tree, city_admin):
    care = care_coverage(user=city_admin, organization=tree.city)
    assert figures(care) == {
        # 甲 乙 丙 丁 戊 辛 (己 is not active, 庚 no party member): 丁 and 戊 have no household
        VOLUNTEERS_UNPAIRED: (6, 2),
        # 乙 (every 7 days, visited 8 days ago) and 丙 (31 days, never) and 辛 (100 days)
        HOUSEHOLDS_NOT_VISITED: (5, 3),
        # 张三丰 and 钱七星 known; 李四海 stale, 王五洲 partial; 赵六合 inactive
        FOUR_FACTS: (4, 2),
        REQUESTS_OVERDUE: (5, 3),
    }
    assert (care.rating.count, care.rating.average) == (3, 3.33)
    four_facts = care.indicators[2]
    assert four_facts.percent == 50.0


def test_branch_subtree_leaves_the_other_branch_out(scene, tree, branch_secretary):
    care = care_coverage(user=branch_secretary, organization=tree.branch)
    assert figures(care) == {
        # the secretary is a party member but no registered volunteer
        VOLUNTEERS_UNPAIRED: (5, 2),
        HOUSEHOLDS_NOT_VISITED: (4, 2),
        FOUR_FACTS: (3, 2),
        REQUESTS_OVERDUE: (4, 2),
    }
    assert (care.rating.count, care.rating.average) == (2, 4.5)


def test_empty_subtree(tree, city_admin):
    care = care_coverage(user=city_admin, organization=tree.sibling_branch)
    assert all((i.total, i.missing, i.percent) == (0, 0, None) for i in care.indicators)
    assert (care.rating.count, care.rating.average) == (0, None)


def test_a_new_visit_clears_the_overdue_pairing(scene, tree, city_admin):
    people, _homes, _requests = scene
    late = RecipientPairing.objects.get(volunteer=people["paired_late"])
    visit(late, TODAY)
    care = care_coverage(user=city_admin, organization=tree.branch)
    assert figures(care)[HOUSEHOLDS_NOT_VISITED] == (4, 1)


def test_a_fact_emptied_counts_as_unknown(scene, tree, city_admin):
    _people, homes, _requests = scene
    homes["complete"].contact = ""
    homes["complete"].save()
    care = care_coverage(user=city_admin, organization=tree.branch)
    assert figures(care)[FOUR_FACTS] == (3, 3)


def rows(user, organization, indicator):
    return list(care_drilldown(user=user, organization=organization, indicator=indicator))


def test_drilldowns_name_the_gaps(scene, tree, city_admin, community):
    people, homes, requests = scene
    unpaired = rows(city_admin, tree.city, VOLUNTEERS_UNPAIRED)
    assert {(u.real_name, u.branch_name) for u in unpaired} == {
        ("丁未结对", "桂园社区党支部"),
        ("戊已结束", "桂园社区党支部"),
    }
    late = rows(city_admin, tree.city, HOUSEHOLDS_NOT_VISITED)
    # oldest contact first
    assert [p.volunteer.real_name for p in late] == ["辛外区", "丙未走访", "乙逾期"]
    assert [p.last_contact for p in late] == [days_ago(100), days_ago(31), days_ago(8)]
    [place] = rows(city_admin, tree.city, FOUR_FACTS)
    assert (place, place.households, place.known) == (community, 3, 1)
    overdue = rows(city_admin, tree.city, REQUESTS_OVERDUE)
    assert [r.pk for r in overdue] == [
        requests["late_progress"].pk,
        requests["far"].pk,
        requests["late"].pk,
    ]


def test_drilldowns_refuse_organisations_outside_the_scope(scene, tree, other_branch_secretary):
    with pytest.raises(PermissionDenied):
        care_coverage(user=other_branch_secretary, organization=tree.branch)
    for indicator in INDICATORS:
        with pytest.raises(PermissionDenied):
            care_drilldown(
                user=other_branch_secretary, organization=tree.branch, indicator=indicator
            )


# Pages ---------------------------------------------------------------------------------------

WHOLE_NAMES = ("张三丰", "李四海", "王五洲", "赵六合", "钱七星")


def test_board_shows_the_people_served(scene, client_as, tree, city_admin):
    with translation.override("en"):
        response = client_as(city_admin).get("/dashboard/coverage/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    care = response.context["care"]
    assert figures(care)[FOUR_FACTS] == (4, 2)
    body = response.content.decode()
    assert "People served" in body
    for key in INDICATORS:
        assert f"/dashboard/coverage/{tree.city.pk}/{key}/?year={YEAR}" in body
    assert "3.3 / 5" in body
    assert "from 3 rated requests" in body
    assert "2 not fully known: see by community" in body


def test_board_without_ratings_says_so(client_as, tree, city_admin):
    with translation.override("en"):
        response = client_as(city_admin).get("/dashboard/coverage/", HTTP_ACCEPT_LANGUAGE="en")
    assert "No rated requests yet." in response.content.decode()


@pytest.mark.parametrize("indicator", list(INDICATORS))
def test_care_drilldown_pages_mask_households(scene, client_as, tree, city_admin, indicator):
    response = client_as(city_admin).get(f"/dashboard/coverage/{tree.city.pk}/{indicator}/")
    assert response.status_code == 200
    assert response.context["spec"] == INDICATORS[indicator]
    body = response.content.decode()
    for name in WHOLE_NAMES:
        assert name not in body
    assert not AuditEntry.objects.filter(action="care.sensitive_view").exists()


def test_pairing_drilldown_lists_masked_households_and_volunteers(
    scene, client_as, tree, city_admin
):
    response = client_as(city_admin).get(
        f"/dashboard/coverage/{tree.city.pk}/{HOUSEHOLDS_NOT_VISITED}/"
    )
    body = response.content.decode()
    assert response.context["page"].paginator.count == 3
    for volunteer in ("辛外区", "丙未走访", "乙逾期"):
        assert volunteer in body
    assert "钱**" in body and "张**" in body and "李**" in body
    assert days_ago(31).isoformat() in body


def test_other_drilldowns_name_their_rows(scene, client_as, tree, city_admin):
    _people, _homes, requests = scene
    client = client_as(city_admin)
    unpaired = client.get(f"/dashboard/coverage/{tree.city.pk}/{VOLUNTEERS_UNPAIRED}/")
    assert "丁未结对" in unpaired.content.decode()
    by_community = client.get(f"/dashboard/coverage/{tree.city.pk}/{FOUR_FACTS}/")
    assert "桂园社区" in by_community.content.decode()
    assert "33%" in by_community.content.decode()
    overdue = client.get(f"/dashboard/coverage/{tree.city.pk}/{REQUESTS_OVERDUE}/")
    assert requests["late"].tracking_number in overdue.content.decode()
    assert requests["on_time"].tracking_number not in overdue.content.decode()


def test_care_drilldown_outside_the_subtree_is_404(scene, client_as, tree, other_branch_secretary):
    client = client_as(other_branch_secretary)
    for indicator in INDICATORS:
        url = f"/dashboard/coverage/{tree.branch.pk}/{indicator}/"
        assert client.get(url).status_code == 404
        own = client.get(f"/dashboard/coverage/{tree.other_branch.pk}/{indicator}/")
        assert own.status_code == 200


def test_export_has_care_sheets_with_masked_households(scene, client_as, tree, city_admin):
    _people, _homes, requests = scene
    with translation.override("en"):
        response = client_as(city_admin).get(
            f"/dashboard/coverage/{tree.city.pk}/export/", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[-4:] == [
        "No household",
        "Visits overdue",
        "Four counts by community",
        "Requests overdue",
    ]
    summary = list(workbook.worksheets[0].iter_rows(values_only=True))
    first = len(COMMUNITY_INDICATORS) + 1
    assert summary[first : first + 4] == [
        ("Party-member volunteers paired with a household", 6, 4, 2, 66.7),
        ("Pairings visited within their frequency", 5, 2, 3, 40),
        ("Households known on all four counts (四清率)", 4, 2, 2, 50),
        ("Open requests within their deadline", 5, 2, 3, 40),
    ]
    labels = {row[0]: row[1] for row in summary if row}
    assert labels["Average rating (1–5)"] == 3.33
    assert labels["Rated requests"] == 3

    def sheet(title):
        return list(workbook[title].iter_rows(values_only=True))

    assert {row[0] for row in sheet("No household")[1:]} == {"丁未结对", "戊已结束"}
    visits = sheet("Visits overdue")
    assert visits[0][:3] == ("Household", "Community", "Volunteer")
    assert [row[0] for row in visits[1:]] == ["钱**", "张**", "李**"]
    assert [row[2] for row in visits[1:]] == ["辛外区", "丙未走访", "乙逾期"]
    assert sheet("Four counts by community")[1][:6] == (
        "桂园社区",
        "东湖区",
        "东湖街道",
        3,
        1,
        33.3,
    )
    overdue = sheet("Requests overdue")
    assert [row[0] for row in overdue[1:]] == [
        requests["late_progress"].tracking_number,
        requests["far"].tracking_number,
        requests["late"].tracking_number,
    ]
    cells = [
        str(value)
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    for name in WHOLE_NAMES:
        assert not any(name in value for value in cells)
    entry = AuditEntry.objects.get(action="coverage.export")
    assert entry.actor == city_admin


# Query budgets -------------------------------------------------------------------------------


def _grow(tree, community, rows):
    """``rows`` volunteers, households, pairings, visits and requests, with every kind of gap."""
    place = Community.objects.create(
        name=f"社区{next(_numbers)}", district="东湖区", street="东湖街道", organization=tree.branch
    )
    for index in range(rows):
        person = party_volunteer(tree.branch, f"志愿者{index}")
        home = household(community if index % 2 else place, f"测试老人{index}", known=index % 5)
        if index % 3:
            pairing = pair(person, home, every=7 if index % 4 else 30)
            if index % 5:
                visit(pairing, days_ago(index % 20))
        service_request(
            community,
            status=RequestStatus.IN_PROGRESS if index % 2 else RequestStatus.DONE,
            deadline=days_ago(index % 3 - 1),
            stars=index % 5 + 1 if index % 2 == 0 else None,
        )


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
        # default organisation, the picker, 3 + 4 aggregates
        ("/dashboard/coverage/", REQUEST + 5 + 4),
        # organisation, count, one page of rows (related rows joined)
        *[(f"/dashboard/coverage/{{pk}}/{key}/", REQUEST + 3) for key in INDICATORS],
        # organisation, 3 + 4 aggregates, 5 + 4 lists, the audit entry
        ("/dashboard/coverage/{pk}/export/", REQUEST + 1 + 3 + 4 + 5 + 4 + 3),
    ],
)
def test_care_coverage_queries_stay_constant(client_as, tree, community, city_admin, url, budget):
    client = client_as(city_admin)
    url = url.format(pk=tree.city.pk)
    _grow(tree, community, 10)
    small = _count(client, url)
    _grow(tree, community, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"
    assert large == budget, f"{url}: {large} queries, budget {budget}"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张**"), ("欧阳", "欧*"), ("李", "李"), ("", ""), ("测试老人四十五", "测******")],
)
def test_masked_name_never_shows_more_than_the_first_character(name, masked):
    assert masked_name(name) == masked
