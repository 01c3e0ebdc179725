"""The activities API and admin pages for every role (objects from ``aworld``, see fixtures).

Published activities are open to everyone signed in (to read and to sign up); changes belong
to their organisers: the team's leader, the community's staff, the secretaries above and the
city's administrators. The inspector sees the district and changes nothing (403).
"""

import pytest
from django.utils import timezone

from apps.activities import checkin
from apps.activities.models import Activity, ActivityPlan, Campaign, Signup
from apps.core.tests.matrix import (
    OUTSIDE_ADMIN,
    admin_url,
    case,
    parametrize,
    run_case,
    scoped_admin_cases,
)

ADMIN_MODELS = {Activity, Signup, Campaign, ActivityPlan}
API = {"api": True}
SIGNED_IN = {"default": 200, "anonymous": 403}
#: Organisers of the team's activity in 桂园社区; those who only see it get 403.
ORGANISERS = {
    "default": 403,
    "team_leader": 200,
    "community_staff": 200,
    "branch_secretary": 200,
    "city_admin": 200,
}
#: A sign-up: seen by its volunteer and the organisers; others get 404.
SIGNUP_CHANGE = {
    "default": 404,
    "anonymous": 403,
    "volunteer": 403,
    "inspector": 403,
    "team_leader": 200,
    "community_staff": 200,
    "branch_secretary": 200,
    "city_admin": 200,
}
#: Rows owned by the branch (campaign days, plans): its subtree above sees them.
OWNED_READ = {
    "default": 404,
    "anonymous": 403,
    "inspector": 200,
    "branch_secretary": 200,
    "city_admin": 200,
}
OWNED_CHANGE = {**OWNED_READ, "inspector": 403}
OWNED_CREATE = {
    "default": 403,
    "branch_secretary": 201,
    "city_admin": 201,
    "other_branch_secretary": 400,  # the branch is not theirs to choose
}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def _new_activity(w):
    starts_at = timezone.now() + timezone.timedelta(days=60)
    return {
        "title": "新建活动",
        "category": w.category.pk,
        "team": w.team.pk,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timezone.timedelta(hours=2)).isoformat(),
        "place": "桂园社区",
        "capacity": 10,
        "description": "打扫卫生",
    }


def _attendance(w):
    return {
        "checked_in_at": w.live.starts_at.isoformat(),
        "checked_out_at": (timezone.now() - timezone.timedelta(minutes=1)).isoformat(),
    }


def _campaign(w):
    return {
        "kind": "volunteer_day",
        "name": "国际志愿者日",
        "date": (timezone.localdate() + timezone.timedelta(days=30)).isoformat(),
        "organization": w.tree.branch.pk,
        "title": "集中服务",
        "category": w.category.pk,
        "start_time": "09:00",
        "end_time": "11:00",
        "capacity": 10,
    }


API_CASES = [
    case("api:activity-list", **SIGNED_IN, **API),
    case(
        "api:activity-list",
        "POST",
        data=_new_activity,
        default=403,
        team_leader=201,
        branch_secretary=201,
        city_admin=201,
        other_branch_secretary=400,  # the branch's team is out of their sight
        **API,
    ),
    case("api:activity-detail", kwargs=pk("published"), **SIGNED_IN, **API),
    case(
        "api:activity-detail",
        kwargs=pk("draft"),
        default=404,
        anonymous=403,
        volunteer=200,  # a member of the team sees its drafts
        team_leader=200,
        community_staff=404,
        inspector=200,
        branch_secretary=200,
        city_admin=200,
        **API,
    ),
    case(
        "api:activity-detail",
        "PATCH",
        kwargs=pk("published"),
        data=lambda w: {"capacity": 8},
        **ORGANISERS,
        anonymous=403,
        **API,
    ),
    case(
        "api:activity-publish",
        "POST",
        kwargs=pk("draft"),
        default=404,
        anonymous=403,
        volunteer=403,
        team_leader=200,
        community_staff=404,
        inspector=403,
        branch_secretary=200,
        city_admin=200,
        **API,
    ),
    case(
        "api:activity-cancel",
        "POST",
        kwargs=pk("published"),
        data=lambda w: {"reason": "暴雨预警"},
        **ORGANISERS,
        anonymous=403,
        **API,
    ),
    case(
        "api:activity-signup",
        "POST",
        kwargs=pk("open_activity"),
        # Anyone signed in may try; only an active registered volunteer gets a place.
        default=400,
        anonymous=403,
        volunteer=201,
        team_leader=400,
        community_staff=400,
        **API,
    ),
    case("api:signup-list", **SIGNED_IN, **API),
    case(
        "api:signup-detail",
        kwargs=pk("signup"),
        **{**SIGNUP_CHANGE, "volunteer": 200, "inspector": 200},
        **API,
    ),
    case(
        "api:signup-cancel",
        "POST",
        kwargs=pk("signup"),
        **{**SIGNUP_CHANGE, "volunteer": 200},
        **API,
    ),
    case(
        "api:signup-check-in",
        "POST",
        data=lambda w: {"token": checkin.make_token(activity=w.live, direction="in")},
        # Only the volunteer signed up; the others are not registered volunteers.
        default=400,
        anonymous=403,
        volunteer=200,
        team_leader=400,
        community_staff=400,
        **API,
    ),
    case(
        "api:signup-check-out",
        "POST",
        data=lambda w: {"token": checkin.make_token(activity=w.live, direction="out")},
        default=400,  # nobody has checked in
        anonymous=403,
        **API,
    ),
    case(
        "api:signup-mark-attendance",
        "POST",
        kwargs=pk("live_signup"),
        data=_attendance,
        **SIGNUP_CHANGE,
        **API,
    ),
    case("api:signup-no-show", "POST", kwargs=pk("live_signup"), **SIGNUP_CHANGE, **API),
    case("api:campaign-list", **SIGNED_IN, **API),
    case("api:campaign-list", "POST", data=_campaign, **OWNED_CREATE, **API),
    case("api:campaign-detail", kwargs=pk("campaign"), **OWNED_READ, **API),
    case(
        "api:campaign-detail",
        "PATCH",
        kwargs=pk("campaign"),
        data=lambda w: {"place": "桂园广场东侧"},
        **OWNED_CHANGE,
        **API,
    ),
    case(
        "api:campaign-create-activities",
        "POST",
        kwargs=pk("campaign"),
        data=lambda w: {"teams": [w.team.pk]},
        **{**OWNED_CHANGE, "branch_secretary": 201, "city_admin": 201},
        **API,
    ),
    case("api:activity-plan-list", **SIGNED_IN, **API),
    case(
        "api:activity-plan-list",
        "POST",
        data=lambda w: {"organization": w.tree.branch.pk, "year": 2031},
        **OWNED_CREATE,
        **API,
    ),
    case("api:activity-plan-detail", kwargs=pk("plan"), **OWNED_READ, **API),
    case(
        "api:activity-plan-detail",
        "PATCH",
        kwargs=pk("plan"),
        data=lambda w: {"note": "年度计划"},
        **OWNED_CHANGE,
        **API,
    ),
    case("api:activity-plan-items", kwargs=pk("plan"), **OWNED_READ, **API),
    case(
        "api:activity-plan-items",
        "POST",
        kwargs=pk("plan"),
        data=lambda w: {"project": "巡河护河", "month": 5, "responsible": "张三"},
        **{**OWNED_CHANGE, "branch_secretary": 201, "city_admin": 201},
        **API,
    ),
    case("api:activity-plan-plan-against-actual", kwargs=pk("plan"), **OWNED_READ, **API),
]


def _signup_admin_cases():
    obj = lambda w: {"object_id": w.signup.pk}  # noqa: E731
    in_tree = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
    return [
        case(admin_url(Signup, "changelist"), default=200, **OUTSIDE_ADMIN),
        case(admin_url(Signup, "add"), default=403, **OUTSIDE_ADMIN),
        case(admin_url(Signup, "change"), kwargs=obj, **in_tree),  # read only
        case(admin_url(Signup, "delete"), kwargs=obj, **{**in_tree, "default": 403}),
        case(admin_url(Signup, "history"), kwargs=obj, **in_tree),
    ]


ADMIN_CASES = [
    *scoped_admin_cases(Activity, lambda w: w.published, city_deletes=True),
    *_signup_admin_cases(),
    *scoped_admin_cases(Campaign, lambda w: w.campaign),
    case(
        "admin:activities_campaign_create_activities",
        kwargs=lambda w: {"object_id": w.campaign.pk},
        default=200,
        inspector=403,
        other_branch_secretary=404,
        **OUTSIDE_ADMIN,
    ),
    *scoped_admin_cases(ActivityPlan, lambda w: w.plan),
]

CASES = API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_activities_api_and_admin_permissions(c, role, aworld, client, api_as):
    run_case(c, role, aworld, client, api_as)
