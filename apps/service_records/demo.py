"""Demo service records for the demo volunteers, every value fictional.

Runs after the organisations, teams and communities demo. Idempotent: a record is found by its
volunteer and start time and only created when missing. Everything goes through the services,
so the demo records obey the same rules, audit trail and checks as real ones: the demo
volunteer (王秀英) has records approved, awaiting review, rejected and one late entry (补录);
two members of 桂园红心志愿服务队 share one photo, a flagged pair for the review queue; and the
team leader entered one clean-up for the team, approved.
"""

from __future__ import annotations

import datetime
import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import ServiceCategory, User
from apps.communities.models import Community
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, TeamRole

from . import services
from .models import ServiceRecord

TEAM = "桂园红心志愿服务队"
COMMUNITY = "桂园社区"


def demo_photo(name: str = "demo-photo.png", *, seed: int = 1) -> SimpleUploadedFile:
    """A small, fixed picture (a sun over a bench, roughly) drawn with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120), (135 + seed * 7 % 60, 190, 230))
    draw = ImageDraw.Draw(image)
    draw.ellipse((110, 10, 150, 50), fill=(250, 200, 40))
    draw.rectangle((0, 85, 160, 120), fill=(90, 150, 70))
    draw.rectangle((30 + seed * 5 % 40, 70, 90 + seed * 5 % 40, 80), fill=(120, 80, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _submit(created, *, volunteer, start, hours=2.0, now=None, actor=None, **fields):
    """Submit one record unless the volunteer already has one starting then."""
    existing = ServiceRecord.objects.filter(volunteer=volunteer, started_at=start).first()
    if existing is not None:
        return existing, False
    end = start + datetime.timedelta(minutes=int(hours * 60))
    record = services.service_record_submit(
        actor=actor or volunteer,
        volunteer=volunteer,
        started_at=start,
        ended_at=end,
        now=now or end + datetime.timedelta(hours=3),
        **fields,
    )
    created["records"] += 1
    return record, True


def _review(created, record, *, reviewer, reject: str = ""):
    try:
        if reject:
            services.service_record_reject(actor=reviewer, record=record, reason=reject)
            created["rejected"] += 1
        else:
            services.service_record_approve(actor=reviewer, record=record)
            created["approved"] += 1
    except (PermissionDenied, ValidationError):
        pass


@transaction.atomic
def seed_records(*, stdout=None, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    created = dict.fromkeys(["records", "approved", "rejected", "late", "flagged"], 0)
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["volunteer", "team_leader", "branch_secretary"])
    }
    team = Team.objects.filter(name=TEAM).first()
    community = Community.objects.filter(name=COMMUNITY).first()
    elderly = ServiceCategory.objects.filter(code="elderly").first()
    environment = ServiceCategory.objects.filter(code="environment").first() or elderly
    if len(users) < 3 or team is None or community is None or elderly is None:
        return created
    volunteer, leader, secretary = (
        users["volunteer"],
        users["team_leader"],
        users["branch_secretary"],
    )
    members = _members(team)
    common = {
        "place": "桂园社区",
        "responsible_person": leader.get_full_name(),
        "organization": community.organization,
        "community": community,
    }
    visit = {
        **common,
        "activity_name": "独居老人上门陪伴",
        "category": elderly,
        "content": "上门陪伴独居老人聊天，帮忙整理房间、测量血压（虚构）",
    }

    # The demo volunteer: approved, awaiting review, rejected, a late entry -------------------
    for days in (40, 26, 12):
        record, made = _submit(
            created, volunteer=volunteer, start=_at(today - _d(days), 9), **visit
        )
        if made:
            _review(created, record, reviewer=secretary)
    _submit(created, volunteer=volunteer, start=_at(today - _d(3), 14, 30), hours=1.5, **visit)
    record, made = _submit(
        created,
        volunteer=volunteer,
        start=_at(today - _d(6), 9),
        hours=3,
        **{**visit, "activity_name": "社区助老理发", "content": "为社区老人义务理发（虚构）"},
    )
    if made:
        _review(
            created, record, reviewer=secretary, reject="服务时长与签到记录不符，请核实后修改。"
        )
    late_start = _at(today - _d(30), 15)
    _r, made = _submit(
        created,
        volunteer=volunteer,
        start=late_start,
        now=timezone.now(),
        late_reason="当时在外地出差，回来后补录（虚构）",
        **{
            **visit,
            "activity_name": "陪同老人就医",
            "content": "陪同独居老人到社区医院复诊（虚构）",
        },
    )
    created["late"] += int(made)

    # A flagged pair: two members, one photo ----------------------------------------------------
    for offset, member in enumerate(members[:2]):
        _r, made = _submit(
            created,
            volunteer=member,
            start=_at(today - _d(5 - offset), 8),
            hours=1,
            team=team,
            photos=[demo_photo(f"demo-photo-{offset + 1}.png", seed=1)],
            **{
                **common,
                "activity_name": "搀扶老人晒太阳",
                "category": elderly,
                "content": f"搀扶老人到楼下晒太阳（虚构，第{offset + 1}次登记）",
            },
        )
        created["flagged"] += int(made)

    # The leader enters one clean-up for the team, then approves it ----------------------------
    helpers = [m for m in members if m.pk != leader.pk][:3]
    start = _at(today - _d(8), 9)
    if (
        helpers
        and not ServiceRecord.objects.filter(volunteer=helpers[0], started_at=start).exists()
    ):
        records = services.service_record_enter_for_team(
            actor=leader,
            team=team,
            volunteers=helpers,
            activity_name="清理楼道杂物",
            category=environment,
            started_at=start,
            ended_at=start + datetime.timedelta(hours=2),
            content="清理楼道堆放的杂物，消除消防隐患（虚构）",
            now=start + datetime.timedelta(hours=5),
            **common,
        )
        created["records"] += len(records)
        approved, _refused = services.service_record_bulk_approve(actor=leader, records=records)
        created["approved"] += approved

    if stdout is not None:
        stdout.write(
            _(
                "Created: %(records)d service records (%(approved)d approved, %(rejected)d "
                "rejected, %(late)d late entries, %(flagged)d with a shared photo)."
            )
            % created
        )
    return created


def _d(days: int) -> datetime.timedelta:
    return datetime.timedelta(days=days)


def _members(team) -> list[User]:
    ids = TeamMembership.objects.filter(
        team=team, status=TeamMembershipStatus.ACTIVE, role=TeamRole.MEMBER
    ).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username")[:4])
