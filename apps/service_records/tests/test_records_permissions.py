"""The service record API and admin pages for every role (objects from ``recworld``).

The records are the volunteer's, in the branch's team and 桂园社区: the team leader, the
community's staff, the branch secretary and the city review them; the district's inspector
sees them (403 on changes); the volunteer sees and corrects their own but never reviews it
(403); the other branch and the outsider get 404. The working-day calendar is the city's.
"""

import datetime

import pytest
from django.utils import timezone

from apps.core.models import CalendarDay, CalendarDayKind
from apps.core.tests.matrix import (
    OUTSIDE_ADMIN,
    admin_url,
    case,
    parametrize,
    run_case,
)
from apps.service_records.models import Evaluation, Evidence, ServiceRecord
from apps.service_records.tests.helpers import category, photo

ADMIN_MODELS = {ServiceRecord, Evidence, Evaluation, CalendarDay}
API = {"api": True}

#: Who reaches the volunteer's records, and what the others get.
SEEN = {
    "default": 200,
    "anonymous": 403,
    "outsider": 404,
    "other_branch_secretary": 404,
}
REVIEW = {**SEEN, "volunteer": 403, "inspector": 403}
REVIEW["team_leader"] = REVIEW["community_staff"] = 200
OWNER = {**SEEN, "default": 403, "volunteer": 200, "team_leader": 403, "community_staff": 403}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def _self_report(w):
    end = timezone.now() - datetime.timedelta(hours=2)
    return {
        "activity_name": "为社区老人测血压",
        "category": category().pk,
        "started_at": (end - datetime.timedelta(hours=1)).isoformat(),
        "ended_at": end.isoformat(),
        "place": "桂园社区卫生站",
        "content": "为老人测量血压并登记",
        "responsible_person": "李明",
    }


API_CASES = [
    case("api:service-record-list", default=200, anonymous=403, **API),
    # Anyone signed in logs their own service.
    case("api:service-record-list", "POST", data=_self_report, default=201, anonymous=403, **API),
    case("api:service-record-detail", kwargs=pk("submitted"), **SEEN, **API),
    case(
        "api:service-record-detail",
        "PATCH",
        kwargs=pk("submitted"),
        data=lambda w: {"content": "上门陪伴聊天，帮忙买菜"},
        **OWNER,
        **API,
    ),
    case("api:service-record-approve", "POST", kwargs=pk("submitted"), **REVIEW, **API),
    case(
        "api:service-record-reject",
        "POST",
        kwargs=pk("submitted"),
        data=lambda w: {"reason": "时长与活动不符"},
        **REVIEW,
        **API,
    ),
    case(
        "api:service-record-reopen",
        "POST",
        kwargs=pk("approved"),
        data=lambda w: {"reason": "服务对象反映时长有误"},
        **REVIEW,
        **API,
    ),
    case(
        "api:service-record-revoke",
        "POST",
        kwargs=pk("approved"),
        data=lambda w: {"reason": "查实未参加"},
        **REVIEW,
        **API,
    ),
    case(
        "api:service-record-bulk-approve",
        "POST",
        data=lambda w: {"ids": [w.submitted.pk]},
        # Reviewers get 200 (what they may not approve is listed as refused); others 403.
        default=200,
        anonymous=403,
        outsider=403,
        volunteer=403,
        team_leader=200,
        community_staff=200,
        inspector=403,
        **API,
    ),
    # The owner sends no photo here (400); uploads are tested in test_records_api.
    case(
        "api:service-record-evidence",
        "POST",
        kwargs=pk("submitted"),
        data=lambda w: {},
        **{**OWNER, "volunteer": 400},
        **API,
    ),
    case("api:evaluation-list", default=200, anonymous=403, **API),
    case("api:evaluation-detail", kwargs=pk("evaluation"), **SEEN, **API),
]


def _scoped_read_only(model, attribute):
    obj = lambda w: {"object_id": getattr(w, attribute).pk}  # noqa: E731
    in_tree = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
    return [
        case(admin_url(model, "changelist"), default=200, **OUTSIDE_ADMIN),
        case(admin_url(model, "add"), default=403, **OUTSIDE_ADMIN),
        case(admin_url(model, "change"), kwargs=obj, **in_tree),
        case(admin_url(model, "delete"), kwargs=obj, **{**in_tree, "default": 403}),
        case(admin_url(model, "history"), kwargs=obj, **in_tree),
    ]


def _calendar_cases():
    obj = lambda w: {"object_id": w.calendar_day.pk}  # noqa: E731
    staff = {"default": 403, "city_admin": 200, **OUTSIDE_ADMIN}
    return [
        case(admin_url(CalendarDay, "changelist"), **staff),
        case(admin_url(CalendarDay, "changelist"), query="?year=2026", **staff),
        case(admin_url(CalendarDay, "add"), **staff),
        case(admin_url(CalendarDay, "change"), kwargs=obj, **staff),
        case(admin_url(CalendarDay, "delete"), kwargs=obj, **staff),
        case(admin_url(CalendarDay, "history"), kwargs=obj, **staff),
    ]


ADMIN_CASES = [
    *_scoped_read_only(ServiceRecord, "submitted"),
    case(
        admin_url(ServiceRecord, "change"),
        kwargs=lambda w: {"object_id": w.approved.pk},
        default=200,
        other_branch_secretary=404,
        **OUTSIDE_ADMIN,
    ),
    *_scoped_read_only(Evidence, "evidence"),
    *_scoped_read_only(Evaluation, "evaluation"),
    *_calendar_cases(),
]

CASES = API_CASES + ADMIN_CASES


@pytest.fixture
def pworld(recworld):
    from apps.service_records.evidence import store_photos

    [recworld.evidence] = store_photos(
        actor=recworld.cast.volunteer, record=recworld.submitted, photos=[photo(seed=5)]
    )
    recworld.calendar_day = CalendarDay.objects.create(
        date=datetime.date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦"
    )
    return recworld


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_record_api_and_admin_permissions(c, role, pworld, client, api_as):
    run_case(c, role, pworld, client, api_as)
