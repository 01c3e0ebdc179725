"""The activities API at work: sign-up, QR check-in, bad input, plan against actual."""

import datetime

import pytest
from django.utils import timezone

from apps.activities import checkin
from apps.activities.models import Activity, ActivityStatus, Attendance, Signup, SignupStatus
from apps.activities.tests.fixtures import DAY, HOUR, MINUTE, make_activity, new_volunteer, sign_up
from apps.activities.tests.helpers import snapshot
from apps.service_records.models import ServiceRecord
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(aworld):
    return aworld


def test_activity_list_shows_places_left(w, api_as):
    sign_up(w.open_activity, new_volunteer(), status=SignupStatus.WAITLISTED)
    data = api_as(w.cast.outsider).get("/api/v1/activities/").json()
    rows = {row["id"]: row for row in data["results"]}
    assert w.draft.pk not in rows  # drafts are for their organisers
    assert rows[w.published.pk]["confirmed_count"] == 1
    assert rows[w.published.pk]["remaining_places"] == 4
    assert rows[w.open_activity.pk]["waitlisted_count"] == 1


def test_create_then_publish_then_sign_up(w, api_as):
    leader = api_as(w.cast.team_leader)
    starts_at = timezone.now() + 40 * DAY
    response = leader.post(
        "/api/v1/activities/",
        {
            "title": "义诊进社区",
            "category": w.category.pk,
            "team": w.team.pk,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + HOUR).isoformat(),
            "place": "桂园社区卫生站",
            "capacity": 1,
            "description": "测量血压",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["organization"] == w.tree.branch.pk
    assert leader.post(f"/api/v1/activities/{pk}/publish/").json()["status"] == "published"
    first = api_as(w.cast.volunteer).post(f"/api/v1/activities/{pk}/signup/")
    assert first.status_code == 201 and first.json()["status"] == "confirmed"
    second = api_as(new_volunteer()).post(f"/api/v1/activities/{pk}/signup/")
    assert second.json()["status"] == "waitlisted"
    cancelled = api_as(w.cast.volunteer).post(f"/api/v1/signups/{first.json()['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert (
        api_as(w.cast.team_leader).get(f"/api/v1/signups/{second.json()['id']}/").json()["status"]
        == "confirmed"
    )


def test_bad_activity_gets_400_with_the_message_and_nothing_saved(w, api_as):
    starts_at = timezone.now() + 40 * DAY
    before = snapshot()
    response = api_as(w.cast.team_leader).post(
        "/api/v1/activities/",
        {
            "title": "义诊进社区",
            "category": w.category.pk,
            "team": w.team.pk,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at - HOUR).isoformat(),
            "place": "桂园社区卫生站",
            "capacity": 5,
            "description": "测量血压",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["ends_at"] == [zh("The end must be after the start.")]
    assert snapshot() == before


def test_check_in_and_out_by_token(w, api_as):
    activity = make_activity(w.other_team, starts_at=timezone.now() - 90 * MINUTE)
    sign_up(activity, new_volunteer(username="walker"))
    client = api_as(activity.signups.get().volunteer)
    token = checkin.make_token(activity=activity, direction="in")
    response = client.post("/api/v1/signups/check-in/", {"token": token}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["attendance"] == Attendance.CHECKED_IN
    again = client.post("/api/v1/signups/check-in/", {"token": token}, format="json")
    assert again.status_code == 400
    assert again.json() == [zh("You have already checked in.")]
    # Checked in at the start (the record needs some time served before the check-out).
    Signup.objects.filter(activity=activity).update(checked_in_at=activity.starts_at)
    out = checkin.make_token(activity=activity, direction="out")
    response = client.post("/api/v1/signups/check-out/", {"token": out}, format="json")
    assert response.status_code == 200, response.json()
    assert ServiceRecord.objects.filter(signup_id=response.json()["id"]).exists()


def test_expired_and_foreign_codes_via_the_api(w, api_as):
    client = api_as(w.cast.volunteer)
    old = checkin.make_token(
        activity=w.live, direction="in", now=timezone.now() - datetime.timedelta(minutes=10)
    )
    before = snapshot()
    response = client.post("/api/v1/signups/check-in/", {"token": old}, format="json")
    assert response.status_code == 400
    assert response.json() == [
        zh("This QR code has expired: scan the code on the leader's screen again.")
    ]
    fresh = checkin.make_token(activity=w.live, direction="in")
    response = client.post(
        "/api/v1/signups/check-in/",
        {"token": fresh, "activity": w.published.pk},
        format="json",
    )
    assert response.json() == [zh("This QR code belongs to another activity.")]
    assert snapshot() == before


def test_cancel_needs_a_reason(w, api_as):
    before = snapshot()
    response = api_as(w.cast.team_leader).post(
        f"/api/v1/activities/{w.published.pk}/cancel/", {"reason": ""}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["reason"] == [zh("Give a reason for cancelling.")]
    assert snapshot() == before


def test_campaign_creates_activities_for_teams(w, api_as):
    response = api_as(w.cast.branch_secretary).post(
        f"/api/v1/campaigns/{w.campaign.pk}/create-activities/",
        {"teams": [w.team.pk]},
        format="json",
    )
    assert response.status_code == 201
    (row,) = response.json()
    assert row["team"] == w.team.pk and row["status"] == ActivityStatus.PUBLISHED
    before = snapshot()
    unseen = api_as(w.cast.branch_secretary).post(
        f"/api/v1/campaigns/{w.campaign.pk}/create-activities/",
        {"teams": [w.other_team.pk]},
        format="json",
    )
    assert unseen.status_code == 400
    assert snapshot() == before


def test_plan_items_and_plan_against_actual(w, api_as):
    client = api_as(w.cast.branch_secretary)
    bad = client.post(
        f"/api/v1/activity-plans/{w.plan.pk}/items/",
        {"project": "巡河", "month": 13, "responsible": "张三"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["month"] == [zh("The month must be between 1 and 12.")]
    Activity.objects.filter(pk=w.published.pk).update(plan_item=w.plan_item)
    data = client.get(f"/api/v1/activity-plans/{w.plan.pk}/plan-against-actual/").json()
    assert data["lines"][0]["planned"] == 2 and data["lines"][0]["actual"] == 1
    # Only activities of this year are "outside the plan".
    this_year = {
        a.pk
        for a in Activity.objects.filter(organization=w.tree.branch, plan_item=None).exclude(
            status=ActivityStatus.CANCELLED
        )
        if timezone.localtime(a.starts_at).year == w.plan.year
    }
    assert {row["id"] for row in data["unplanned"]} == this_year


def test_plan_twice_a_year_is_refused(w, api_as):
    before = snapshot()
    response = api_as(w.cast.branch_secretary).post(
        "/api/v1/activity-plans/",
        {"organization": w.tree.branch.pk, "year": w.plan.year},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["year"] == [zh("This organisation already has a plan for this year.")]
    assert snapshot() == before
