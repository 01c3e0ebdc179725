"""The demo's service records: every status, a late entry and a flagged pair; idempotent."""

import io

import pytest
from django.test import TestCase

from apps.communities.demo import seed_communities_and_teams
from apps.core.models import AuditEntry
from apps.organizations.demo import seed_organizations_and_people
from apps.service_records.demo import seed_records
from apps.service_records.models import Evidence, RecordStatus, ServiceRecord

pytestmark = pytest.mark.django_db


def test_seed_records_makes_a_world_worth_reviewing_and_runs_twice_alike():
    seed_organizations_and_people(members=60)
    seed_communities_and_teams()
    out = io.StringIO()
    # The checks against formalism run in tasks queued when the records commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        created = seed_records(stdout=out)
    assert created["records"] >= 8
    assert out.getvalue()
    mine = ServiceRecord.objects.filter(volunteer__username="volunteer")
    statuses = set(mine.values_list("status", flat=True))
    assert statuses == {RecordStatus.APPROVED, RecordStatus.SUBMITTED, RecordStatus.REJECTED}
    assert mine.filter(is_late=True).exclude(late_reason="").count() == 1
    flagged = ServiceRecord.objects.flagged()
    assert flagged.count() == 2
    assert all(r.flags[0]["code"] == "same_photo" for r in flagged)
    assert Evidence.objects.count() == 2
    assert ServiceRecord.objects.filter(source="leader", status=RecordStatus.APPROVED).exists()

    counts = (ServiceRecord.objects.count(), Evidence.objects.count(), AuditEntry.objects.count())
    again = seed_records()
    assert again["records"] == 0
    assert counts == (
        ServiceRecord.objects.count(),
        Evidence.objects.count(),
        AuditEntry.objects.count(),
    )


def test_seed_records_without_the_demo_world_does_nothing():
    assert seed_records()["records"] == 0
