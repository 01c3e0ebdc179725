"""Requests in every status, for the request tests and permission matrices.

Import the fixture into a test module::

    from apps.care.tests.request_fixtures import rworld  # noqa: F401
"""

import datetime
import io
import itertools
import secrets
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.models import ServiceCategory
from apps.care.models import RequestDeadline, RequestKind, RequestStatus, ServiceRequest
from apps.communities.models import TeamPairing
from apps.core.crypto import blind_index
from apps.teams.models import TeamMembership, TeamMembershipStatus, TeamRole
from apps.teams.tests.fixtures import make_profile

_numbers = itertools.count(1)
RESIDENT_PHONE = "13912345678"


def make_request(community, *, status=RequestStatus.SUBMITTED, **fields):
    """A request as the services would leave it (tests set the status directly)."""
    fields.setdefault("channel", "web")
    fields.setdefault("title", "帮忙修理水龙头")
    fields.setdefault("requester_name", "虚构居民")
    fields.setdefault("requester_phone", RESIDENT_PHONE)
    fields.setdefault("requester_address", "桂园路虚构9号")
    fields["requester_phone_hash"] = blind_index(fields["requester_phone"])
    return ServiceRequest.objects.create(
        tracking_number=f"XY20260101{next(_numbers):06d}",
        rating_token=secrets.token_urlsafe(32),
        community=community,
        status=status,
        **fields,
    )


def png(name="photo.png", size=(4, 4), color=(200, 30, 30)) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def rworld(world):
    """The shared world plus the team paired with 桂园社区 and a request in each status.

    The volunteer is an active registered volunteer and a member of the team; the in-progress
    and done requests are theirs.
    """
    cast = world.cast
    community = world.community
    team_pairing = TeamPairing.objects.create(team=world.team, community=community)
    make_profile(cast.volunteer)
    TeamMembership.objects.create(
        team=world.team,
        user=cast.volunteer,
        role=TeamRole.MEMBER,
        status=TeamMembershipStatus.ACTIVE,
    )
    today = timezone.localdate()
    deadline = today + datetime.timedelta(days=7)
    category = ServiceCategory.objects.order_by("pk").first()
    request_deadline = (
        RequestDeadline.objects.create(service_category=category, days=3) if category else None
    )
    return SimpleNamespace(
        **vars(world),
        team_pairing=team_pairing,
        category=category,
        request_deadline=request_deadline,
        submitted=make_request(community, kind=RequestKind.MICRO_WISH),
        accepted=make_request(community, status=RequestStatus.ACCEPTED, deadline=deadline),
        dispatched=make_request(
            community,
            status=RequestStatus.DISPATCHED,
            deadline=deadline,
            dispatched_team=world.team,
        ),
        open_request=make_request(
            community, status=RequestStatus.OPEN, deadline=deadline, kind=RequestKind.MICRO_WISH
        ),
        in_progress=make_request(
            community,
            status=RequestStatus.IN_PROGRESS,
            deadline=deadline,
            assigned_volunteer=cast.volunteer,
        ),
        done=make_request(
            community,
            status=RequestStatus.DONE,
            deadline=deadline,
            assigned_volunteer=cast.volunteer,
            completed_at=timezone.now(),
            completion_note="已修好",
        ),
        other_request=make_request(world.other_community, requester_phone="13700000001"),
    )
