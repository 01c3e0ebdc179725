"""Two reviewers approve the same record at the same moment: one approval, one ledger entry.

PostgreSQL only, two real connections. The approval locks the record (first line of defence);
the unique posting key makes a second insert a no-op (second line, tested with the locks off).
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.organizations.models import OrganizationKind, RoleKind
from apps.organizations.tests.factories import (
    MembershipFactory,
    OrganizationRoleFactory,
    PartyOrganizationFactory,
)
from apps.points import services
from apps.points.models import PointsEntry, RuleKind
from apps.points.tests.helpers import make_record, rule
from apps.service_records import services as record_services
from apps.service_records.models import RecordStatus, ServiceRecord
from conftest import zh

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(calls):
    """Run the calls in two threads released at the same moment; returns their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait(timeout=5)
            call()
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return outcomes


@pytest.fixture
def setting():
    branch = PartyOrganizationFactory(code="PC", kind=OrganizationKind.BRANCH)
    volunteer = UserFactory(real_name="并发志愿者")
    MembershipFactory(user=volunteer, organization=branch)
    reviewers = []
    for name in ("审核人甲", "审核人乙"):
        reviewer = UserFactory(real_name=name)
        OrganizationRoleFactory(user=reviewer, organization=branch, kind=RoleKind.SECRETARY)
        reviewers.append(reviewer)
    rule(RuleKind.HOUR, 1)
    return volunteer, reviewers


def test_two_reviewers_approving_at_once_post_one_entry(setting):
    volunteer, reviewers = setting
    record = make_record(volunteer, code="environment", status=RecordStatus.SUBMITTED)
    outcomes = _together(
        [
            lambda reviewer=reviewer: record_services.service_record_approve(
                actor=reviewer, record=ServiceRecord.objects.get(pk=record.pk)
            )
            for reviewer in reviewers
        ]
    )
    refused = zh("Only records awaiting review can be approved.")
    assert sorted(outcomes) == sorted(["ok", refused]), outcomes
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.APPROVED
    assert PointsEntry.objects.count() == 1


def test_posting_twice_at_once_posts_once(setting):
    volunteer, _reviewers = setting
    record = make_record(volunteer, code="environment")
    outcomes = _together([lambda: services.points_post_for_record(record=record)] * 2)
    assert outcomes == ["ok", "ok"]
    assert PointsEntry.objects.count() == 1


def test_the_unique_key_holds_without_the_lock(setting, monkeypatch):
    volunteer, _reviewers = setting
    record = make_record(volunteer, code="environment")
    monkeypatch.setattr(services, "_lock_volunteers", lambda ids: None)
    outcomes = _together([lambda: services.points_post_for_record(record=record)] * 2)
    assert outcomes == ["ok", "ok"]
    assert PointsEntry.objects.count() == 1
