"""The demo activities: created once, with attendance, a waiting list, a campaign and a plan."""

import io

import pytest

from apps.activities.demo import seed_activities
from apps.activities.models import (
    Activity,
    ActivityPlan,
    Attendance,
    Campaign,
    Signup,
    SignupStatus,
)
from apps.communities.demo import seed_communities_and_teams
from apps.organizations.demo import seed_organizations_and_people
from apps.service_records.models import RecordSource, ServiceRecord

pytestmark = pytest.mark.django_db


def test_seed_activities_is_idempotent():
    seed_organizations_and_people(members=40)
    seed_communities_and_teams()
    out = io.StringIO()
    created = seed_activities(stdout=out)
    assert created["activities"] >= 8 and created["attended"] > 0 and created["waitlisted"] > 0
    assert out.getvalue().startswith("已创建")
    assert ServiceRecord.objects.filter(source=RecordSource.LEADER).count() == 0
    assert ServiceRecord.objects.filter(signup__isnull=False).count() == created["attended"]
    assert Signup.objects.filter(attendance=Attendance.NO_SHOW).exists()
    assert Signup.objects.filter(status=SignupStatus.WAITLISTED).exists()
    campaign = Campaign.objects.get()
    assert (campaign.date.month, campaign.date.day) == (12, 5)
    assert campaign.activities.count() >= 1
    assert ActivityPlan.objects.get().items.count() == 5
    counts = (Activity.objects.count(), Signup.objects.count(), ServiceRecord.objects.count())
    again = seed_activities()
    assert not any(again.values())
    assert (
        Activity.objects.count(),
        Signup.objects.count(),
        ServiceRecord.objects.count(),
    ) == counts
