"""Checks against formalism: flags with reasons the reviewer reads; they never block a record."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from apps.activities.models import Activity, Attendance, Signup
from apps.care.models import CareRecipient
from apps.core.models import AuditEntry
from apps.service_records import checks, services, tasks
from apps.service_records.evidence import evidence_add, validate_photos
from apps.service_records.models import Evidence, RecordStatus, ServiceRecord
from apps.service_records.tests.helpers import NOW, at, category, join_team, make_record, photo
from apps.teams.tests.fixtures import make_volunteer
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def recipient(community):
    return CareRecipient.objects.create(name="测试老人甲", community=community)


def after_commit():
    """The submit's checks run in a task once its transaction commits: run them as the commit
    would (the task runs eagerly in tests), so a test reads the flags a reviewer later reads."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def submit(volunteer, **fields):
    fields.setdefault("activity_name", "陪伴独居老人")
    fields.setdefault("category", category())
    fields.setdefault("started_at", at("2026-11-12", 9))
    fields.setdefault("ended_at", at("2026-11-12", 10))
    fields.setdefault("place", "桂园社区")
    fields.setdefault("content", "上门陪伴聊天")
    fields.setdefault("responsible_person", "李明")
    with after_commit():
        record = services.service_record_submit(
            actor=volunteer, volunteer=volunteer, now=NOW, **fields
        )
    record.refresh_from_db()
    return record


def codes(record):
    record.refresh_from_db()
    return [flag["code"] for flag in record.flags]


def test_content_fingerprint_ignores_spacing_punctuation_and_numbers():
    fp = checks.content_fingerprint
    assert fp("为3位老人理发。") == fp("为 5 位老人理发") == fp("为十位老人理发!".replace("十", ""))
    assert fp("为老人理发") != fp("为老人读报")
    assert fp("  。 ") == ""


def test_hamming_distance():
    assert checks.hamming("0000000000000000", "0000000000000000") == 0
    assert checks.hamming("0000000000000000", "000000000000000f") == 4
    assert checks.hamming("ffffffffffffffff", "0000000000000000") == 64


def test_a_clean_record_has_no_flags(volunteer):
    assert submit(volunteer).flags == []


def test_the_same_person_served_too_often_in_a_day(volunteer, recipient):
    for hour in (8, 10):
        make_record(volunteer, start=at("2026-11-12", hour), minutes=30, care_recipient=recipient)
    record = submit(
        volunteer,
        started_at=at("2026-11-12", 14),
        ended_at=at("2026-11-12", 15),
        care_recipient=recipient,
    )
    assert record.flags == [
        {
            "code": "recipient_per_day",
            "params": {"count": 3, "day": "2026-11-12", "limit": 2},
            "reason": zh(
                "The same person served has %(count)d records on %(day)s; more than "
                "%(limit)d a day is unusual."
            )
            % {"count": 3, "day": "2026-11-12", "limit": 2},
        }
    ]
    assert record.status == RecordStatus.SUBMITTED  # flagged, never blocked


def test_many_volunteers_serving_one_person_at_once(volunteer, recipient):
    for _ in range(3):
        make_record(
            make_volunteer(), start=at("2026-11-12", 9), minutes=60, care_recipient=recipient
        )
    record = submit(volunteer, care_recipient=recipient)
    assert codes(record) == ["recipient_per_day", "recipient_concurrent"]
    assert record.flags[1]["reason"] == zh(
        "%(count)d volunteers recorded service for the same person at overlapping "
        "times; more than %(limit)d at once is unusual."
    ) % {"count": 4, "limit": 3}


def test_thresholds_are_configurable(volunteer, recipient, settings):
    settings.FORMALISM_CHECKS = {**settings.FORMALISM_CHECKS, "recipient_per_day": 0}
    assert codes(submit(volunteer, care_recipient=recipient)) == ["recipient_per_day"]


def test_the_same_photo_in_another_record(volunteer, team_leader):
    first = submit(team_leader, photos=[photo("one.png", seed=7)])
    # The same picture, saved again as a JPEG: a few bits apart at most.
    second = submit(
        volunteer,
        started_at=at("2026-11-13", 9),
        ended_at=at("2026-11-13", 10),
        photos=[photo("again.jpg", seed=7, fmt="JPEG")],
    )
    assert codes(second) == ["same_photo"]
    assert codes(first) == ["same_photo"]  # the pair shows it on both sides
    flag = second.flags[0]
    assert flag["params"]["ids"] == [first.pk]
    assert flag["reason"] == zh("The same photo is in %(count)d other record: %(records)s.") % {
        "count": 1,
        "records": f"#{first.pk} {team_leader.get_full_name()} 2026-11-12",
    }
    third = submit(
        volunteer,
        started_at=at("2026-11-14", 9),
        ended_at=at("2026-11-14", 10),
        photos=[photo("other.png", seed=99)],
    )
    assert codes(third) == []


def test_a_photo_repeated_within_one_record_is_not_flagged(volunteer):
    record = submit(volunteer, photos=[photo(seed=3), photo(seed=3)])
    assert codes(record) == []


def test_candidate_photos_are_found_by_the_database(volunteer):
    submit(volunteer, photos=[photo(seed=11)])
    stored = Evidence.objects.get()
    near = f"{int(stored.phash, 16) ^ 0b101:016x}"  # two bits apart
    far = f"{int(stored.phash, 16) ^ 0xFFFFFFFF:016x}"  # 32 bits apart
    assert [(e.pk, bits) for e, bits in checks.similar_evidence(near)] == [(stored.pk, 2)]
    assert checks.similar_evidence(far) == []
    with CaptureQueriesContext(connection) as queries:
        checks.similar_evidence(near)
    assert len(queries) == 1


def test_near_identical_content_in_many_records(volunteer):
    for day in range(2, 8):
        make_record(
            volunteer,
            start=at(datetime.date(2026, 11, day), 7),
            minutes=30,
            content=f"清扫 {day} 号楼垃圾堆。",
            content_fingerprint=checks.content_fingerprint("清扫垃圾堆"),
        )
    record = submit(volunteer, content="清扫垃圾堆")
    assert codes(record) == ["same_content"]
    assert record.flags[0]["reason"] == zh(
        "The same description was used for %(count)d services within %(days)d days; "
        "more than %(limit)d is unusual."
    ) % {"count": 7, "days": 30, "limit": 5}


def test_one_batch_entered_by_a_leader_counts_once(team_leader, team):
    volunteers = [make_volunteer() for _ in range(8)]
    for person in volunteers:
        join_team(person, team)
    with after_commit() as callbacks:
        records = services.service_record_enter_for_team(
            actor=team_leader,
            team=team,
            volunteers=volunteers,
            activity_name="清理楼道杂物",
            category=category(),
            started_at=at("2026-11-14", 9),
            ended_at=at("2026-11-14", 11),
            place="桂园社区3栋",
            content="清理楼道堆放的杂物",
            responsible_person="李明",
            now=NOW,
        )
    assert len(callbacks) == len(volunteers)  # every record was checked
    assert ServiceRecord.objects.filter(pk__in=[r.pk for r in records], flags=[]).count() == 8


def test_check_in_far_from_the_activity(volunteer, tree):
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
    signup = Signup.objects.create(
        activity=activity,
        volunteer=volunteer,
        attendance=Attendance.ATTENDED,
        checked_in_at=at("2026-11-12", 7, 30),
        checked_out_at=at("2026-11-12", 11),
    )
    record = submit(
        volunteer,
        started_at=signup.checked_in_at,
        ended_at=signup.checked_out_at,
        activity=activity,
        signup=signup,
    )
    assert codes(record) == ["checkin_offset"]
    assert record.flags[0]["reason"] == zh(
        "Checked in at %(time)s, %(minutes)d minutes outside the activity's time "
        "(%(start)s–%(end)s)."
    ) % {"time": "2026-11-12 07:30", "minutes": 90, "start": "2026-11-12 09:00", "end": "11:00"}


def test_hours_far_above_the_team_peers(volunteer, team):
    join_team(volunteer, team)
    for hours in (2, 3, 4):
        peer = make_volunteer()
        join_team(peer, team)
        make_record(peer, start=at("2026-11-03", 9), minutes=hours * 60, team=team)
    for day in (2, 3, 4):
        make_record(volunteer, start=at(datetime.date(2026, 11, day), 13), minutes=180, team=team)
    record = submit(volunteer, team=team)
    assert codes(record) == ["peer_hours"]
    assert record.flags[0]["reason"] == zh(
        "%(hours)s hours in %(month)s, more than %(factor)s times the median of the "
        "team's volunteers (%(median)s hours)."
    ) % {"hours": "10.0", "month": "2026-11", "factor": "3", "median": "3.0"}


def test_flags_are_rerun_on_correction(volunteer, recipient):
    for hour in (8, 10):
        make_record(volunteer, start=at("2026-11-12", hour), minutes=30, care_recipient=recipient)
    record = submit(volunteer, started_at=at("2026-11-12", 14), ended_at=at("2026-11-12", 15))
    assert codes(record) == []
    services.service_record_update(
        actor=volunteer, record=record, care_recipient=recipient, now=NOW
    )
    assert codes(record) == ["recipient_per_day"]


def test_flag_reasons_follow_the_language(volunteer, recipient):
    for hour in (8, 10):
        make_record(volunteer, start=at("2026-11-12", hour), minutes=30, care_recipient=recipient)
    record = submit(
        volunteer,
        started_at=at("2026-11-12", 14),
        ended_at=at("2026-11-12", 15),
        care_recipient=recipient,
    )
    with translation.override("en"):
        assert checks.flag_reason(record.flags[0]).startswith("The same person served has 3")


# Evidence ----------------------------------------------------------------------------------------


def _state():
    return (ServiceRecord.objects.count(), Evidence.objects.count(), AuditEntry.objects.count())


def test_a_20_mb_photo_is_refused(volunteer):
    big = SimpleUploadedFile("big.jpg", b"\xff" * (20 * 1024 * 1024), content_type="image/jpeg")
    before = _state()
    with pytest.raises(ValidationError) as caught:
        submit(volunteer, photos=[big])
    assert _state() == before
    assert caught.value.message_dict["photos"] == [
        zh("“%(name)s” is %(size).1f MB; a photo may be at most %(limit)d MB.")
        % {"name": "big.jpg", "size": 20.0, "limit": 10}
    ]


def test_a_file_that_is_not_an_image_is_refused(volunteer):
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4 not a photo", content_type="application/pdf")
    with pytest.raises(ValidationError) as caught:
        validate_photos([pdf])
    assert caught.value.message_dict["photos"] == [
        zh("“%(name)s” is not a photo: upload JPEG or PNG images.") % {"name": "report.pdf"}
    ]


def test_too_many_photos_are_refused(volunteer, settings):
    settings.EVIDENCE_MAX_PHOTOS = 2
    record = submit(volunteer, photos=[photo(seed=1)])
    before = _state()
    with pytest.raises(ValidationError) as caught:
        evidence_add(actor=volunteer, record=record, photos=[photo(seed=2), photo(seed=3)])
    assert _state() == before
    assert caught.value.message_dict["photos"] == [
        zh("A record can have at most %(limit)d photos; this one would have %(count)d.")
        % {"limit": 2, "count": 3}
    ]


def test_photos_are_added_to_a_pending_record_and_checked(volunteer, team_leader):
    other = submit(team_leader, photos=[photo(seed=21)])
    record = submit(volunteer, started_at=at("2026-11-13", 9), ended_at=at("2026-11-13", 10))
    added = evidence_add(actor=volunteer, record=record, photos=[photo(seed=21)])
    assert len(added) == 1
    assert codes(record) == ["same_photo"]
    assert record.flags[0]["params"]["ids"] == [other.pk]
    assert AuditEntry.objects.filter(action="service_record.evidence_add").count() == 1


def test_photos_are_not_added_to_approved_or_others_records(recworld):
    with pytest.raises(ValidationError):
        evidence_add(actor=recworld.cast.volunteer, record=recworld.approved, photos=[photo()])
    with pytest.raises(PermissionDenied):
        evidence_add(actor=recworld.cast.team_leader, record=recworld.submitted, photos=[photo()])
    assert Evidence.objects.count() == 0


def test_submit_keeps_its_query_count_as_records_grow(volunteer, team, recipient):
    join_team(volunteer, team)
    peers = [make_volunteer() for _ in range(3)]
    for peer in peers:
        join_team(peer, team)

    def grow(rows):
        start = ServiceRecord.objects.count()
        for i in range(start, start + rows):
            make_record(
                peers[i % 3],
                start=at("2026-11-01", 0) + datetime.timedelta(hours=2 * i),
                minutes=60,
                team=team,
                care_recipient=recipient,
            )

    def count(day):
        with CaptureQueriesContext(connection) as queries:
            submit(
                volunteer,
                started_at=at(day, 9),
                ended_at=at(day, 10),
                team=team,
                care_recipient=recipient,
                photos=[photo(seed=day.day)],
            )
        return len(queries)

    count(datetime.date(2026, 11, 11))  # warms the content-type cache of the audit log
    grow(10)
    small = count(datetime.date(2026, 11, 12))
    grow(90)
    assert count(datetime.date(2026, 11, 13)) == small


def test_the_checks_wait_for_the_commit_and_run_in_a_task(volunteer, recipient):
    """Submitting answers before the checks run: they are queued once the record is committed
    (a refused submit queues nothing) and the task stores the flags the reviewer reads."""
    for hour in (8, 10):
        make_record(volunteer, start=at("2026-11-12", hour), minutes=30, care_recipient=recipient)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        record = services.service_record_submit(
            actor=volunteer,
            volunteer=volunteer,
            activity_name="陪伴独居老人",
            category=category(),
            started_at=at("2026-11-12", 14),
            ended_at=at("2026-11-12", 15),
            place="桂园社区",
            content="上门陪伴聊天",
            responsible_person="李明",
            care_recipient=recipient,
            now=NOW,
        )
        with pytest.raises(ValidationError):
            submit(volunteer, started_at=at("2026-11-12", 14), ended_at=at("2026-11-12", 15))
    assert len(callbacks) == 1
    assert codes(record) == []  # not checked yet
    callbacks[0]()
    assert codes(record) == ["recipient_per_day"]
    assert tasks.refresh_record_flags(record.pk) == "checked"  # running it again is harmless
    assert codes(record) == ["recipient_per_day"]
    assert tasks.refresh_record_flags(10**9) == "missing"
