"""Two reviewers approve the same record at the same moment: it is approved once.

The approval locks the record's row, so the second reviewer waits, then finds it approved and
is told so: one approval, one audit entry, one ``record_approved`` (so points post once).
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from apps.core.models import AuditEntry
from apps.service_records import services, signals
from apps.service_records.models import RecordStatus, ServiceRecord
from conftest import zh


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_approve_once(recworld):
    record_pk = recworld.submitted.pk
    reviewers = [recworld.cast.team_leader, recworld.cast.branch_secretary]
    barrier = threading.Barrier(len(reviewers))
    outcomes, sent = [], []

    def on_approved(sender, record, actor, **kwargs):
        sent.append((record.pk, actor.pk))

    def approve(reviewer):
        try:
            record = ServiceRecord.objects.get(pk=record_pk)
            barrier.wait(timeout=5)
            with translation.override("zh-hans"):
                services.service_record_approve(actor=reviewer, record=record)
            outcomes.append("approved")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    signals.record_approved.connect(on_approved, dispatch_uid="concurrency-test")
    try:
        threads = [threading.Thread(target=approve, args=(r,)) for r in reviewers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        signals.record_approved.disconnect(dispatch_uid="concurrency-test")

    assert sorted(outcomes) == sorted(
        ["approved", zh("Only records awaiting review can be approved.")]
    ), outcomes
    record = ServiceRecord.objects.get(pk=record_pk)
    assert record.status == RecordStatus.APPROVED
    assert record.reviewed_by_id in {r.pk for r in reviewers}
    assert (
        AuditEntry.objects.filter(action="service_record.approve", target_id=str(record_pk)).count()
        == 1
    )
    assert sent == [(record_pk, record.reviewed_by_id)]
