"""Submit with photos, corrections, review, reopening and revoking."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.signals import pre_save
from django.utils import translation

from apps.core.models import AuditEntry
from apps.service_records import services, signals
from apps.service_records.models import (
    Evidence,
    QueuedCheck,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.service_records.tests.helpers import NOW, at, category, make_record, photo
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def received():
    events = []

    def approved(sender, record, actor, **kwargs):
        events.append(("approved", record.pk, actor.pk))

    def unapproved(sender, record, actor, reason, **kwargs):
        events.append(("unapproved", record.pk, reason))

    signals.record_approved.connect(approved, dispatch_uid="test-approved")
    signals.record_unapproved.connect(unapproved, dispatch_uid="test-unapproved")
    yield events
    signals.record_approved.disconnect(dispatch_uid="test-approved")
    signals.record_unapproved.disconnect(dispatch_uid="test-unapproved")


def submit(volunteer, **fields):
    fields.setdefault("activity_name", "陪伴独居老人")
    fields.setdefault("category", category())
    fields.setdefault("started_at", at("2026-11-12", 9))
    fields.setdefault("ended_at", at("2026-11-12", 11))
    fields.setdefault("place", "桂园社区")
    fields.setdefault("content", "上门陪伴聊天")
    fields.setdefault("responsible_person", "李明")
    return services.service_record_submit(actor=volunteer, volunteer=volunteer, now=NOW, **fields)


def _state():
    return (ServiceRecord.objects.count(), Evidence.objects.count(), AuditEntry.objects.count())


# The record and its audit entry -----------------------------------------------------------------


def test_a_submitted_record_holds_the_rows_it_was_given(volunteer, django_assert_num_queries):
    """Built by key (``services._new_record``), the record still keeps the rows it was given,
    as ``ServiceRecord(volunteer=..., ...)`` would: reading them costs no query."""
    given = category()
    record = submit(volunteer, category=given)
    with django_assert_num_queries(0):
        assert record.volunteer is volunteer and record.volunteer_id == volunteer.pk
        assert record.category is given and record.category_id == given.pk
        assert record.submitted_by is volunteer
        assert record.team is None and record.activity is None
    stored = ServiceRecord.objects.get(pk=record.pk)
    assert (stored.volunteer_id, stored.category_id, stored.submitted_by_id) == (
        volunteer.pk,
        given.pk,
        volunteer.pk,
    )


def test_a_record_saved_through_the_orm_is_queued_for_its_checks_too(volunteer):
    """Where one statement would not do (a receiver of the record's ``pre_save`` here),
    ``save()`` writes the record and the queue row is saved after it, in the same transaction."""
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append(instance.activity_name)

    pre_save.connect(receiver, sender=ServiceRecord, dispatch_uid="test-queued-check")
    try:
        record = submit(volunteer)
    finally:
        pre_save.disconnect(sender=ServiceRecord, dispatch_uid="test-queued-check")
    assert heard == [record.activity_name]
    assert QueuedCheck.objects.filter(record=record).exists()
    assert AuditEntry.objects.filter(
        action="service_record.submit", target_id=str(record.pk)
    ).exists()


def test_a_submit_writes_the_record_and_its_audit_entry_together(volunteer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        record = submit(volunteer)
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"].upper()]
    # One statement on PostgreSQL (``core.inserts``); the ORM's three elsewhere (the record,
    # its audit entry, its place in the queue for the checks against formalism).
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 3)
    stored = ServiceRecord.objects.get(pk=record.pk)
    assert stored.service_date.isoformat() == "2026-11-12"  # the model's own save logic
    assert record.service_date == stored.service_date
    # The columns the database fills are read back, not left as placeholders.
    assert (record.ratings_count, record.rating_stars_total) == (0, 0)
    assert stored.created_at == NOW
    assert QueuedCheck.objects.filter(record=stored).exists()  # waiting for its checks
    entry = AuditEntry.objects.get(action="service_record.submit", target_id=str(record.pk))
    assert entry.actor == volunteer
    assert entry.target_repr == str(stored)
    assert entry.details == {"source": "self_reported", "late": False, "minutes": 120, "photos": 0}


def test_before_commit_runs_in_the_records_transaction_once_it_is_written(volunteer):
    from django.db import connection

    seen = []

    def before_commit(record):
        seen.append(
            (connection.in_atomic_block, ServiceRecord.objects.filter(pk=record.pk).exists())
        )

    record = submit(volunteer, before_commit=before_commit)
    assert seen == [(True, True)]
    assert ServiceRecord.objects.filter(pk=record.pk).exists()


def test_a_failing_before_commit_leaves_nothing_saved(volunteer):
    before = _state()

    class Interrupted(Exception):
        pass

    def before_commit(record):
        raise Interrupted

    with pytest.raises(Interrupted):
        submit(volunteer, before_commit=before_commit)
    assert _state() == before


def test_a_refused_submit_never_calls_before_commit(volunteer):
    submit(volunteer)
    called = []
    with pytest.raises(ValidationError) as refused:
        submit(volunteer, before_commit=called.append)  # the same hours again: an overlap
    assert "started_at" in refused.value.message_dict
    assert called == []


@pytest.mark.postgres
def test_a_submit_runs_its_statements_prepared_once_per_connection(volunteer, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.core import prepared

    settings.DATABASE_PREPARED_STATEMENTS = True
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    prepared._prepared.pop(connection.connection, None)
    with CaptureQueriesContext(connection) as first:
        submit(volunteer)
    with CaptureQueriesContext(connection) as second:
        record = submit(volunteer, started_at=at("2026-11-13", 9), ended_at=at("2026-11-13", 10))
    # The lock, the rules' read and the insert: prepared the first time, by name the second,
    # the lock and the read in one message.
    assert sum(q["sql"].startswith("PREPARE ") for q in first.captured_queries) == 3
    statements = [q["sql"] for q in second.captured_queries]
    assert not any(s.startswith("PREPARE ") or "INSERT" in s for s in statements)
    executed = [s for s in statements if s.startswith("EXECUTE vp_statement_")]
    assert [s.count("EXECUTE vp_statement_") for s in executed] == [2, 1]
    stored = ServiceRecord.objects.get(pk=record.pk)
    assert stored.service_date.isoformat() == "2026-11-13"
    assert (record.ratings_count, record.rating_stars_total, stored.duration_minutes) == (0, 0, 60)
    assert stored.created_at == NOW
    assert QueuedCheck.objects.filter(record=stored).exists()  # waiting for its checks
    entry = AuditEntry.objects.get(action="service_record.submit", target_id=str(record.pk))
    assert entry.actor == volunteer
    assert entry.details == {"source": "self_reported", "late": False, "minutes": 60, "photos": 0}


# Photos on submit --------------------------------------------------------------------------------


def test_submit_stores_photos_with_their_hash_and_size(volunteer):
    record = submit(volunteer, photos=[photo("a.png", seed=1), photo("b.jpg", seed=2, fmt="JPEG")])
    stored = list(record.evidence.all())
    assert len(stored) == 2
    for evidence in stored:
        assert len(evidence.phash) == 16
        int(evidence.phash, 16)
        assert (evidence.width, evidence.height) == (64, 64)
        assert evidence.uploaded_by == volunteer
    assert stored[0].phash != stored[1].phash


def test_a_bad_photo_refuses_the_whole_submission(volunteer):
    before = _state()
    with pytest.raises(ValidationError) as caught:
        submit(volunteer, photos=[photo(seed=1), _text_file()])
    assert _state() == before
    assert caught.value.message_dict["photos"] == [
        zh("“%(name)s” is not a photo: upload JPEG or PNG images.") % {"name": "notes.png"}
    ]


def _text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("notes.png", b"this is not an image", content_type="image/png")


# Corrections -------------------------------------------------------------------------------------


def test_the_volunteer_corrects_a_rejected_record(recworld):
    record = recworld.rejected
    updated = services.service_record_update(
        actor=recworld.cast.volunteer,
        record=record,
        started_at=at("2026-11-04", 14),
        ended_at=at("2026-11-04", 15, 30),
        content="下午上门陪伴",
        now=NOW,
    )
    assert updated.status == RecordStatus.SUBMITTED
    assert updated.duration_minutes == 90
    entry = AuditEntry.objects.get(action="service_record.update")
    assert entry.details["previous_status"] == RecordStatus.REJECTED
    assert set(entry.details["fields"]) >= {"started_at", "ended_at", "content"}


def test_a_correction_is_checked_against_the_other_records_but_not_itself(recworld):
    volunteer = recworld.cast.volunteer
    record = recworld.submitted  # 2026-11-02 09:00–11:00
    updated = services.service_record_update(
        actor=volunteer, record=record, ended_at=at("2026-11-02", 10, 30), now=NOW
    )
    assert updated.duration_minutes == 90
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_update(
            actor=volunteer,
            record=record,
            started_at=at("2026-11-03", 10),
            ended_at=at("2026-11-03", 12),
            now=NOW,
        )
    assert _state() == before
    assert "started_at" in caught.value.message_dict  # overlaps the approved record


def test_a_correction_keeps_the_first_submissions_deadline(volunteer):
    record = submit(volunteer, started_at=at("2026-11-02", 9), ended_at=at("2026-11-02", 11))
    later = at("2026-11-30", 9)
    updated = services.service_record_update(
        actor=volunteer, record=record, content="上门陪伴聊天，读报", now=later
    )
    assert not updated.is_late


def test_approved_records_are_locked(recworld):
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_update(
            actor=recworld.cast.volunteer, record=recworld.approved, content="改一改", now=NOW
        )
    assert _state() == before
    assert caught.value.messages == [
        zh(
            "This record has been approved and is locked. Ask a reviewer to reopen it, "
            "with a reason, if it needs correcting."
        )
    ]


def test_someone_else_may_not_correct_a_record(recworld):
    for actor in (recworld.cast.team_leader, recworld.cast.branch_secretary):
        with pytest.raises(PermissionDenied):
            services.service_record_update(
                actor=actor, record=recworld.submitted, content="改一改", now=NOW
            )


def test_whoever_entered_a_record_may_correct_it(recworld):
    record = recworld.submitted
    record.submitted_by = recworld.cast.team_leader
    record.save()
    updated = services.service_record_update(
        actor=recworld.cast.team_leader, record=record, place="桂园社区活动室", now=NOW
    )
    assert updated.place == "桂园社区活动室"


def test_a_correction_is_refused_with_field_messages(recworld):
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_update(
            actor=recworld.cast.volunteer, record=recworld.submitted, place=" ", now=NOW
        )
    assert _state() == before
    assert caught.value.message_dict == {"place": [zh("Give the place.")]}


# Review ------------------------------------------------------------------------------------------


def test_the_team_leader_approves(recworld, received):
    record = services.service_record_approve(
        actor=recworld.cast.team_leader, record=recworld.submitted
    )
    assert record.status == RecordStatus.APPROVED
    assert record.reviewed_by == recworld.cast.team_leader
    assert received == [("approved", record.pk, recworld.cast.team_leader.pk)]
    assert AuditEntry.objects.filter(action="service_record.approve").count() == 1


def test_nobody_approves_their_own_record(recworld, received):
    leader = recworld.cast.team_leader
    own = make_record(leader, start=at("2026-11-05", 9), team=recworld.team)
    with pytest.raises(PermissionDenied) as caught:
        services.service_record_approve(actor=leader, record=own)
    assert str(caught.value) == zh("Nobody reviews their own record.")
    own.refresh_from_db()
    assert own.status == RecordStatus.SUBMITTED
    assert received == []
    assert not ServiceRecord.objects.manageable_by(leader).filter(pk=own.pk).exists()


def test_the_city_admin_does_not_approve_their_own_either(recworld):
    admin = recworld.cast.city_admin
    own = make_record(admin, start=at("2026-11-05", 9))
    with pytest.raises(PermissionDenied):
        services.service_record_approve(actor=admin, record=own)


def test_reviewers_outside_the_scope_are_refused(recworld):
    for actor in (recworld.cast.other_branch_secretary, recworld.cast.inspector):
        with pytest.raises(PermissionDenied):
            services.service_record_approve(actor=actor, record=recworld.submitted)


def test_approving_twice_is_refused(recworld, received):
    services.service_record_approve(actor=recworld.cast.team_leader, record=recworld.submitted)
    with pytest.raises(ValidationError) as caught:
        services.service_record_approve(
            actor=recworld.cast.branch_secretary, record=recworld.submitted
        )
    assert caught.value.messages == [zh("Only records awaiting review can be approved.")]
    assert len(received) == 1


def test_rejecting_needs_a_reason(recworld):
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_reject(
            actor=recworld.cast.team_leader, record=recworld.submitted, reason="  "
        )
    assert _state() == before
    assert caught.value.message_dict["reason"] == [zh("Say why the record is rejected.")]
    record = services.service_record_reject(
        actor=recworld.cast.team_leader, record=recworld.submitted, reason="时长与活动不符"
    )
    assert record.status == RecordStatus.REJECTED
    assert record.review_note == "时长与活动不符"


def test_bulk_approve_reports_what_it_refused(recworld):
    leader = recworld.cast.team_leader
    own = make_record(leader, start=at("2026-11-06", 9), team=recworld.team)
    approved, refused = services.service_record_bulk_approve(
        actor=leader, records=[recworld.submitted, recworld.approved, own]
    )
    assert approved == 1
    assert [(r.pk, m) for r, m in refused] == [
        (recworld.approved.pk, zh("Only records awaiting review can be approved.")),
        (own.pk, zh("Nobody reviews their own record.")),
    ]


def test_reopening_needs_a_reason_and_leaves_an_audit_entry(recworld, received):
    secretary = recworld.cast.branch_secretary
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.service_record_reopen(actor=secretary, record=recworld.approved, reason="")
    assert _state() == before
    assert caught.value.message_dict["reason"] == [zh("Say why the approved record is reopened.")]
    record = services.service_record_reopen(
        actor=secretary, record=recworld.approved, reason="服务对象反映时长有误"
    )
    assert record.status == RecordStatus.SUBMITTED
    entry = AuditEntry.objects.get(action="service_record.reopen")
    assert entry.actor == secretary
    assert entry.details == {
        "reason": "服务对象反映时长有误",
        "approved_by": recworld.cast.team_leader.pk,
    }
    assert received == [("unapproved", record.pk, "服务对象反映时长有误")]
    # Reopened, the volunteer may correct it.
    services.service_record_update(
        actor=recworld.cast.volunteer, record=record, duration_minutes=60, now=NOW
    )


def test_only_approved_records_are_reopened(recworld):
    with pytest.raises(ValidationError) as caught:
        services.service_record_reopen(
            actor=recworld.cast.team_leader, record=recworld.submitted, reason="再看看"
        )
    assert caught.value.messages == [zh("Only approved records can be reopened.")]


def test_revoking_an_approved_record_stops_it_counting(recworld, received):
    record = services.service_record_revoke(
        actor=recworld.cast.branch_secretary, record=recworld.approved, reason="查实未参加"
    )
    assert record.status == RecordStatus.REVOKED
    assert received == [("unapproved", record.pk, "查实未参加")]
    with pytest.raises(ValidationError) as caught:
        services.service_record_update(
            actor=recworld.cast.volunteer, record=record, content="x", now=NOW
        )
    assert caught.value.messages == [
        zh("This record has been revoked and can no longer be changed.")
    ]


def test_revoking_needs_a_reason(recworld):
    with pytest.raises(ValidationError) as caught:
        services.service_record_revoke(
            actor=recworld.cast.branch_secretary, record=recworld.approved, reason=""
        )
    assert caught.value.message_dict["reason"] == [zh("Say why the record is revoked.")]


# Check-in and check-out ---------------------------------------------------------------------


def _attended(volunteer, tree, checked_in, checked_out):
    from apps.activities.models import Activity, Attendance, Signup

    activity = Activity.objects.create(
        title="重阳敬老",
        category=category(),
        organization=tree.branch,
        starts_at=at("2026-11-12", 9),
        ends_at=at("2026-11-12", 11),
        place="桂园社区",
        capacity=10,
        description="陪老人过节",
    )
    return Signup.objects.create(
        activity=activity,
        volunteer=volunteer,
        attendance=Attendance.ATTENDED,
        checked_in_at=checked_in,
        checked_out_at=checked_out,
    )


def test_completed_attendance_becomes_a_record_once(volunteer, tree):
    from apps.activities.models import Signup
    from apps.activities.signals import attendance_completed

    signup = _attended(volunteer, tree, at("2026-11-12", 8, 55), at("2026-11-12", 11))
    attendance_completed.send(sender=Signup, signup=signup, actor=volunteer)
    attendance_completed.send(sender=Signup, signup=signup, actor=volunteer)
    record = ServiceRecord.objects.get()
    assert record.signup == signup
    assert record.activity == signup.activity
    assert record.organization == tree.branch
    assert record.source == "check_in"
    assert record.duration_minutes == 125
    assert record.flags == []


def test_attendance_overlapping_a_record_is_refused(volunteer, tree):
    from apps.activities.models import Signup
    from apps.activities.signals import attendance_completed

    make_record(volunteer, start=at("2026-11-12", 10))
    signup = _attended(volunteer, tree, at("2026-11-12", 9), at("2026-11-12", 11))
    with pytest.raises(ValidationError) as caught:
        attendance_completed.send(sender=Signup, signup=signup, actor=volunteer)
    assert "started_at" in caught.value.message_dict
    assert ServiceRecord.objects.count() == 1


# The team of a record volunteers log themselves --------------------------------------------------


def test_a_volunteer_logs_service_for_their_team_given_by_id_only(recworld):
    w = recworld
    record = submit(
        w.cast.volunteer,
        team=Team(pk=w.team.pk),
        started_at=at("2026-11-12", 14),
        ended_at=at("2026-11-12", 15),
    )
    assert record.team.name == w.team.name  # the record's team, not the bare one given
    record.refresh_from_db()
    assert record.team == w.team
    assert record.organization == w.team.organization  # the statement that checked it told


@pytest.mark.parametrize("case", ["not a member", "left", "team deactivated", "no such team"])
def test_a_volunteer_may_not_log_service_for_a_team_they_do_not_serve_in(recworld, case):
    w = recworld
    team = w.team
    if case == "not a member":
        team = Team.objects.create(organization=w.team.organization, name="别的服务队")
    elif case == "left":
        TeamMembership.objects.filter(team=w.team, user=w.cast.volunteer).update(
            status=TeamMembershipStatus.LEFT
        )
    elif case == "team deactivated":
        Team.objects.filter(pk=w.team.pk).update(is_active=False)
    else:
        team = Team(pk=987654)
    before = _state()
    with pytest.raises(ValidationError) as refused:
        submit(
            w.cast.volunteer,
            team=team,
            started_at=at("2026-11-12", 14),
            ended_at=at("2026-11-12", 15),
        )
    errors = refused.value.error_dict["team"]
    assert [error.code for error in errors] == ["invalid_choice"]
    assert zh("You can log service only for an active team you are an active member of.") in (
        errors[0].messages
    )
    assert _state() == before


def test_a_leader_entry_is_not_held_to_the_volunteers_own_teams(recworld):
    """Records entered by a leader or made by check-in follow the activity's or the leader's
    team; the rule is for what volunteers log themselves."""
    w = recworld
    other = Team.objects.create(organization=w.team.organization, name="别的服务队")
    record = submit(
        w.cast.volunteer,
        team=other,
        source=RecordSource.LEADER,
        started_at=at("2026-11-12", 14),
        ended_at=at("2026-11-12", 15),
    )
    assert record.team == other and record.organization_id == other.organization_id
