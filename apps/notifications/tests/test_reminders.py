"""Each reminder's selection with fixed dates, and never twice."""

import datetime

import pytest
from django.urls import reverse

from apps.accounts.models import VolunteerStatus
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.volunteer_helpers import add_profile
from apps.care.models import RecipientPairing, RequestStatus, ServiceRequest, Visit
from apps.care.tests.recipients_fixtures import make_household
from apps.care.tests.request_fixtures import make_request
from apps.notifications import reminders
from apps.notifications.models import Notification, NotificationKind
from apps.organizations.tests.factories import MembershipFactory

TODAY = datetime.date(2026, 6, 15)  # a Monday, ISO week 25


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


@pytest.fixture
def pairings(world):
    """Three volunteers paired with households of 桂园社区 (monthly visits)."""
    cast = world.cast
    late = RecipientPairing.objects.create(
        volunteer=cast.volunteer,
        recipient=make_household(world.community),
        started_on=days_ago(60),
    )
    Visit.objects.create(pairing=late, visited_on=days_ago(31), duration_minutes=30)
    recent = RecipientPairing.objects.create(
        volunteer=cast.team_leader,
        recipient=make_household(world.community),
        started_on=days_ago(60),
    )
    Visit.objects.create(pairing=recent, visited_on=days_ago(30), duration_minutes=30)
    never = RecipientPairing.objects.create(
        volunteer=cast.outsider, recipient=make_household(world.community), started_on=days_ago(45)
    )
    ended = RecipientPairing.objects.create(
        volunteer=cast.inspector,
        recipient=make_household(world.community),
        started_on=days_ago(90),
        ended_on=days_ago(1),
    )
    return {"late": late, "recent": recent, "never": never, "ended": ended}


def test_visits_overdue_selects_late_and_never_visited(pairings, world):
    created = reminders.remind_visits_overdue(today=TODAY)
    assert created == 2
    notes = Notification.objects.filter(kind=NotificationKind.VISIT_OVERDUE)
    assert {n.user_id for n in notes} == {world.cast.volunteer.pk, world.cast.outsider.pk}
    key = notes.get(user=world.cast.volunteer).key
    assert key == f"visit_overdue:pairing:{pairings['late'].pk}:2026-W25"


def test_visits_overdue_never_twice_and_again_next_week(pairings):
    assert reminders.remind_visits_overdue(today=TODAY) == 2
    assert reminders.remind_visits_overdue(today=TODAY) == 0
    # later the same week: only the pairing that became overdue meanwhile is new
    assert reminders.remind_visits_overdue(today=TODAY + datetime.timedelta(days=3)) == 1
    assert reminders.remind_visits_overdue(today=TODAY + datetime.timedelta(days=4)) == 0
    assert Notification.objects.count() == 3
    assert reminders.remind_visits_overdue(today=TODAY + datetime.timedelta(days=7)) == 3
    assert Notification.objects.count() == 6


def test_visit_reminder_when_the_pairing_ended_meanwhile(pairings):
    """The watched object went away (pairing ended): no crash, no new reminder."""
    RecipientPairing.objects.update(ended_on=TODAY)
    assert reminders.remind_visits_overdue(today=TODAY) == 0


@pytest.fixture
def requests_(world):
    late = make_request(world.community, status=RequestStatus.ACCEPTED, deadline=days_ago(1))
    on_time = make_request(world.community, status=RequestStatus.ACCEPTED, deadline=TODAY)
    done = make_request(world.community, status=RequestStatus.DONE, deadline=days_ago(5))
    elsewhere = make_request(
        world.other_community, status=RequestStatus.SUBMITTED, deadline=days_ago(2)
    )
    return {"late": late, "on_time": on_time, "done": done, "elsewhere": elsewhere}


def test_requests_overdue_to_the_community_staff_once_a_day(requests_, world):
    assert reminders.remind_requests_overdue(today=TODAY) == 1
    note = Notification.objects.get()
    assert note.user == world.cast.community_staff
    assert note.key == f"request_overdue:request:{requests_['late'].pk}:2026-06-15"
    assert reminders.remind_requests_overdue(today=TODAY) == 0
    # the next day: the late one again, and the one due today is now late too
    assert reminders.remind_requests_overdue(today=TODAY + datetime.timedelta(days=1)) == 2


def test_request_deleted_before_the_reminder(requests_, world):
    ServiceRequest.objects.filter(pk=requests_["late"].pk).delete()
    assert reminders.remind_requests_overdue(today=TODAY) == 0


def test_notification_survives_its_request_being_deleted(requests_, world, client):
    reminders.remind_requests_overdue(today=TODAY)
    ServiceRequest.objects.filter(pk=requests_["late"].pk).delete()
    note = Notification.objects.get()
    client.force_login(world.cast.community_staff)
    assert client.get(reverse("portal:inbox")).status_code == 200
    response = client.post(reverse("portal:inbox-read", kwargs={"pk": note.pk}))
    assert response.status_code == 302  # to the link; the request page answers 404 itself
    note.refresh_from_db()
    assert note.read_at is not None


def test_registrations_pending_digest_per_reviewer(world):
    applicant = UserFactory(username="applicant", real_name="赵小红")
    MembershipFactory(user=applicant, organization=world.tree.branch)
    add_profile(applicant, status=VolunteerStatus.PENDING, community=world.community)
    created = reminders.remind_registrations_pending(today=TODAY)
    reviewers = set(
        Notification.objects.filter(kind=NotificationKind.REGISTRATION_REVIEW).values_list(
            "user__username", flat=True
        )
    )
    assert "branch_secretary" in reviewers
    assert "city_admin" in reviewers
    assert "other_branch_secretary" not in reviewers
    assert "inspector" not in reviewers
    assert created == len(reviewers)
    assert reminders.remind_registrations_pending(today=TODAY) == 0


def test_no_pending_registrations_no_digest(world):
    assert reminders.remind_registrations_pending(today=TODAY) == 0
    assert not Notification.objects.exists()
