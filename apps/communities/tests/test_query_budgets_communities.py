"""API lists and portal pages of the communities app: queries do not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.communities.models import (
    Pledge,
    PledgeStatus,
    Post,
    PostClaim,
    ResidenceReportStatus,
    ServicePoint,
    TeamPairing,
)
from apps.communities.tests.fixtures import make_member, make_report
from apps.teams.models import Team


def _grow(w, rows):
    """``rows`` members at 桂园社区, each with a report, post, claim, pledge, point and team."""
    start = Post.objects.count()
    for i in range(start, start + rows):
        member = make_member(w.tree.branch)
        status = ResidenceReportStatus.PENDING if i % 2 else ResidenceReportStatus.CONFIRMED
        make_report(member, w.community, status)
        post = Post.objects.create(community=w.community, title=f"岗位{i}", slots=3)
        PostClaim.objects.create(post=post, user=member)
        Pledge.objects.create(
            user=member,
            community=w.community,
            year=timezone.localdate().year,
            content="c",
            target="t",
            status=PledgeStatus.KEPT_REPORTED,
        )
        ServicePoint.objects.create(community=w.community, name=f"点{i}", kind="point", address="a")
        team = Team.objects.create(organization=w.tree.branch, name=f"队{i}")
        TeamPairing.objects.create(team=team, community=w.community)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("city_admin", "/api/v1/communities/"),
        ("volunteer", "/api/v1/communities/directory/"),
        ("city_admin", "/api/v1/service-points/"),
        ("city_admin", "/api/v1/team-pairings/"),
        ("city_admin", "/api/v1/residence-reports/"),
        ("community_staff", "/api/v1/residence-reports/"),
        ("city_admin", "/api/v1/posts/"),
        ("volunteer", "/api/v1/posts/"),
        ("city_admin", "/api/v1/post-claims/"),
        ("city_admin", "/api/v1/pledges/"),
        ("branch_secretary", "/api/v1/pledges/"),
        ("volunteer", "/communities/mine/"),
        ("community_staff", "/communities/manage/"),
        ("community_staff", "community-manage"),
        ("city_admin", "/admin/communities/residencereport/"),
        ("city_admin", "/admin/communities/post/"),
        ("city_admin", "/admin/communities/teampairing/"),
    ],
)
def test_list_queries_stay_constant(cworld, client_as, role, url):
    if url == "community-manage":
        url = f"/communities/{cworld.community.pk}/manage/"
    client = client_as(getattr(cworld.cast, role))
    _grow(cworld, 10)
    small = _count(client, url)
    _grow(cworld, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"


def test_my_community_lists_every_post_of_the_community(cworld, client_as):
    _grow(cworld, 10)
    response = client_as(cworld.cast.volunteer).get("/communities/mine/")
    assert len(response.context["posts"]) == 11
