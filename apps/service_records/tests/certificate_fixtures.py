"""Records and certificates in every status, for the certificate tests and permission matrices.

Import the fixture into a test module::

    from apps.service_records.tests.certificate_fixtures import cworld  # noqa: F401

The volunteer (a registered volunteer of the branch) has approved service organised by the
branch's team in January and February 2025; the branch has issuer details; certificates exist
as requested (Jan), issued (Feb), rejected and revoked. All personal values are fictional.
"""

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest

from apps.accounts.models import ServiceCategory
from apps.service_records.models import (
    Certificate,
    CertificateStatus,
    IssuerProfile,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.teams.tests.fixtures import make_profile

SHANGHAI = ZoneInfo("Asia/Shanghai")
JAN = (datetime.date(2025, 1, 1), datetime.date(2025, 1, 31))
FEB = (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28))
MAR = (datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
ISSUE_DAY = datetime.date(2025, 4, 1)
_numbers = itertools.count(1)


NAMES = {"elderly": "助老", "environment": "环境保护"}


def category(code="elderly"):
    # The categories come from a data migration; created here too for --nomigrations runs.
    return ServiceCategory.objects.get_or_create(code=code, defaults={"name": NAMES[code]})[0]


def make_record(
    volunteer,
    day: datetime.date,
    *,
    hours=2,
    team=None,
    organization=None,
    status=RecordStatus.APPROVED,
    activity_name="敬老院陪伴",
    category_code="elderly",
):
    started = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=SHANGHAI)
    return ServiceRecord.objects.create(
        volunteer=volunteer,
        activity_name=activity_name,
        category=category(category_code),
        started_at=started,
        ended_at=started + datetime.timedelta(hours=hours),
        duration_minutes=int(hours * 60),
        place="桂园社区活动室",
        content=f"{activity_name}（虚构）",
        organization=organization or (team.organization if team else None),
        responsible_person="李明",
        team=team,
        source=RecordSource.LEADER,
        status=status,
    )


def make_certificate(volunteer, issuer, period, *, status=CertificateStatus.REQUESTED, **fields):
    """A certificate as the services would leave it (tests set the status directly)."""
    if status in (CertificateStatus.ISSUED, CertificateStatus.REVOKED):
        fields.setdefault("number", f"TEST-2025-{next(_numbers):06d}")
        fields.setdefault("volunteer_name", volunteer.get_full_name())
        fields.setdefault("hours", 4)
        fields.setdefault("record_count", 2)
        fields.setdefault("issuer_name", issuer.name)
        fields.setdefault("issued_on", ISSUE_DAY)
    return Certificate.objects.create(
        volunteer=volunteer,
        issuer=issuer,
        period_start=period[0],
        period_end=period[1],
        status=status,
        **fields,
    )


def issuer_profile(organization):
    return IssuerProfile.objects.create(
        organization=organization, person_in_charge="陈志强", contact="027-8888 0000（虚构）"
    )


@pytest.fixture
def cworld(world):
    cast = world.cast
    make_profile(cast.volunteer)
    for day in (datetime.date(2025, 1, 10), datetime.date(2025, 1, 20)):
        make_record(cast.volunteer, day, team=world.team)
    make_record(
        cast.volunteer,
        datetime.date(2025, 2, 8),
        hours=1.5,
        team=world.team,
        activity_name="河道清理",
        category_code="environment",
    )
    make_record(cast.volunteer, datetime.date(2025, 3, 8), team=world.team)
    profile = issuer_profile(world.tree.branch)
    world.profile = profile
    world.requested = make_certificate(cast.volunteer, world.tree.branch, JAN)
    world.issued = make_certificate(
        cast.volunteer, world.tree.branch, FEB, status=CertificateStatus.ISSUED
    )
    world.rejected = make_certificate(
        cast.volunteer,
        world.tree.branch,
        MAR,
        status=CertificateStatus.REJECTED,
        rejection_reason="时段有误",
    )
    world.revoked = make_certificate(
        cast.volunteer,
        world.tree.branch,
        (datetime.date(2025, 1, 1), datetime.date(2025, 2, 28)),
        status=CertificateStatus.REVOKED,
        revoked_at=datetime.datetime(2025, 4, 10, 10, 0, tzinfo=SHANGHAI),
        revoke_reason="记录被撤销",
    )
    return world
