"""The activities admin saves through the services and shows their refusals as form errors."""

import pytest
from django.utils import timezone

from apps.activities.models import Activity, ActivityPlanItem, ActivityStatus
from apps.activities.tests.fixtures import DAY, HOUR
from apps.activities.tests.helpers import snapshot
from apps.core.models import AuditEntry
from conftest import zh

pytestmark = pytest.mark.django_db

SIGNUPS_INLINE = {
    "signups-TOTAL_FORMS": "0",
    "signups-INITIAL_FORMS": "0",
    "signups-MIN_NUM_FORMS": "0",
    "signups-MAX_NUM_FORMS": "1000",
}


def _local(value):
    local = timezone.localtime(value)
    return {"0": local.date().isoformat(), "1": local.strftime("%H:%M:%S")}


def activity_form(w, **overrides):
    starts_at = timezone.now() + 20 * DAY
    data = {
        "title": "楼道清洁",
        "category": w.category.pk,
        "organization": "",
        "team": w.team.pk,
        "community": w.community.pk,
        "service_point": "",
        "place": "桂园社区3栋",
        "capacity": "6",
        "description": "清理楼道",
        "risks": "",
        "responsible": "",
        "plan_item": "",
        **SIGNUPS_INLINE,
    }
    for name, value in (("starts_at", starts_at), ("ends_at", starts_at + 2 * HOUR)):
        for index, part in _local(value).items():
            data[f"{name}_{index}"] = part
    data.update(overrides)
    return data


def test_secretary_adds_an_activity_through_the_service(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    response = client.post("/admin/activities/activity/add/", activity_form(aworld))
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity = Activity.objects.get(title="楼道清洁")
    assert activity.status == ActivityStatus.DRAFT
    assert activity.organization == aworld.tree.branch
    assert AuditEntry.objects.filter(action="activity.create", target_id=str(activity.pk)).exists()


def test_bad_activity_in_the_admin_is_a_form_error(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    before = snapshot()
    response = client.post(
        "/admin/activities/activity/add/",
        activity_form(aworld, service_point=aworld.service_point.pk, community=""),
    )
    assert response.status_code == 302  # the point's community is filled in
    before = snapshot()
    other_point = aworld.service_point.__class__.objects.create(
        community=aworld.other_community, name="桃溪站", kind="station", address="桃溪"
    )
    response = client.post(
        "/admin/activities/activity/add/",
        activity_form(aworld, title="第二个", service_point=other_point.pk),
    )
    # Out of the secretary's reach: the choice itself is refused.
    assert response.status_code == 200
    assert "service_point" in response.context["adminform"].form.errors
    assert not Activity.objects.filter(title="第二个").exists()
    response = client.post(
        "/admin/activities/activity/add/", activity_form(aworld, title="第三个", capacity="0")
    )
    assert response.status_code == 200
    assert not Activity.objects.filter(title="第三个").exists()
    before = snapshot()
    response = client.post(
        "/admin/activities/activity/add/", activity_form(aworld, team=aworld.other_team.pk)
    )
    assert response.status_code == 200
    assert snapshot() == before


def test_change_with_the_end_before_the_start_is_refused(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    data = activity_form(aworld, title=aworld.draft.title)
    data.update({f"ends_at_{k}": v for k, v in _local(timezone.now() + 19 * DAY).items()})
    before = snapshot()
    response = client.post(f"/admin/activities/activity/{aworld.draft.pk}/change/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert zh("The end must be after the start.") in str(errors)
    assert snapshot() == before


def test_publish_action(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    response = client.post(
        "/admin/activities/activity/",
        {"action": "publish", "_selected_action": [aworld.draft.pk, aworld.published.pk]},
        follow=True,
    )
    assert response.status_code == 200
    aworld.draft.refresh_from_db()
    assert aworld.draft.status == ActivityStatus.PUBLISHED
    shown = [str(m) for m in response.context["messages"]]
    assert any(zh("Only drafts can be published.") in m for m in shown)


def test_change_page_lists_signups_read_only(aworld, client_as):
    response = client_as(aworld.cast.inspector).get(
        f"/admin/activities/activity/{aworld.published.pk}/change/"
    )
    assert response.status_code == 200
    assert aworld.cast.volunteer.real_name in response.content.decode()


def test_campaign_creates_activities_for_chosen_teams(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    url = f"/admin/activities/campaign/{aworld.campaign.pk}/create-activities/"
    before = snapshot()
    response = client.post(url, {})
    assert response.status_code == 200
    assert zh("Choose at least one team.") in response.content.decode()
    assert snapshot() == before
    response = client.post(url, {"teams": [aworld.team.pk]})
    assert response.status_code == 302
    assert aworld.campaign.activities.get().team == aworld.team
    before = snapshot()
    response = client.post(url, {"teams": [aworld.team.pk]})
    assert response.status_code == 200
    assert (
        zh("These teams already have an activity on this campaign day: %(names)s.")
        % {"names": aworld.team.name}
        in response.content.decode()
    )
    assert snapshot() == before


def test_plan_page_shows_plan_against_actual(aworld, client_as):
    Activity.objects.filter(pk=aworld.published.pk).update(plan_item=aworld.plan_item)
    response = client_as(aworld.cast.branch_secretary).get(
        f"/admin/activities/activityplan/{aworld.plan.pk}/change/"
    )
    body = response.content.decode()
    assert "<td>敬老助老</td><td>2</td><td>1</td>" in body


def test_plan_item_month_13_is_a_form_error(aworld, client_as):
    client = client_as(aworld.cast.branch_secretary)
    response = client.post(
        f"/admin/activities/activityplan/{aworld.plan.pk}/change/",
        {
            "note": "",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
            "items-0-month": "13",
            "items-0-project": "巡河",
            "items-0-place": "",
            "items-0-responsible": "张三",
            "items-0-category": "",
            "items-0-planned_count": "1",
        },
    )
    assert response.status_code == 200
    assert not ActivityPlanItem.objects.filter(project="巡河").exists()
