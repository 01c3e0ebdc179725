"""Demo households, pairings, visits and residents' requests, every personal value fictional.

Runs after ``apps.communities.demo.seed_communities_and_teams``. Idempotent like it: households
are found by their community and place in the list (the demo's own ``created_by`` is empty and
their names are unique), pairings by volunteer, requests by their ``XYDEMO`` tracking number;
only what is missing is created. Deterministic: one ``random.Random`` with a fixed seed, drawn
the same way whatever already exists. Gaps on purpose for the coverage board: some volunteers
have no household, some pairings are overdue for a visit, some facts are missing or stale, some
requests are past their deadline.
"""

import base64
import datetime
import hashlib
import random

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import ServiceCategory, User, VolunteerProfile, VolunteerStatus
from apps.communities.demo import COMMUNITIES
from apps.communities.models import Community, TeamPairing
from apps.core.crypto import blind_index
from apps.organizations.models import Membership
from apps.teams.models import TeamMembership, TeamMembershipStatus

from .models import (
    CareCategory,
    CareRecipient,
    RecipientPairing,
    RequestChannel,
    RequestDeadline,
    RequestEvent,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    Visit,
    VisitKind,
)

HOUSEHOLDS = 60
FICTIONAL = "（虚构）"
DIGITS = "零一二三四五六七八九"
FAMILY = [
    "独居，子女在外地",
    "老两口同住，子女在本市",
    "与孙子同住，父母外出务工",
    "失独，夫妻同住",
]
HEALTH = ["高血压", "糖尿病", "行动不便，需拄拐", "听力下降", "视力残疾二级", "身体健康"]
#: (category code, days to complete) for the demo's request deadlines.
DEADLINES = [("elderly", 5), ("medical", 3), ("legal", 10)]
#: Every fifth party-member volunteer has no household: a gap on the coverage board.
UNPAIRED_EVERY = 5


def chinese_number(number: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三 (up to 99)."""
    tens, ones = divmod(number, 10)
    if not tens:
        return DIGITS[ones]
    return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")


def demo_rating_token(tracking_number: str) -> str:
    """A fixed token per demo request (43 characters, like the real ones). Demo data only."""
    digest = hashlib.sha256(f"demo-rating:{tracking_number}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _households(rng, communities, categories, today, created) -> list[CareRecipient]:
    existing = {r.name: r for r in CareRecipient.objects.filter(created_by__isnull=True)}
    households = []
    for index in range(1, HOUSEHOLDS + 1):
        community = communities[(index - 1) % len(communities)]
        name = f"测试老人{chinese_number(index)}"
        family, health = rng.choice(FAMILY), rng.choice(HEALTH)
        picked = rng.sample(categories, k=rng.randint(1, 3))
        # Some facts unknown or stale, so the 四清率 is not 100%.
        gap = rng.random()
        verified = today - datetime.timedelta(days=rng.randint(10, 200))
        stale = today - datetime.timedelta(days=rng.randint(400, 600))
        under_correction = index % 15 == 7
        household = existing.get(name)
        if household is None:
            household = CareRecipient.objects.create(
                name=name,
                community=community,
                family_situation=f"{FICTIONAL}{family}",
                family_verified_on=verified,
                health=f"{FICTIONAL}{health}",
                health_verified_on=stale if gap < 0.15 else verified,
                address=f"虚构路{index}号{FICTIONAL}",
                address_verified_on=verified,
                contact="" if 0.15 <= gap < 0.25 else f"1380000{index:04d}{FICTIONAL}",
                contact_verified_on=None if 0.15 <= gap < 0.25 else verified,
                correction_status=f"{FICTIONAL}社区矫正中" if under_correction else "",
            )
            household.categories.set(picked)
            created["households"] += 1
        households.append(household)
    return households


def _party_member_volunteers() -> list[User]:
    """Active volunteers with an active party membership, and the demo volunteer login."""
    members = Membership.objects.active().values("user_id")
    profiles = VolunteerProfile.objects.filter(status=VolunteerStatus.ACTIVE, user__in=members)
    volunteers = User.objects.filter(
        Q(pk__in=profiles.values("user_id")) | Q(username="volunteer", pk__in=members),
        is_active=True,
    )
    return list(volunteers.order_by("username"))


def _pairings_and_visits(rng, communities, households, today, created) -> None:
    by_community: dict[int, list[CareRecipient]] = {}
    for household in households:
        by_community.setdefault(household.community_id, []).append(household)
    homes = {
        p.user_id: p.residence_community_id
        for p in VolunteerProfile.objects.only("user_id", "residence_community_id")
    }
    paired = set(RecipientPairing.objects.active().values_list("volunteer_id", flat=True))
    volunteers = _party_member_volunteers()
    # The demo volunteer login always has a household, in 桂园社区 (the first community).
    volunteers.sort(key=lambda user: user.username != "volunteer")
    homes.update({v.pk: communities[0].pk for v in volunteers if v.username == "volunteer"})
    visits = []
    for position, volunteer in enumerate(volunteers):
        nearby = by_community.get(homes.get(volunteer.pk)) or households
        household = nearby[rng.randrange(len(nearby))]
        started = today - datetime.timedelta(days=rng.randint(90, 400))
        every = rng.choice([30, 30, 30, 14, 7])
        late = rng.random() < 0.25
        visit_days = sorted(rng.sample(range(1, 90), k=3), reverse=True)
        kinds = [rng.choice(VisitKind.values) for _ in visit_days]
        minutes = [rng.choice([20, 30, 45, 60, 90]) for _ in visit_days]
        skip = position % UNPAIRED_EVERY == UNPAIRED_EVERY - 1 and volunteer.username != "volunteer"
        if skip or volunteer.pk in paired:
            continue
        pairing = RecipientPairing.objects.create(
            volunteer=volunteer, recipient=household, started_on=started, visit_every_days=every
        )
        paired.add(volunteer.pk)
        created["pairings"] += 1
        # On time: the last visit lies within the frequency. Late: every visit is older.
        shift = every + 5 if late else 0
        for days, kind, duration in zip(visit_days, kinds, minutes, strict=True):
            day = today - datetime.timedelta(days=min(days, every - 1) + shift)
            if day < started:
                continue
            visits.append(
                Visit(
                    pairing=pairing,
                    visited_on=day,
                    duration_minutes=duration,
                    kind=kind,
                    notes=f"{FICTIONAL}陪老人聊天，了解近况",
                )
            )
    Visit.objects.bulk_create(visits)
    created["visits"] += len(visits)


# (status, kind, channel, days ago submitted, days to complete, rated stars, title)
S = RequestStatus
REQUESTS = [
    (S.SUBMITTED, RequestKind.NEED, RequestChannel.WEB, 0, 7, None, "楼道灯坏了，请帮忙报修"),
    (S.SUBMITTED, RequestKind.MICRO_WISH, RequestChannel.QR, 1, 7, None, "想要一台收音机"),
    (S.ACCEPTED, RequestKind.NEED, RequestChannel.HOTLINE, 2, 7, None, "帮忙代买降压药"),
    (S.DECLINED, RequestKind.NEED, RequestChannel.WEB, 3, 7, None, "帮忙装修房屋"),
    (S.DISPATCHED, RequestKind.NEED, RequestChannel.STATION, 2, 7, None, "陪同老人去医院复查"),
    (S.DISPATCHED, RequestKind.MICRO_WISH, RequestChannel.ON_BEHALF, 1, 7, None, "想要一副老花镜"),
    (S.OPEN, RequestKind.MICRO_WISH, RequestChannel.QR, 2, 10, None, "孩子想要一套课外书"),
    (S.OPEN, RequestKind.MICRO_WISH, RequestChannel.WEB, 3, 10, None, "想学用智能手机视频通话"),
    (S.IN_PROGRESS, RequestKind.NEED, RequestChannel.HOTLINE, 3, 7, None, "帮忙修理漏水龙头"),
    (S.IN_PROGRESS, RequestKind.NEED, RequestChannel.ON_BEHALF, 4, 7, None, "每周代取快递"),
    (S.DONE, RequestKind.NEED, RequestChannel.STATION, 6, 7, None, "清理楼道杂物"),
    (S.DONE, RequestKind.MICRO_WISH, RequestChannel.QR, 8, 10, None, "想要一个电饭煲"),
    (S.CLOSED, RequestKind.NEED, RequestChannel.WEB, 20, 7, 5, "帮忙申请高龄补贴"),
    (S.CLOSED, RequestKind.MICRO_WISH, RequestChannel.QR, 25, 10, 4, "想要一件冬衣"),
    (S.CLOSED, RequestKind.NEED, RequestChannel.HOTLINE, 30, 7, 5, "陪同办理社保卡"),
    (S.CLOSED, RequestKind.NEED, RequestChannel.STATION, 35, 7, 3, "上门理发"),
    (S.SUBMITTED, RequestKind.NEED, RequestChannel.WEB, 15, 7, None, "小区健身器材损坏"),
    (S.DISPATCHED, RequestKind.NEED, RequestChannel.HOTLINE, 20, 7, None, "帮忙疏通下水道"),
    (S.IN_PROGRESS, RequestKind.MICRO_WISH, RequestChannel.QR, 25, 10, None, "想要一把轮椅"),
    (S.CANCELLED, RequestKind.NEED, RequestChannel.WEB, 5, 7, None, "帮忙搬家"),
]
#: The statuses a request passed through to reach each status (its events).
HISTORY = {
    S.SUBMITTED: [S.SUBMITTED],
    S.ACCEPTED: [S.SUBMITTED, S.ACCEPTED],
    S.DECLINED: [S.SUBMITTED, S.DECLINED],
    S.DISPATCHED: [S.SUBMITTED, S.ACCEPTED, S.DISPATCHED],
    S.OPEN: [S.SUBMITTED, S.ACCEPTED, S.OPEN],
    S.IN_PROGRESS: [S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS],
    S.DONE: [S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.DONE],
    S.CLOSED: [S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.DONE, S.CLOSED],
    S.CANCELLED: [S.SUBMITTED, S.CANCELLED],
}
NOTES = {
    S.SUBMITTED: "居民提交需求",
    S.ACCEPTED: "社区审核通过",
    S.DECLINED: "不属于志愿服务范围，已转物业处理",
    S.DISPATCHED: "派单至结对服务队",
    S.OPEN: "发布为微心愿，志愿者可认领",
    S.IN_PROGRESS: "志愿者已接单",
    S.DONE: "服务完成，已上传照片",
    S.CLOSED: "居民已评价",
    S.CANCELLED: "居民撤回",
}


def _requests(rng, communities, households, today, created) -> None:
    existing = set(
        ServiceRequest.objects.filter(tracking_number__startswith="XYDEMO").values_list(
            "tracking_number", flat=True
        )
    )
    paired_teams: dict[int, int] = {}
    for pairing in TeamPairing.objects.active().order_by("pk"):
        paired_teams.setdefault(pairing.community_id, pairing.team_id)
    members: dict[int, list[int]] = {}
    for team_id, user_id in (
        TeamMembership.objects.filter(status=TeamMembershipStatus.ACTIVE)
        .order_by("team_id", "-role", "pk")
        .values_list("team_id", "user_id")
    ):
        members.setdefault(team_id, []).append(user_id)
    staffed = Community.objects.filter(staff__ended_on__isnull=True).order_by("pk", "staff__pk")
    staff_of = dict(staffed.values_list("pk", "staff__user_id"))
    categories = list(ServiceCategory.objects.filter(is_active=True).order_by("sort_order"))
    # Requests go to communities with a paired team, 桂园社区 first, so the demo logins see them.
    served = sorted(communities, key=lambda c: (c.pk not in paired_teams, c.pk))
    events = []
    for number, (status, kind, channel, ago, days, stars, title) in enumerate(REQUESTS, start=1):
        tracking_number = f"XYDEMO{number:06d}"
        # Whatever went to a team went to one paired with its community.
        if S.DISPATCHED in HISTORY[status]:
            community = served[(number - 1) % 3]
        else:
            # The first requests wait for 桂园社区's staff (the community_staff login) to review.
            community = served[0 if number <= 3 else number % len(served)]
        on_behalf = channel == RequestChannel.ON_BEHALF
        recipient_pool = [h for h in households if h.community_id == community.pk] or households
        recipient = recipient_pool[rng.randrange(len(recipient_pool))]
        category = categories[rng.randrange(len(categories))] if categories else None
        phone = f"1380000{9000 + number:04d}"
        if tracking_number in existing:
            continue
        submitted = _at(today - datetime.timedelta(days=ago), 9)
        team_id = paired_teams.get(community.pk)
        dispatched = S.DISPATCHED in HISTORY[status] and team_id is not None
        volunteers = members.get(team_id, [])
        started = S.IN_PROGRESS in HISTORY[status] and status != S.CANCELLED
        request = ServiceRequest.objects.create(
            tracking_number=tracking_number,
            rating_token=demo_rating_token(tracking_number),
            channel=channel,
            kind=kind,
            community=community,
            care_recipient=recipient if on_behalf else None,
            service_category=category,
            title=title,
            description=f"{FICTIONAL}{title}，请志愿者帮忙。",
            requester_name=f"测试居民{chinese_number(number)}",
            requester_phone=f"{phone}{FICTIONAL}",
            requester_phone_hash=blind_index(phone),
            requester_address=f"虚构街{number}号{FICTIONAL}",
            called_at=submitted if channel == RequestChannel.HOTLINE else None,
            status=status,
            decline_reason=NOTES[S.DECLINED] if status == S.DECLINED else "",
            dispatched_team_id=team_id if dispatched else None,
            assigned_volunteer_id=volunteers[-1] if started and volunteers else None,
            deadline=(today - datetime.timedelta(days=ago - days)),
            completed_at=submitted + datetime.timedelta(days=2)
            if status in (S.DONE, S.CLOSED)
            else None,
            completion_note=f"{FICTIONAL}已完成" if status in (S.DONE, S.CLOSED) else "",
            show_on_wall=kind == RequestKind.MICRO_WISH,
            rating_stars=stars,
            rating_comment="志愿者很热心，谢谢！" if stars else "",
            rated_at=submitted + datetime.timedelta(days=3) if stars else None,
        )
        ServiceRequest.objects.filter(pk=request.pk).update(created_at=submitted)
        created["requests"] += 1
        staff = staff_of.get(community.pk)
        for step, event_status in enumerate(HISTORY[status]):
            if event_status == S.DISPATCHED and not dispatched:
                continue
            actor = None
            if event_status in (S.ACCEPTED, S.DECLINED, S.DISPATCHED, S.OPEN):
                actor = staff
            elif event_status in (S.IN_PROGRESS, S.DONE):
                actor = request.assigned_volunteer_id
            events.append(
                (
                    RequestEvent(
                        request=request,
                        actor_id=actor,
                        status=event_status,
                        note=NOTES[event_status],
                    ),
                    submitted + datetime.timedelta(hours=5 * step),
                )
            )
    RequestEvent.objects.bulk_create([event for event, _at_time in events])
    # ``at`` is stamped on insert; the history gets its own times afterwards.
    for event, at in events:
        RequestEvent.objects.filter(pk=event.pk).update(at=at)
    created["events"] += len(events)


@transaction.atomic
def seed_care(*, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    rng = random.Random(4040)
    created = dict.fromkeys(["households", "pairings", "visits", "requests", "events"], 0)
    names = [row[1] for row in COMMUNITIES]
    by_name = {c.name: c for c in Community.objects.filter(name__in=names)}
    communities = [by_name[name] for name in names if name in by_name]
    if not communities:
        return created
    for code, days in DEADLINES:
        category = ServiceCategory.objects.filter(code=code).first()
        if category is not None:
            RequestDeadline.objects.get_or_create(
                service_category=category, defaults={"days": days}
            )
    categories = list(CareCategory.objects.filter(is_active=True).order_by("sort_order", "code"))
    households = _households(rng, communities, categories, today, created)
    _pairings_and_visits(rng, communities, households, today, created)
    _requests(rng, communities, households, today, created)
    return created
