"""Two branch secretaries nominate for the last place of a quota at the same moment: one wins."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.awards.models import Nomination
from apps.awards.nominations import nomination_create
from apps.awards.tests.award_fixtures import DEEDS, nworld  # noqa: F401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_nominations_for_the_last_place_leave_one(nworld):  # noqa: F811
    w = nworld
    w.vcat.min_average_rating = None
    w.vcat.save()
    w.quota.places = 1
    w.quota.save()
    barrier = threading.Barrier(2)
    outcomes = []

    def nominate(volunteer):
        try:
            barrier.wait(timeout=5)
            nomination_create(
                actor=w.cast.branch_secretary,
                assessment_year=w.assessment_year,
                category=w.vcat,
                deeds=DEEDS,
                volunteer=volunteer,
            )
            outcomes.append("nominated")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=nominate, args=(volunteer,))
        for volunteer in (w.cast.volunteer, w.cast.team_leader)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["nominated", "quota_full"], outcomes
    assert Nomination.objects.filter(category=w.vcat).count() == 1
