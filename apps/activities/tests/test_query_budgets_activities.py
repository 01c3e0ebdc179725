"""API lists and admin change lists of the activities app: queries do not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.activities.models import ActivityPlan, ActivityPlanItem, Campaign, CampaignKind
from apps.activities.tests.fixtures import category, make_activity, new_volunteer, sign_up

pytestmark = pytest.mark.django_db


def _grow(w, rows):
    """``rows`` published activities of the team, each with a volunteer's sign-up, a
    campaign day and a plan (with an item) of the branch."""
    start = Campaign.objects.count()
    for i in range(start, start + rows):
        activity = make_activity(w.team, community=w.community, title=f"活动{i}")
        sign_up(activity, new_volunteer() if i % 10 else w.cast.volunteer)
        Campaign.objects.create(
            kind=CampaignKind.OTHER,
            name=f"主题日{i}",
            date=activity.starts_at.date(),
            organization=w.tree.branch,
            title="t",
            category=category(),
            start_time="09:00",
            end_time="10:00",
        )
        plan = ActivityPlan.objects.create(organization=w.tree.branch, year=3000 + i)
        ActivityPlanItem.objects.create(plan=plan, project="p", month=1, responsible="r")


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("volunteer", "/api/v1/activities/"),
        ("city_admin", "/api/v1/activities/"),
        ("team_leader", "/api/v1/signups/"),
        ("volunteer", "/api/v1/signups/"),
        ("branch_secretary", "/api/v1/campaigns/"),
        ("branch_secretary", "/api/v1/activity-plans/"),
        ("city_admin", "/admin/activities/activity/"),
        ("branch_secretary", "/admin/activities/signup/"),
        ("branch_secretary", "/admin/activities/campaign/"),
        ("branch_secretary", "/admin/activities/activityplan/"),
    ],
)
def test_list_queries_stay_constant(aworld, client_as, api_as, role, url):
    user = getattr(aworld.cast, role)
    client = api_as(user) if url.startswith("/api/") else client_as(user)
    _grow(aworld, 10)
    small = _count(client, url)
    _grow(aworld, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"


def test_activity_change_page_with_many_signups(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    url = f"/admin/activities/activity/{aworld.open_activity.pk}/change/"
    for _ in range(3):
        sign_up(aworld.open_activity, new_volunteer())
    small = _count(client, url)
    aworld.open_activity.capacity = 50
    aworld.open_activity.save()
    for _ in range(20):
        sign_up(aworld.open_activity, new_volunteer())
    assert _count(client, url) == small
