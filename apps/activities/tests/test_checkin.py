"""QR check-in and check-out, the leader's marking, no-shows: every refusal with its message."""

import datetime

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from apps.activities import checkin, services
from apps.activities.models import ActivityStatus, Attendance, AttendanceMethod, SignupStatus
from apps.activities.tests.fixtures import HOUR, make_activity, new_volunteer, sign_up
from apps.activities.tests.helpers import forbidden, refused, snapshot
from apps.service_records.models import RecordSource, ServiceRecord
from apps.service_records.services import service_record_submit
from conftest import zh

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def w(aworld):
    """``running``: began three hours ago, ended an hour ago; the volunteer signed up."""
    aworld.running = make_activity(
        aworld.team, starts_at=timezone.now() - 3 * HOUR, community=aworld.community
    )
    aworld.running_signup = sign_up(aworld.running, aworld.cast.volunteer)
    return aworld


def token(activity, direction, at):
    return checkin.make_token(activity=activity, direction=direction, now=at)


def check_in(w, *, at=None, user=None, activity=None, direction="in", **kwargs):
    at = at or w.running.starts_at
    return services.signup_check_in(
        volunteer=user or w.cast.volunteer,
        token=token(activity or w.running, direction, at),
        now=at,
        **kwargs,
    )


def check_out(w, *, at=None, user=None, direction="out", **kwargs):
    at = at or w.running.ends_at
    return services.signup_check_out(
        volunteer=user or w.cast.volunteer,
        token=token(w.running, direction, at),
        now=at,
        **kwargs,
    )


# Tokens --------------------------------------------------------------------------------------


def test_token_round_trip(w):
    at = w.running.starts_at
    assert checkin.read_token(token(w.running, "out", at), now=at) == (w.running.pk, "out")


def test_token_direction_must_be_in_or_out(w):
    with pytest.raises(ValueError):
        checkin.make_token(activity=w.running, direction="sideways")


def _read(value, at):
    with pytest.raises(ValidationError) as info:
        checkin.read_token(value, now=at)
    return [str(m) for m in info.value.messages]


@override_settings(CHECKIN_QR_MAX_AGE_SECONDS=90)
def test_expired_token(w):
    made = w.running.starts_at
    value = token(w.running, "in", made)
    assert checkin.read_token(value, now=made + datetime.timedelta(seconds=90))
    assert _read(value, made + datetime.timedelta(seconds=91)) == [
        zh("This QR code has expired: scan the code on the leader's screen again.")
    ]


def test_a_photo_of_yesterdays_code_is_refused(w):
    value = token(w.running, "in", w.running.starts_at - datetime.timedelta(days=1))
    assert _read(value, w.running.starts_at) == [
        zh("This QR code has expired: scan the code on the leader's screen again.")
    ]


@pytest.mark.parametrize(
    "forge",
    [
        lambda good, w: good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        lambda good, w: "not-a-code",
        lambda good, w: "",
        # Signed, but with the default salt: somebody else's signature is no good here.
        lambda good, w: signing.dumps([w.running.pk, "in", int(w.running.starts_at.timestamp())]),
        # Edited by hand: another activity's number in a copied payload.
        lambda good, w: good.replace(good.split(":")[0], "W1s5OTksImluIiwxXQ"),
        # The right salt, but a direction that does not exist.
        lambda good, w: signing.dumps(
            [w.running.pk, "up", int(w.running.starts_at.timestamp())], salt=checkin.SALT
        ),
        # The right salt, but for an activity that does not exist.
        lambda good, w: signing.dumps(
            [10**9, "in", int(w.running.starts_at.timestamp())], salt=checkin.SALT
        ),
    ],
)
def test_forged_or_garbled_token(w, forge):
    good = token(w.running, "in", w.running.starts_at)
    assert _read(forge(good, w), w.running.starts_at) == [
        zh("This QR code is not valid: scan the code on the leader's screen again.")
    ]


def test_token_made_in_the_future_is_refused(w):
    value = token(w.running, "in", w.running.starts_at + 10 * MINUTE)
    assert _read(value, w.running.starts_at) == [
        zh("This QR code is not valid: scan the code on the leader's screen again.")
    ]


@override_settings(CHECKIN_WINDOW_MINUTES=60)
@pytest.mark.parametrize(
    ("offset", "inside"),
    [(-61, False), (-60, True), (0, True), ("end+60", True), ("end+61", False)],
)
def test_tokens_work_only_in_the_window(w, offset, inside):
    if isinstance(offset, str):
        at = w.running.ends_at + int(offset[4:]) * MINUTE
    else:
        at = w.running.starts_at + offset * MINUTE
    value = token(w.running, "in", at)
    if inside:
        assert checkin.read_token(value, now=at)[0] == w.running.pk
        return
    opens = timezone.localtime(w.running.starts_at - HOUR).strftime("%Y-%m-%d %H:%M")
    closes = timezone.localtime(w.running.ends_at + HOUR).strftime("%Y-%m-%d %H:%M")
    assert _read(value, at) == [
        zh("Check-in for this activity is open from %(opens)s to %(closes)s only.")
        % {"opens": opens, "closes": closes}
    ]


def test_cancelled_activity_codes_are_refused(w):
    value = token(w.running, "in", w.running.starts_at)
    w.running.status = ActivityStatus.CANCELLED
    w.running.save()
    assert _read(value, w.running.starts_at) == [zh("This activity has been cancelled.")]


# Check-in ------------------------------------------------------------------------------------


def test_check_in_then_twice(w):
    signup = check_in(w)
    assert signup.pk == w.running_signup.pk
    assert signup.attendance == Attendance.CHECKED_IN
    assert signup.check_in_method == AttendanceMethod.QR
    assert signup.checked_in_at == w.running.starts_at
    before = snapshot()
    assert refused(check_in, w=w, at=w.running.starts_at + MINUTE) == [
        zh("You have already checked in.")
    ]
    assert snapshot() == before


def test_check_out_code_does_not_check_in(w):
    before = snapshot()
    assert refused(check_in, w=w, direction="out") == [
        zh("This is the check-out code: scan the check-in code first.")
    ]
    assert snapshot() == before


def test_code_of_another_activity_is_refused_when_the_page_expects_one(w):
    before = snapshot()
    assert refused(
        services.signup_check_in,
        volunteer=w.cast.volunteer,
        token=token(w.running, "in", w.running.starts_at),
        now=w.running.starts_at,
        activity=w.published,
    ) == [zh("This QR code belongs to another activity.")]
    assert snapshot() == before


def test_waitlisted_volunteer_cannot_check_in(w):
    w.running_signup.status = SignupStatus.WAITLISTED
    w.running_signup.save()
    before = snapshot()
    assert refused(check_in, w=w) == [
        zh("You are on the waiting list: only confirmed volunteers can check in.")
    ]
    assert snapshot() == before


def test_walk_in_with_room_gets_a_confirmed_signup(w):
    walk_in = new_volunteer()
    signup = check_in(w, user=walk_in)
    assert signup.status == SignupStatus.CONFIRMED
    assert signup.attendance == Attendance.CHECKED_IN


def test_walk_in_without_room_is_refused(w):
    w.running.capacity = 1
    w.running.save()
    before = snapshot()
    assert refused(check_in, w=w, user=new_volunteer()) == [
        zh("This activity is full and you have not signed up: please ask the leader.")
    ]
    assert snapshot() == before


def test_walk_in_without_registration_is_refused(w):
    before = snapshot()
    assert refused(check_in, w=w, user=w.cast.outsider) == [
        zh("Register as a volunteer first: only registered volunteers can sign up.")
    ]
    assert snapshot() == before


# Check-out -----------------------------------------------------------------------------------


def test_check_out_completes_attendance_and_creates_the_record(w):
    check_in(w)
    signup = check_out(w)
    assert signup.attendance == Attendance.ATTENDED
    assert signup.check_out_method == AttendanceMethod.QR
    record = ServiceRecord.objects.get(signup=signup)
    assert record.source == RecordSource.CHECK_IN
    assert record.duration_minutes == 120
    assert record.activity == w.running
    before = snapshot()
    assert refused(check_out, w=w, at=w.running.ends_at + MINUTE) == [
        zh("You have already checked out.")
    ]
    assert snapshot() == before


def test_check_out_before_check_in_is_refused(w):
    before = snapshot()
    assert refused(check_out, w=w) == [zh("You have not checked in yet.")]
    assert snapshot() == before


def test_check_in_code_does_not_check_out(w):
    check_in(w)
    before = snapshot()
    assert refused(check_out, w=w, direction="in") == [
        zh("This is the check-in code: scan the check-out code to leave.")
    ]
    assert snapshot() == before


def test_check_out_refused_by_the_record_rules_saves_nothing(w):
    """The record's rules refuse (an overlapping record): the check-out is refused with
    their message and the sign-up stays checked in."""
    check_in(w)
    service_record_submit(
        actor=w.cast.volunteer,
        volunteer=w.cast.volunteer,
        activity_name="入户走访",
        category=w.category,
        started_at=w.running.starts_at + HOUR,
        ended_at=w.running.ends_at,
        place="桂园路",
        content="走访独居老人",
        responsible_person="李明",
    )
    before = snapshot()
    records = ServiceRecord.objects.count()
    with pytest.raises(ValidationError) as info:
        check_out(w)
    assert "started_at" in info.value.message_dict
    assert snapshot() == before
    assert ServiceRecord.objects.count() == records
    w.running_signup.refresh_from_db()
    assert w.running_signup.checked_out_at is None
    assert w.running_signup.attendance == Attendance.CHECKED_IN


# The leader marks attendance ---------------------------------------------------------------


def test_leader_marks_attendance_for_someone_without_a_phone(w):
    signup = services.attendance_mark(
        actor=w.cast.team_leader,
        signup=w.running_signup,
        checked_in_at=w.running.starts_at,
        checked_out_at=w.running.ends_at - 30 * MINUTE,
    )
    assert signup.check_in_method == signup.check_out_method == AttendanceMethod.LEADER
    assert signup.marked_by == w.cast.team_leader
    assert ServiceRecord.objects.get(signup=signup).duration_minutes == 90


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (0, 0, "checked_out_at", "Check-out must come after check-in."),
        (-61, 60, "checked_in_at", None),
        (0, 120 + 61, "checked_in_at", None),
    ],
)
def test_leader_marking_bad_times(w, start, end, field, message):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.attendance_mark(
            actor=w.cast.team_leader,
            signup=w.running_signup,
            checked_in_at=w.running.starts_at + start * MINUTE,
            checked_out_at=w.running.starts_at + end * MINUTE,
        )
    if message:
        assert info.value.message_dict[field] == [zh(message)]
    else:
        assert field in info.value.message_dict
    assert snapshot() == before


def test_leader_cannot_mark_in_advance(w):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.attendance_mark(
            actor=w.cast.team_leader,
            signup=w.signup,
            checked_in_at=w.published.starts_at,
            checked_out_at=w.published.ends_at,
        )
    assert info.value.message_dict["checked_out_at"] == [
        zh("Attendance cannot be marked in advance.")
    ]
    assert snapshot() == before


def test_only_organisers_mark_attendance(w):
    for role in ("volunteer", "inspector", "other_branch_secretary", "outsider"):
        forbidden(
            services.attendance_mark,
            actor=getattr(w.cast, role),
            signup=w.running_signup,
            checked_in_at=w.running.starts_at,
            checked_out_at=w.running.ends_at,
        )


def test_no_show(w):
    signup = services.signup_mark_no_show(actor=w.cast.team_leader, signup=w.running_signup)
    assert signup.attendance == Attendance.NO_SHOW
    before = snapshot()
    assert refused(services.signup_mark_no_show, actor=w.cast.team_leader, signup=w.signup) == [
        zh("The activity has not started yet.")
    ]
    assert snapshot() == before
    forbidden(services.signup_mark_no_show, actor=w.cast.volunteer, signup=w.running_signup)


def test_checked_in_volunteer_is_not_a_no_show(w):
    check_in(w)
    assert refused(
        services.signup_mark_no_show, actor=w.cast.team_leader, signup=w.running_signup
    ) == [zh("This volunteer has checked in: they cannot be marked absent.")]
