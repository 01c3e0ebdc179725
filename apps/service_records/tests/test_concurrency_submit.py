"""Two overlapping records for one volunteer submitted at the same moment: one is refused.

The submit locks the volunteer's row before the recording rules read their other records, so
the second submit waits for the first to commit, then sees its record and is told it overlaps.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.service_records import services
from apps.service_records.models import ServiceRecord
from apps.service_records.tests.helpers import NOW, at, category


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_submits_at_once_save_one(volunteer, monkeypatch):
    checked = services.check_record

    def check_then_linger(**kwargs):
        result = checked(**kwargs)
        time.sleep(0.3)  # both would have passed the rules by now, were they not serialised
        return result

    monkeypatch.setattr(services, "check_record", check_then_linger)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(hour):
        try:
            barrier.wait(timeout=5)
            services.service_record_submit(
                actor=volunteer,
                volunteer=volunteer,
                activity_name="陪伴独居老人",
                category=category(),
                started_at=at("2026-11-12", hour),
                ended_at=at("2026-11-12", hour + 2),
                place="桂园社区",
                content="上门陪伴聊天",
                responsible_person="李明",
                now=NOW,
            )
            outcomes.append("saved")
        except ValidationError as error:
            outcomes.append(sorted(error.message_dict))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(hour,)) for hour in (9, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes, key=str) == [["started_at"], "saved"], outcomes
    assert ServiceRecord.objects.filter(volunteer=volunteer).count() == 1
