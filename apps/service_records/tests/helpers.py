"""Helpers for the service record tests: a fixed clock, photos, records in any status."""

import datetime
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.models import ServiceCategory
from apps.service_records.models import (
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.teams.models import TeamMembership, TeamMembershipStatus, TeamRole

#: A Monday in 2026, 10:00 in Shanghai: the tests' "now".
NOW = timezone.make_aware(datetime.datetime(2026, 11, 16, 10, 0))


def at(day: datetime.date | str, hour: int, minute: int = 0) -> datetime.datetime:
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def photo(name="photo.png", *, seed=1, size=(64, 64), fmt="PNG") -> SimpleUploadedFile:
    """A small picture with a pattern of its own (``seed``): different seeds hash apart."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", size)
    block = 8
    for x in range(0, size[0], block):
        for y in range(0, size[1], block):
            shade = rng.randint(0, 255)
            image.paste((shade, shade, shade), (x, y, x + block, y + block))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def category(code="elderly") -> ServiceCategory:
    return ServiceCategory.objects.get_or_create(code=code, defaults={"name": "助老"})[0]


def unsaved_record(
    volunteer, *, start=None, minutes=120, status=RecordStatus.SUBMITTED, **fields
) -> ServiceRecord:
    """A record as the services would leave it, not saved yet (for ``bulk_create``)."""
    start = start or at("2026-11-10", 9)
    fields.setdefault("activity_name", "陪伴独居老人")
    fields.setdefault("place", "桂园社区")
    fields.setdefault("content", "上门陪伴聊天，打扫卫生")
    fields.setdefault("responsible_person", "李明")
    fields.setdefault("source", RecordSource.SELF_REPORTED)
    fields.setdefault("category", category())
    # Recorded an hour after the service: in time, whatever the clock says today.
    fields.setdefault("created_at", start + datetime.timedelta(minutes=minutes + 60))
    record = ServiceRecord(
        volunteer=volunteer,
        started_at=start,
        ended_at=start + datetime.timedelta(minutes=minutes),
        duration_minutes=minutes,
        status=status,
        **fields,
    )
    record.prepare_insert()
    return record


def make_record(volunteer, **fields) -> ServiceRecord:
    """A record as the services would leave it (tests that need a status set it directly)."""
    record = unsaved_record(volunteer, **fields)
    record.save(force_insert=True)
    return record


def join_team(user, team, role=TeamRole.MEMBER):
    return TeamMembership.objects.get_or_create(
        team=team, user=user, defaults={"role": role, "status": TeamMembershipStatus.ACTIVE}
    )[0]
