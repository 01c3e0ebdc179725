"""Who may open which service-record page, for every role.

The record fixtures (``recworld``): ``volunteer`` is an active member of the branch's team
(led by ``team_leader``) and has a record ``submitted`` (yesterday 09:00–11:00, for the team,
in 桂园社区, where ``community_staff`` works), an ``approved`` one and a ``rejected`` one, and a
record of the branch's ``activity``. Reviewers of the volunteer's records: the team leader,
the community's staff, the branch secretary and the city; the inspector looks, never changes.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.accounts.models import ServiceCategory
from apps.activities.models import Activity, ActivityStatus
from apps.core.tests.matrix import case, parametrize, run_case
from apps.service_records.models import RecordStatus, ServiceRecord
from apps.service_records.services import service_record_submit
from apps.teams.models import TeamMembership, TeamMembershipStatus


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def make_record(volunteer, *, day, start=9, end=11, status=RecordStatus.SUBMITTED, **fields):
    values = {
        "activity_name": "陪伴独居老人",
        "category": ServiceCategory.objects.filter(is_active=True).first(),
        "place": "桂园社区活动室",
        "content": "陪老人聊天、打扫卫生",
        "responsible_person": "李明",
    }
    values.update(fields)
    record = service_record_submit(
        actor=volunteer,
        volunteer=volunteer,
        started_at=local(day, start),
        ended_at=local(day, end),
        **values,
    )
    if status != RecordStatus.SUBMITTED:
        ServiceRecord.objects.filter(pk=record.pk).update(status=status)
        record.refresh_from_db()
    return record


@pytest.fixture
def recworld(world):
    cast = world.cast
    TeamMembership.objects.create(
        team=world.team, user=cast.volunteer, status=TeamMembershipStatus.ACTIVE
    )
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    common = {"team": world.team, "community": world.community}
    activity = Activity.objects.create(
        title="重阳节敬老活动",
        category=ServiceCategory.objects.filter(is_active=True).first(),
        organization=world.tree.branch,
        team=world.team,
        community=world.community,
        starts_at=local(today - 4 * day, 9),
        ends_at=local(today - 4 * day, 11),
        place="桂园社区广场",
        capacity=20,
        description="为老人义诊、理发",
        status=ActivityStatus.PUBLISHED,
    )
    return SimpleNamespace(
        **vars(world),
        category=ServiceCategory.objects.filter(is_active=True).first(),
        submitted=make_record(cast.volunteer, day=today - day, **common),
        approved=make_record(
            cast.volunteer, day=today - 2 * day, status=RecordStatus.APPROVED, **common
        ),
        rejected=make_record(
            cast.volunteer, day=today - 3 * day, status=RecordStatus.REJECTED, **common
        ),
        activity=activity,
        activity_record=make_record(
            cast.volunteer, day=today - 4 * day, activity=activity, **common
        ),
    )


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def team(w):
    return {"team_pk": w.team.pk}


def new_record(hour):
    def data(w):
        return {
            "activity_name": "清理楼道杂物",
            "category": w.category.pk,
            "service_date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
            "start_time": f"{hour:02d}:00",
            "end_time": f"{hour + 1:02d}:00",
            "place": "桂园社区3栋",
            "content": "清理楼道堆放的杂物",
            "responsible_person": "李明",
        }

    return data


PUBLIC = {"default": 200, "anonymous_to_login": False}
SIGNED_IN = {"default": 200, "anonymous": 302}
#: The volunteer's record: who sees it and who reviews it.
SEES_RECORD = {"default": 200, "anonymous": 302, "outsider": 404, "other_branch_secretary": 404}
REVIEWS = {
    **SEES_RECORD,
    "default": 302,
    "volunteer": 403,  # their own record
    "team_leader": 302,
    "community_staff": 302,
    "inspector": 403,
}
REVIEWERS = {
    "default": 200,
    "anonymous": 302,
    "outsider": 403,
    "volunteer": 403,
    "team_leader": 200,
    "community_staff": 200,
    "inspector": 403,
}
OVERSEES_TEAM = {
    "default": 200,
    "anonymous": 302,
    "outsider": 404,
    "other_branch_secretary": 404,
    "volunteer": 403,  # a member sees the team, not the others' records
    "team_leader": 200,
    "community_staff": 404,
}
MANAGES_TEAM = {**OVERSEES_TEAM, "inspector": 403}

CASES = [
    case("portal:record-list", **SIGNED_IN),
    case("portal:record-list", query="?year=2020&status=approved", **SIGNED_IN),
    case("portal:record-new", **SIGNED_IN),
    case("portal:record-new", "POST", data=new_record(14), default=302),
    case("portal:record-detail", kwargs=pk("submitted"), **SEES_RECORD),
    case(
        "portal:record-edit",
        kwargs=pk("submitted"),
        **{
            **SEES_RECORD,
            "default": 403,
            "volunteer": 200,
            "team_leader": 403,
            "community_staff": 403,
        },
    ),
    case(
        "portal:record-edit",
        "POST",
        kwargs=pk("rejected"),
        data=new_record(15),
        **{
            **SEES_RECORD,
            "default": 403,
            "volunteer": 302,
            "team_leader": 403,
            "community_staff": 403,
        },
    ),
    case("portal:record-approve", "POST", kwargs=pk("submitted"), **REVIEWS),
    case("portal:record-approve", kwargs=pk("submitted"), default=405, anonymous=302),
    case(
        "portal:record-reject",
        "POST",
        kwargs=pk("submitted"),
        data=lambda w: {"reason": "时间填写有误"},
        **REVIEWS,
    ),
    case("portal:record-reject", kwargs=pk("submitted"), default=405, anonymous=302),
    case(
        "portal:record-reopen",
        "POST",
        kwargs=pk("approved"),
        data=lambda w: {"reason": "时长需要更正"},
        **REVIEWS,
    ),
    case("portal:record-reopen", kwargs=pk("approved"), default=405, anonymous=302),
    case("portal:review-queue", **REVIEWERS),
    case(
        "portal:review-queue",
        "POST",
        data=lambda w: {"records": [w.submitted.pk]},
        **{**REVIEWERS, "default": 302, "team_leader": 302, "community_staff": 302},
    ),
    case("portal:team-records", kwargs=team, **OVERSEES_TEAM),
    case("portal:team-records", kwargs=team, query="?status=submitted", **OVERSEES_TEAM),
    case("portal:team-record-entry", kwargs=team, **MANAGES_TEAM),
    case(
        "portal:team-record-entry",
        "POST",
        kwargs=team,
        data=lambda w: {**new_record(16)(w), "volunteers": [w.cast.volunteer.pk]},
        **{**MANAGES_TEAM, "default": 302, "team_leader": 302},
    ),
    case(
        "portal:record-rate",
        kwargs=lambda w: {"token": w.submitted.evaluation_token},
        **PUBLIC,
    ),
    case(
        "portal:record-rate",
        "POST",
        kwargs=lambda w: {"token": w.submitted.evaluation_token},
        data=lambda w: {"stars": 5, "comment": "很耐心"},
        default=302,
        volunteer=200,  # nobody rates their own service: the page says so
        team_leader=302,
        community_staff=302,  # rates as the community's staff
        anonymous_to_login=False,
    ),
    case(
        "portal:activity-rate",
        kwargs=lambda w: {"token": w.activity.evaluation_token},
        **PUBLIC,
    ),
    case(
        "portal:activity-rate",
        "POST",
        kwargs=lambda w: {"token": w.activity.evaluation_token},
        data=lambda w: {"stars": 4},
        default=302,
        volunteer=200,  # the only record of it is their own
        team_leader=302,
        community_staff=302,
        anonymous_to_login=False,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_record_pages_permissions(c, role, recworld, client, api_as):
    run_case(c, role, recworld, client, api_as)
