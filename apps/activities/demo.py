"""Demo activities: past ones with attendance, upcoming ones with sign-ups and a waiting list,
a 12·5 campaign day and a yearly plan.

Runs after ``apps.communities.demo.seed_communities_and_teams``. Idempotent: activities are
found by their team and demo title, the campaign by its name and date, the plan by its
organisation and year; only what is missing is created. Attendance goes through the services,
so the past activities' service records are created by the records app as in real use.
"""

import datetime
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import ServiceCategory, User, VolunteerProfile, VolunteerStatus
from apps.communities.models import TeamPairing
from apps.organizations.models import PartyOrganization
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, TeamRole

from . import services
from .models import (
    Activity,
    ActivityPlan,
    ActivityStatus,
    Campaign,
    CampaignKind,
    Signup,
    SignupStatus,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DEMO_TEAMS = ["桂园红心志愿服务队", "湖滨先锋志愿服务队", "翠柳邻里守望队", "桃溪先锋志愿服务队"]
# (title, category code, days from today, start hour, hours, places)
PAST = [
    ("【示范】楼道清洁日", "environment", -6, 9, 2, 10),
    ("【示范】独居老人上门探访", "elderly", -3, 14, 2, 10),
]
UPCOMING = [
    ("【示范】社区义诊志愿服务", "medical", 3, 9, 3, None),  # one place too few: a waiting list
    ("【示范】垃圾分类宣传", "environment", 10, 15, 2, 8),
]
PLAN_ORGANIZATION = "JC-DH-DHJD-GY"
PLAN_ITEMS = [
    ("学雷锋志愿服务月", 3, "桂园社区广场", "李明", 4),
    ("敬老助老上门服务", 5, "桂园社区", "李明", 6),
    ("社区环境整治", 9, "桂园社区各楼栋", "陈志强", 3),
    ("国际志愿者日集中服务", 12, "桂园社区广场", "陈志强", 1),
]


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def _category(code: str):
    return (
        ServiceCategory.objects.filter(code=code).first()
        or ServiceCategory.objects.filter(is_active=True).order_by("sort_order", "pk").first()
    )


def _leader(team: Team):
    membership = (
        TeamMembership.objects.filter(
            team=team, role=TeamRole.LEADER, status=TeamMembershipStatus.ACTIVE
        )
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def _volunteers(team: Team) -> list:
    active = VolunteerProfile.objects.filter(status=VolunteerStatus.ACTIVE).values("user_id")
    return [
        m.user
        for m in TeamMembership.objects.filter(
            team=team, status=TeamMembershipStatus.ACTIVE, user__in=active
        )
        .select_related("user")
        .order_by("pk")
    ]


def _community(team: Team):
    pairing = TeamPairing.objects.filter(team=team, ended_on__isnull=True).first()
    return pairing.community if pairing else None


def _activity(team, row, today, *, status, volunteers=()) -> tuple[Activity, bool]:
    title, code, days, hour, hours, places = row
    if places is None:
        places = max(1, len(volunteers) - 1)
    existing = Activity.objects.filter(team=team, title=title).first()
    if existing:
        return existing, False
    community = _community(team)
    starts_at = _at(today + datetime.timedelta(days=days), hour)
    activity = Activity.objects.create(
        title=title,
        category=_category(code),
        organization=team.organization,
        team=team,
        community=community,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=hours),
        place=(community.address or community.name) if community else team.name,
        capacity=places,
        description=f"{team.name}志愿服务活动（示范数据）",
        risks="注意交通和用电安全",
        status=status,
        responsible=_leader(team),
    )
    return activity, True


def _past(team, today, created) -> None:
    leader = _leader(team)
    volunteers = _volunteers(team)[:5]
    for row in PAST:
        activity, made = _activity(team, row, today, status=ActivityStatus.PUBLISHED)
        if not made:
            continue
        created["activities"] += 1
        for index, volunteer in enumerate(volunteers):
            signup = Signup.objects.create(
                activity=activity,
                volunteer=volunteer,
                created_at=activity.starts_at - datetime.timedelta(days=2),
            )
            created["signups"] += 1
            if index == len(volunteers) - 1 or leader is None:
                continue  # the last one does not come: a no-show when attendance closes
            try:
                services.attendance_mark(
                    actor=leader,
                    signup=signup,
                    checked_in_at=activity.starts_at,
                    checked_out_at=activity.ends_at - datetime.timedelta(minutes=10 * index),
                )
                created["attended"] += 1
            except (ValidationError, PermissionDenied):
                pass  # a recording rule refused (one person, two teams at once): leave it
        services.activity_close_attendance(activity=activity)


def _upcoming(team, today, created) -> None:
    volunteers = _volunteers(team)
    for row in UPCOMING:
        activity, made = _activity(
            team, row, today, status=ActivityStatus.PUBLISHED, volunteers=volunteers
        )
        if not made:
            continue
        created["activities"] += 1
        for volunteer in volunteers[: activity.capacity + 2]:
            try:
                signup = services.signup_create(volunteer=volunteer, activity=activity)
            except ValidationError:
                continue
            created["signups"] += 1
            created["waitlisted"] += signup.status == SignupStatus.WAITLISTED


def _campaign(teams, today, created) -> None:
    admin = User.objects.filter(username="city_admin").first()
    city = PartyOrganization.objects.filter(depth=1).order_by("pk").first()
    if admin is None or city is None:
        return
    day = datetime.date(today.year, 12, 5)
    if day <= today:
        day = datetime.date(today.year + 1, 12, 5)
    campaign, made = Campaign.objects.get_or_create(
        kind=CampaignKind.VOLUNTEER_DAY,
        date=day,
        organization=city,
        defaults={
            "name": f"{day.year}年国际志愿者日",
            "title": "【示范】12·5国际志愿者日集中服务",
            "category": _category("environment"),
            "start_time": datetime.time(9),
            "end_time": datetime.time(11, 30),
            "capacity": 15,
            "description": "各志愿服务队在结对社区开展集中志愿服务。",
            "created_by": admin,
        },
    )
    created["campaigns"] += made
    missing = [t for t in teams if not campaign.activities.filter(team=t).exists()]
    if missing:
        created["activities"] += len(
            services.campaign_create_activities(actor=admin, campaign=campaign, teams=missing)
        )


def _plan(today, created) -> None:
    organization = PartyOrganization.objects.filter(code=PLAN_ORGANIZATION).first()
    if organization is None:
        return
    plan, made = ActivityPlan.objects.get_or_create(
        organization=organization,
        year=today.year,
        defaults={"note": "本支部年度志愿服务活动计划（示范数据）"},
    )
    created["plans"] += made
    this_month = ("每月楼道清洁与上门探访", today.month, "桂园社区", "李明", 2)
    for project, month, place, responsible, count in [*PLAN_ITEMS, this_month]:
        _item, item_made = plan.items.get_or_create(
            project=project,
            defaults={
                "month": month,
                "place": place,
                "responsible": responsible,
                "planned_count": count,
            },
        )
        created["plan_items"] += item_made
    # The branch team's past activities count towards the plan's item of their month.
    for activity in Activity.objects.filter(
        organization=organization, plan_item__isnull=True, title__startswith="【示范】"
    ).in_year(plan.year):
        item = plan.items.filter(month=timezone.localtime(activity.starts_at).month).first()
        if item is not None:
            Activity.objects.filter(pk=activity.pk).update(plan_item=item)


def seed_activities(*, stdout=None, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    created = dict.fromkeys(
        ["activities", "signups", "attended", "waitlisted", "campaigns", "plans", "plan_items"],
        0,
    )
    by_name = {t.name: t for t in Team.objects.filter(name__in=DEMO_TEAMS, is_active=True)}
    teams = [by_name[name] for name in DEMO_TEAMS if name in by_name]
    for team in teams:
        with transaction.atomic():
            _past(team, today, created)
        with transaction.atomic():
            _upcoming(team, today, created)
    if teams:
        with transaction.atomic():
            _campaign(teams, today, created)
    with transaction.atomic():
        _plan(today, created)
    if stdout is not None:
        stdout.write(
            _(
                "Created: %(activities)d activities, %(signups)d sign-ups (%(waitlisted)d on "
                "waiting lists), %(attended)d attendances, %(campaigns)d campaign days, "
                "%(plans)d activity plans with %(plan_items)d items."
            )
            % created
        )
    return created
