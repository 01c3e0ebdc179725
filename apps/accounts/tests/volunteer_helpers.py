"""Builders for volunteer tests: valid ID numbers, registration data, a world with profiles."""

import datetime
import itertools

from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import ServiceCategory, VolunteerProfile, VolunteerStatus
from apps.accounts.tests.factories import UserFactory
from apps.accounts.validators import id_number_check_char
from apps.organizations.tests.factories import MembershipFactory

_sequence = itertools.count(101)


def make_id_number(birth: datetime.date, *, male: bool = True) -> str:
    number = (next(_sequence) * 2) % 1000 + (1 if male else 0)
    first17 = f"420106{birth:%Y%m%d}{number:03d}"
    return first17 + id_number_check_char(first17)


def years_ago(years: int, *, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day - datetime.timedelta(days=days)


def registration(user, *, birth: datetime.date | None = None, community=None, **overrides):
    birth = birth or datetime.date(1990, 5, 17)
    categories = list(ServiceCategory.objects.filter(is_active=True)[:2])
    data = {
        "user": user,
        "birth_date": birth,
        "residence_area": "东湖区东湖街道",
        "residence_community": community,
        "skills": "急救",
        "service_category_ids": [c.pk for c in categories],
        "available_times": ["weekend_daytime"],
        "consent": True,
        "gender": "male",
        "id_number": make_id_number(birth),
        "real_name": user.real_name or "张三",
    }
    data.update(overrides)
    return data


def add_profile(user, *, status=VolunteerStatus.ACTIVE, community=None) -> VolunteerProfile:
    profile = services.volunteer_register(**registration(user, community=community))
    if status != VolunteerStatus.PENDING:
        VolunteerProfile.objects.filter(pk=profile.pk).update(status=status)
        profile.refresh_from_db()
    return profile


def extend_world(world):
    """An applicant of the branch living in 桂园社区 (pending) and the volunteer's own profile."""
    applicant = UserFactory(username="applicant", real_name="赵小红")
    MembershipFactory(user=applicant, organization=world.tree.branch)
    world.applicant = applicant
    world.applicant_profile = add_profile(
        applicant, status=VolunteerStatus.PENDING, community=world.community
    )
    world.volunteer_profile = add_profile(world.cast.volunteer, community=world.community)
    world.training = services.training_record_add(
        actor=world.cast.city_admin,
        user=applicant,
        name="急救培训",
        content="心肺复苏",
        hours="2.0",
        organizer="区红十字会",
        held_on=timezone.localdate(),
    )
    return world
