"""Activities, sign-ups, campaign days and plans: every rule, and bad input leaves no trace."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import VolunteerProfile
from apps.activities import services
from apps.activities.models import (
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
)
from apps.activities.tests.fixtures import (
    DAY,
    HOUR,
    make_activity,
    make_trained,
    new_volunteer,
    sign_up,
)
from apps.activities.tests.helpers import forbidden, refused, snapshot
from apps.communities.models import ServicePoint
from apps.core.models import AuditEntry
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(aworld):
    return aworld


def fields(w, **overrides):
    starts_at = timezone.now() + 3 * DAY
    data = {
        "title": "周末环境整治",
        "category": w.category,
        "team": w.team,
        "community": w.community,
        "starts_at": starts_at,
        "ends_at": starts_at + 2 * HOUR,
        "place": "桂园社区广场",
        "capacity": 10,
        "description": "清理楼道杂物",
    }
    data.update(overrides)
    return data


# Creating ------------------------------------------------------------------------------------


def test_team_leader_creates_a_draft_for_their_team(w):
    activity = services.activity_create(actor=w.cast.team_leader, **fields(w))
    assert activity.status == ActivityStatus.DRAFT
    assert activity.organization == w.tree.branch  # the team's organisation organises
    assert activity.created_by == w.cast.team_leader
    assert AuditEntry.objects.filter(action="activity.create", target_id=str(activity.pk)).exists()


def test_secretary_creates_for_their_organisation_without_a_team(w):
    activity = services.activity_create(
        actor=w.cast.branch_secretary, **fields(w, team=None, organization=w.tree.branch)
    )
    assert activity.organization == w.tree.branch and activity.team is None


def test_service_point_fills_in_its_community(w):
    activity = services.activity_create(
        actor=w.cast.team_leader, **fields(w, community=None, service_point=w.service_point)
    )
    assert activity.community == w.community


BAD_CREATES = [
    ("team_leader", {"team": "other_team"}, "team", None),
    ("branch_secretary", {"team": None, "organization": "other_branch"}, "organization", None),
    ("team_leader", {"team": None, "organization": None}, "organization", None),
    ("team_leader", {"ends_at": "before"}, "ends_at", "The end must be after the start."),
    ("team_leader", {"capacity": 0}, "capacity", "There must be at least one place."),
    ("team_leader", {"title": "  "}, "title", "Give the activity a title."),
    ("team_leader", {"place": ""}, "place", "Give the place."),
    ("team_leader", {"description": ""}, "description", "Describe what volunteers will do."),
    ("team_leader", {"starts_at": "past"}, "ends_at", None),
    ("team_leader", {"starts_at": "naive"}, "starts_at", "Times must carry a time zone."),
    (
        "team_leader",
        {"community": "other_community", "service_point": "point"},
        "service_point",
        "This service point belongs to another community.",
    ),
    ("volunteer", {}, "team", None),
    ("inspector", {"team": None, "organization": "branch"}, "organization", None),
]


@pytest.mark.parametrize(("role", "overrides", "field", "message"), BAD_CREATES)
def test_bad_activity_is_refused_and_nothing_saved(w, role, overrides, field, message):
    data = fields(w)
    for key, value in overrides.items():
        if value == "other_team":
            value = w.other_team
        elif value in ("other_branch", "branch"):
            value = getattr(w.tree, value)
        elif value == "other_community":
            value = w.other_community
        elif value == "point":
            value = w.service_point
        elif value == "before":
            value = data["starts_at"] - HOUR
        elif value == "past" and key == "starts_at":
            value = timezone.now() - 5 * HOUR
            data["ends_at"] = value + HOUR
        elif value == "naive":
            value = timezone.make_naive(data["starts_at"])
        data[key] = value
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.activity_create(actor=getattr(w.cast, role), **data)
    assert field in info.value.message_dict
    if message:
        assert zh(message) in info.value.message_dict[field]
    assert snapshot() == before


def test_unknown_field_is_a_programming_error(w):
    with pytest.raises(TypeError):
        services.activity_create(actor=w.cast.team_leader, **fields(w, colour="red"))


# Updating, publishing, cancelling ------------------------------------------------------------


def test_publish_only_drafts(w):
    services.activity_publish(actor=w.cast.team_leader, activity=w.draft)
    w.draft.refresh_from_db()
    assert w.draft.status == ActivityStatus.PUBLISHED
    before = snapshot()
    assert refused(services.activity_publish, actor=w.cast.team_leader, activity=w.draft) == [
        zh("Only drafts can be published.")
    ]
    assert snapshot() == before


def test_read_only_roles_may_not_publish(w):
    forbidden(services.activity_publish, actor=w.cast.inspector, activity=w.draft)
    forbidden(services.activity_publish, actor=w.cast.other_branch_secretary, activity=w.draft)
    w.draft.refresh_from_db()
    assert w.draft.status == ActivityStatus.DRAFT


def test_cancel_needs_a_reason_and_cancels_the_signups(w):
    before = snapshot()
    assert refused(
        services.activity_cancel, actor=w.cast.team_leader, activity=w.published, reason=" "
    ) == [zh("Give a reason for cancelling.")]
    assert snapshot() == before
    services.activity_cancel(actor=w.cast.team_leader, activity=w.published, reason="暴雨预警")
    w.published.refresh_from_db()
    w.signup.refresh_from_db()
    assert w.published.status == ActivityStatus.CANCELLED
    assert w.published.cancel_reason == "暴雨预警"
    assert w.signup.status == SignupStatus.CANCELLED and w.signup.cancelled_at
    assert refused(
        services.activity_cancel, actor=w.cast.team_leader, activity=w.published, reason="再次"
    ) == [zh("This activity is already cancelled.")]


def test_capacity_cannot_drop_below_the_confirmed(w):
    sign_up(w.published, new_volunteer())
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.activity_update(actor=w.cast.team_leader, activity=w.published, capacity=1)
    assert (
        zh("%(count)d volunteers are already confirmed: there cannot be fewer places.")
        % {"count": 2}
        in info.value.message_dict["capacity"]
    )
    assert snapshot() == before


def test_more_places_promote_the_waiting_list(w):
    activity = make_activity(w.team, capacity=1)
    sign_up(activity, w.cast.team_leader)
    waiting = sign_up(activity, new_volunteer(), status=SignupStatus.WAITLISTED)
    services.activity_update(actor=w.cast.branch_secretary, activity=activity, capacity=2)
    waiting.refresh_from_db()
    assert waiting.status == SignupStatus.CONFIRMED


def test_update_refuses_bad_times(w):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.activity_update(
            actor=w.cast.team_leader, activity=w.published, ends_at=w.published.starts_at
        )
    assert zh("The end must be after the start.") in info.value.message_dict["ends_at"]
    assert snapshot() == before


# Weekly repeat -------------------------------------------------------------------------------


def test_weekly_repeat_makes_copies_up_to_until(w):
    first_day = timezone.localtime(w.published.starts_at).date()
    copies = services.activity_repeat_weekly(
        actor=w.cast.team_leader, activity=w.published, until=first_day + datetime.timedelta(21)
    )
    assert len(copies) == 3
    assert all(copy.series_id == w.published.pk for copy in copies)
    local = [timezone.localtime(c.starts_at) for c in copies]
    assert [d.date() for d in local] == [first_day + datetime.timedelta(7 * n) for n in (1, 2, 3)]
    assert {d.time() for d in local} == {timezone.localtime(w.published.starts_at).time()}
    # Again: the dates already made are not made twice.
    assert (
        services.activity_repeat_weekly(
            actor=w.cast.team_leader,
            activity=w.published,
            until=first_day + datetime.timedelta(28),
        )[0].starts_at
        == copies[-1].starts_at + 7 * DAY
    )
    assert Activity.objects.filter(series=w.published).count() == 4


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (3, "The repeat must end at least one week after the activity."),
        (7 * 53, None),
    ],
)
def test_weekly_repeat_bounds(w, days, message):
    first_day = timezone.localtime(w.published.starts_at).date()
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.activity_repeat_weekly(
            actor=w.cast.team_leader,
            activity=w.published,
            until=first_day + datetime.timedelta(days),
        )
    expected = (
        zh(message)
        if message
        else (zh("At most %(count)d weekly repeats can be made at once.") % {"count": 52})
    )
    assert info.value.message_dict["until"] == [expected]
    assert snapshot() == before


def test_fifty_two_repeats_are_allowed(w):
    first_day = timezone.localtime(w.published.starts_at).date()
    copies = services.activity_repeat_weekly(
        actor=w.cast.team_leader, activity=w.published, until=first_day + datetime.timedelta(364)
    )
    assert len(copies) == 52


# Sign-up -------------------------------------------------------------------------------------


def test_signup_confirms_then_waitlists_when_full(w):
    activity = make_activity(w.team, capacity=1)
    first = services.signup_create(volunteer=w.cast.volunteer, activity=activity)
    second = services.signup_create(volunteer=new_volunteer(), activity=activity)
    assert first.status == SignupStatus.CONFIRMED
    assert second.status == SignupStatus.WAITLISTED


def test_cancel_promotes_the_first_waitlisted(w):
    activity = make_activity(w.team, capacity=1)
    first = services.signup_create(volunteer=w.cast.volunteer, activity=activity)
    second = services.signup_create(volunteer=new_volunteer(), activity=activity)
    third = services.signup_create(volunteer=new_volunteer(), activity=activity)
    services.signup_cancel(actor=w.cast.volunteer, signup=first)
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == SignupStatus.CONFIRMED
    assert third.status == SignupStatus.WAITLISTED


def test_an_organiser_may_cancel_someone_elses_signup_a_stranger_may_not(w):
    forbidden(services.signup_cancel, actor=w.cast.outsider, signup=w.signup)
    forbidden(services.signup_cancel, actor=w.cast.inspector, signup=w.signup)
    services.signup_cancel(actor=w.cast.team_leader, signup=w.signup)
    w.signup.refresh_from_db()
    assert w.signup.status == SignupStatus.CANCELLED
    assert refused(services.signup_cancel, actor=w.cast.volunteer, signup=w.signup) == [
        zh("This sign-up is already cancelled.")
    ]


def test_a_checked_in_signup_cannot_be_cancelled(w):
    before = snapshot()
    assert refused(services.signup_cancel, actor=w.cast.volunteer, signup=w.ended_signup) == [
        zh("Attendance has been recorded for this sign-up: it can no longer be cancelled.")
    ]
    assert snapshot() == before


def _bad_signup_cases():
    return [
        "draft",
        "ended",
        "twice",
        "no_profile",
        "pending",
        "training",
        "overlap",
    ]


@pytest.mark.parametrize("problem", _bad_signup_cases())
def test_bad_signup_is_refused(w, problem):
    volunteer = w.cast.volunteer
    activity = make_activity(w.team, starts_at=timezone.now() + 10 * DAY)
    message = None
    if problem == "draft":
        activity = w.draft
        message = zh("This activity is not open for sign-up.")
    elif problem == "ended":
        activity = w.ended
        message = zh("This activity has ended.")
    elif problem == "twice":
        activity = w.published
        message = zh("You have already signed up for this activity.")
    elif problem == "no_profile":
        volunteer = w.cast.outsider
        message = zh("Register as a volunteer first: only registered volunteers can sign up.")
    elif problem == "pending":
        VolunteerProfile.objects.filter(user=volunteer).update(status="pending")
        message = zh(
            "Your volunteer registration is not active (%(status)s): only active volunteers "
            "can sign up."
        ) % {"status": zh("Awaiting review")}
    elif problem == "training":
        activity.training_required = True
        activity.save()
        message = zh("This activity needs training first, and you have no training record yet.")
    elif problem == "overlap":
        activity = make_activity(w.other_team, starts_at=w.published.starts_at + HOUR)
        start = timezone.localtime(w.published.starts_at).strftime("%Y-%m-%d %H:%M")
        end = timezone.localtime(w.published.ends_at).strftime("%Y-%m-%d %H:%M")
        message = zh(
            "This overlaps your sign-up for “%(title)s” (%(start)s to %(end)s): one person "
            "cannot be booked into two overlapping shifts."
        ) % {"title": w.published.title, "start": start, "end": end}
    before = snapshot()
    assert refused(services.signup_create, volunteer=volunteer, activity=activity) == [message]
    assert snapshot() == before


def test_training_record_lets_the_volunteer_sign_up(w):
    activity = make_activity(w.team, starts_at=timezone.now() + 10 * DAY, training_required=True)
    make_trained(w.cast.volunteer)
    assert services.signup_create(volunteer=w.cast.volunteer, activity=activity).pk


def test_back_to_back_shifts_do_not_overlap(w):
    activity = make_activity(w.other_team, starts_at=w.published.ends_at)
    assert services.signup_create(volunteer=w.cast.volunteer, activity=activity).pk


def test_a_cancelled_signup_does_not_block_signing_up_again(w):
    services.signup_cancel(actor=w.cast.volunteer, signup=w.signup)
    again = services.signup_create(volunteer=w.cast.volunteer, activity=w.published)
    assert again.status == SignupStatus.CONFIRMED
    assert Signup.objects.filter(activity=w.published, volunteer=w.cast.volunteer).count() == 2


# Campaign days -------------------------------------------------------------------------------


def test_campaign_creates_one_activity_per_team_in_shanghai_time(w):
    from apps.teams.models import Team

    second = Team.objects.create(organization=w.tree.sibling_branch, name="湖滨先锋队")
    created = services.campaign_create_activities(
        actor=w.cast.city_admin,
        campaign=w.campaign,
        teams=[w.team, second],
    )
    assert {a.team for a in created} == {w.team, second}
    for activity in created:
        local = timezone.localtime(activity.starts_at)
        assert (local.date(), local.hour, local.minute) == (w.campaign.date, 9, 0)
        assert activity.starts_at.utcoffset() is not None
        assert timezone.localtime(activity.ends_at).time() == datetime.time(11, 30)
        assert activity.campaign == w.campaign
        assert activity.status == ActivityStatus.PUBLISHED
        assert activity.organization == activity.team.organization
    assert created[0].community == w.community  # the team's paired community
    assert timezone.localtime(created[0].starts_at).utcoffset() == datetime.timedelta(hours=8)


def test_campaign_is_all_or_nothing(w):
    before = snapshot()
    messages = refused(
        services.campaign_create_activities,
        actor=w.cast.branch_secretary,
        campaign=w.campaign,
        teams=[w.team, w.other_team],
    )
    assert messages == [
        zh("You do not manage these teams: %(names)s.") % {"names": w.other_team.name}
    ]
    assert snapshot() == before


def test_campaign_refuses_no_teams_and_repeats(w):
    assert refused(
        services.campaign_create_activities,
        actor=w.cast.branch_secretary,
        campaign=w.campaign,
        teams=[],
    ) == [zh("Choose at least one team.")]
    services.campaign_create_activities(
        actor=w.cast.branch_secretary, campaign=w.campaign, teams=[w.team]
    )
    before = snapshot()
    assert refused(
        services.campaign_create_activities,
        actor=w.cast.branch_secretary,
        campaign=w.campaign,
        teams=[w.team],
    ) == [
        zh("These teams already have an activity on this campaign day: %(names)s.")
        % {"names": w.team.name}
    ]
    assert snapshot() == before


def test_campaign_out_of_sight_is_forbidden(w):
    forbidden(
        services.campaign_create_activities,
        actor=w.cast.other_branch_secretary,
        campaign=w.campaign,
        teams=[w.other_team],
    )


def test_campaign_create_checks_times(w):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.campaign_create(
            actor=w.cast.branch_secretary,
            kind="lei_feng",
            name="学雷锋日",
            date=datetime.date(2026, 3, 5),
            organization=w.tree.branch,
            title="学雷锋",
            category=w.category,
            start_time=datetime.time(10),
            end_time=datetime.time(9),
            capacity=0,
        )
    errors = info.value.message_dict
    assert errors["end_time"] == [zh("The end time must be after the start time.")]
    assert errors["capacity"] == [zh("There must be at least one place.")]
    assert snapshot() == before


# Plans ---------------------------------------------------------------------------------------


def test_plan_one_per_organisation_and_year(w):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.plan_create(
            actor=w.cast.branch_secretary, organization=w.tree.branch, year=w.plan.year
        )
    assert info.value.message_dict["year"] == [
        zh("This organisation already has a plan for this year.")
    ]
    assert snapshot() == before
    plan = services.plan_create(
        actor=w.cast.branch_secretary, organization=w.tree.branch, year=w.plan.year + 1
    )
    assert plan.pk


def test_plan_outside_reach_is_refused(w):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.plan_create(
            actor=w.cast.branch_secretary, organization=w.tree.other_branch, year=2030
        )
    assert "organization" in info.value.message_dict
    assert snapshot() == before


@pytest.mark.parametrize("month", [0, 13, -1])
def test_plan_item_month_must_be_1_to_12(w, month):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.plan_item_add(
            actor=w.cast.branch_secretary,
            plan=w.plan,
            project="巡河",
            month=month,
            responsible="张三",
        )
    assert info.value.message_dict["month"] == [zh("The month must be between 1 and 12.")]
    assert snapshot() == before


def test_plan_item_add(w):
    item = services.plan_item_add(
        actor=w.cast.branch_secretary, plan=w.plan, project="巡河", month=5, responsible="张三"
    )
    assert item.plan == w.plan and item.planned_count == 1
    forbidden(
        services.plan_item_add,
        actor=w.cast.inspector,
        plan=w.plan,
        project="x",
        month=5,
        responsible="y",
    )


def test_plan_item_links_only_to_the_organisations_plan_of_that_year(w):
    from apps.activities.models import ActivityPlan, ActivityPlanItem

    other_plan = ActivityPlan.objects.create(organization=w.tree.sibling_branch, year=w.plan.year)
    other_item = ActivityPlanItem.objects.create(
        plan=other_plan, project="x", month=1, responsible="y"
    )
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.activity_create(actor=w.cast.team_leader, **fields(w, plan_item=other_item))
    assert info.value.message_dict["plan_item"] == [
        zh("This plan item belongs to another organisation's plan.")
    ]
    assert snapshot() == before


def test_service_point_must_be_active_in_the_same_community(w):
    other_point = ServicePoint.objects.create(
        community=w.other_community, name="桃溪服务站", kind="station", address="桃溪村"
    )
    with pytest.raises(ValidationError) as info:
        services.activity_create(actor=w.cast.team_leader, **fields(w, service_point=other_point))
    assert info.value.message_dict["service_point"] == [
        zh("This service point belongs to another community.")
    ]
