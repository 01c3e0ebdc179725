"""Evaluations by those served: once per record and kind of rater, 1–5 stars, short comments,
only for services that stand; an activity's link rates every record of it not yet rated."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from apps.core.models import AuditEntry
from apps.portal.tests.test_records_permissions import make_record, recworld  # noqa: F401
from apps.service_records.evaluations import (
    activity_evaluation_submit,
    evaluation_submit,
    rater_kind_for,
)
from apps.service_records.models import Evaluation, RaterKind, RecordStatus, ServiceRecord
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(recworld):  # noqa: F811
    return recworld


def messages_of(error: ValidationError) -> list[str]:
    return error.messages


def test_a_resident_rates_a_record_once(w):
    evaluation = evaluation_submit(
        record=w.submitted, stars=5, comment=" 很耐心 ", rater_kind=RaterKind.RESIDENT
    )
    assert (evaluation.stars, evaluation.comment, evaluation.rated_by) == (5, "很耐心", None)
    assert AuditEntry.objects.filter(action="evaluation.submit").count() == 1
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        evaluation_submit(record=w.submitted, stars=1, comment="", rater_kind=RaterKind.RESIDENT)
    assert messages_of(refused.value) == [zh("This service has already been rated.")]
    assert list(Evaluation.objects.values_list("stars", flat=True)) == [5]


def test_the_constraint_is_the_last_word_when_two_rate_at_once(w, monkeypatch):
    """If the check passed for both, the unique constraint refuses the second one clearly."""
    evaluation_submit(record=w.submitted, stars=4, comment="", rater_kind=RaterKind.RESIDENT)
    from apps.service_records import evaluations

    class Nothing:
        def exists(self):
            return False

    real = Evaluation.objects.filter
    monkeypatch.setattr(
        Evaluation.objects,
        "filter",
        lambda *a, **k: Nothing() if "rater_kind" in k else real(*a, **k),
    )
    with pytest.raises(ValidationError) as refused:
        evaluations.evaluation_submit(
            record=w.submitted, stars=2, comment="", rater_kind=RaterKind.RESIDENT
        )
    assert refused.value.code == "already_rated"
    assert Evaluation.objects.count() == 1


@pytest.mark.parametrize("stars", [0, 6, -1, "x", None])
def test_stars_outside_one_to_five_are_refused(w, stars):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        evaluation_submit(record=w.submitted, stars=stars, comment="", rater_kind="resident")
    assert refused.value.message_dict["stars"] == [zh("Choose between 1 and 5 stars.")]
    assert not Evaluation.objects.exists()


def test_a_long_comment_is_refused(w):
    with pytest.raises(ValidationError) as refused:
        evaluation_submit(record=w.submitted, stars=3, comment="好" * 501, rater_kind="resident")
    assert "comment" in refused.value.message_dict
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("status", [RecordStatus.REJECTED, RecordStatus.REVOKED])
def test_only_records_that_stand_can_be_rated(w, status):
    ServiceRecord.objects.filter(pk=w.submitted.pk).update(status=status)
    with pytest.raises(ValidationError) as refused:
        evaluation_submit(record=w.submitted, stars=3, comment="", rater_kind="resident")
    assert refused.value.code == "not_rateable"
    assert not Evaluation.objects.exists()


def test_an_approved_record_can_be_rated(w):
    evaluation_submit(record=w.approved, stars=3, comment="", rater_kind="resident")
    assert w.approved.evaluations.count() == 1


def test_community_staff_rate_once_more_as_staff(w):
    staff = w.cast.community_staff
    assert rater_kind_for(staff, w.submitted) == RaterKind.COMMUNITY_STAFF
    assert rater_kind_for(w.cast.outsider, w.submitted) == RaterKind.RESIDENT
    evaluation_submit(record=w.submitted, stars=5, comment="", rater_kind="resident")
    evaluation_submit(
        record=w.submitted, stars=4, comment="", rater_kind="community_staff", rated_by=staff
    )
    assert set(w.submitted.evaluations.values_list("rater_kind", flat=True)) == {
        "resident",
        "community_staff",
    }


def test_only_the_communitys_staff_rate_as_staff(w):
    with pytest.raises(PermissionDenied):
        evaluation_submit(
            record=w.submitted,
            stars=5,
            comment="",
            rater_kind="community_staff",
            rated_by=w.cast.branch_secretary,
        )
    assert not Evaluation.objects.exists()


def test_nobody_rates_their_own_service(w):
    with pytest.raises(ValidationError) as refused:
        evaluation_submit(
            record=w.submitted,
            stars=5,
            comment="",
            rater_kind="resident",
            rated_by=w.cast.volunteer,
        )
    assert refused.value.code == "own_record"
    assert not Evaluation.objects.exists()


def test_an_activity_link_rates_every_record_not_yet_rated(w):
    other = make_record(w.cast.team_leader, day=w.activity_record.service_date, activity=w.activity)
    evaluation_submit(record=other, stars=2, comment="", rater_kind="resident")
    assert activity_evaluation_submit(activity=w.activity, stars=5, comment="好") == 1
    assert w.activity_record.evaluations.get().stars == 5
    assert other.evaluations.get().stars == 2
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        activity_evaluation_submit(activity=w.activity, stars=5, comment="")
    assert refused.value.messages == [
        zh("There is no service of this activity left to rate: it has already been rated.")
    ]
    assert Evaluation.objects.count() == 2


def test_an_activity_without_records_says_so(w):
    ServiceRecord.objects.filter(activity=w.activity).update(activity=None)
    with pytest.raises(ValidationError) as refused:
        activity_evaluation_submit(activity=w.activity, stars=5, comment="")
    assert refused.value.code == "nothing_to_rate"
    assert not Evaluation.objects.exists()


def test_an_activity_rating_with_bad_stars_saves_nothing(w):
    with pytest.raises(ValidationError):
        activity_evaluation_submit(activity=w.activity, stars=9, comment="")
    assert not Evaluation.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_residents_rating_at_once_rate_once(recworld):  # noqa: F811
    import threading

    from django.db import close_old_connections

    record = recworld.submitted
    results = []
    barrier = threading.Barrier(2)

    def rate(stars):
        try:
            barrier.wait()
            evaluation_submit(record=record, stars=stars, comment="", rater_kind="resident")
            results.append("ok")
        except ValidationError as error:
            results.append(error.code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=rate, args=(n,)) for n in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["already_rated", "ok"]
    assert Evaluation.objects.filter(record=record).count() == 1
