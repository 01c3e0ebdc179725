"""Fixtures for the team tests, shared with the portal's team pages tests."""

import datetime
import itertools
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.accounts.models import VolunteerProfile
from apps.accounts.tests.factories import UserFactory
from apps.teams.models import FamilyGroup, TeamMembership, TeamMembershipStatus, TeamRole

_numbers = itertools.count(1)


def make_profile(user, *, status="active", birth_date=datetime.date(1980, 5, 1)):
    return VolunteerProfile.objects.create(
        user=user,
        volunteer_number=f"V{next(_numbers):09d}",
        birth_date=birth_date,
        residence_area="东湖区",
        consent_at=timezone.now(),
        status=status,
    )


def make_volunteer(*, status="active", birth_date=datetime.date(1980, 5, 1), **kwargs):
    user = UserFactory(**kwargs)
    make_profile(user, status=status, birth_date=birth_date)
    return user


def make_member(team, user=None, *, role=TeamRole.MEMBER, **kwargs):
    user = user or make_volunteer(**kwargs)
    return TeamMembership.objects.create(
        team=team,
        user=user,
        role=role,
        status=TeamMembershipStatus.ACTIVE,
        joined_on=timezone.localdate() - datetime.timedelta(days=30),
    )


@pytest.fixture
def teams_world(world):
    """The shared world, plus the team's people in every state the team pages act on.

    * the volunteer (active registration) has an open invitation to the team;
    * the community staff member is also a plain active member of the team;
    * ``applicant`` has applied; ``member`` is an active member heading a family group;
    * ``candidate`` is an active volunteer in no team (phone 13912345678).
    """
    team = world.team
    make_profile(world.cast.volunteer)
    make_profile(world.cast.community_staff)
    invitation = TeamMembership.objects.create(
        team=team, user=world.cast.volunteer, status=TeamMembershipStatus.INVITED
    )
    staff_membership = make_member(team, world.cast.community_staff)
    applicant = make_volunteer(real_name="申请人")
    application = TeamMembership.objects.create(
        team=team, user=applicant, status=TeamMembershipStatus.APPLIED, message="想参加"
    )
    member_membership = make_member(team, real_name="队员甲")
    family_group = FamilyGroup.objects.create(team=team, name="张家", head=member_membership.user)
    member_membership.family_group = family_group
    member_membership.save()
    leader_membership = TeamMembership.objects.get(team=team, user=world.cast.team_leader)
    candidate = make_volunteer(real_name="候选人", phone="13912345678")
    return SimpleNamespace(
        candidate=candidate,
        **vars(world),
        invitation=invitation,
        staff_membership=staff_membership,
        applicant=applicant,
        application=application,
        member=member_membership.user,
        member_membership=member_membership,
        leader_membership=leader_membership,
        family_group=family_group,
    )
