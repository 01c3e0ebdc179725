"""Awards tell people: the volunteer hears of an award on their record, the city's
administrators of each objection and, once a day, of nominations waiting for them."""

import datetime

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.awards.models import (
    AssessmentYear,
    Award,
    AwardCategory,
    Nomination,
    NominationStatus,
    Objection,
)
from apps.notifications import reminders
from apps.notifications.models import Notification, NotificationKind
from conftest import zh
from volunteer_platform.celery import app as celery_app

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 20)


def award_list_url():
    try:
        return reverse("portal:award-list")
    except NoReverseMatch:  # the portal's page arrives with its own part
        return "/awards/"


def notes(kind):
    return Notification.objects.filter(kind=kind).order_by("user__username")


@pytest.fixture
def category(db):
    return AwardCategory.objects.get(name="优秀共产党员志愿者")


def award(volunteer=None, team=None, name="优秀共产党员志愿者"):
    return Award.objects.create(
        volunteer=volunteer,
        team=team,
        name=name,
        awarded_on=datetime.date(2026, 3, 1),
        awarding_unit="市委组织部",
    )


def nomination(w, category, *, status, volunteer=None, ends=None, created_days_ago=0):
    assessment_year, _created = AssessmentYear.objects.get_or_create(year=2025)
    made = Nomination.objects.create(
        assessment_year=assessment_year,
        category=category,
        organization=w.tree.branch,
        volunteer=volunteer or w.cast.volunteer,
        deeds="常年服务社区孤寡老人",
        status=status,
        publicity_starts_on=ends and ends - datetime.timedelta(days=6),
        publicity_ends_on=ends,
    )
    created = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))
    Nomination.objects.filter(pk=made.pk).update(
        created_at=created - datetime.timedelta(days=created_days_ago)
    )
    return made


# An award on the volunteer's record -------------------------------------------------------------


def test_the_volunteer_hears_of_their_award_once(world):
    volunteer = world.cast.volunteer
    granted = award(volunteer)
    note = notes(NotificationKind.AWARD_GRANTED).get()
    assert note.user == volunteer
    assert note.title == zh("You have been awarded “%(name)s”") % {"name": "优秀共产党员志愿者"}
    assert note.body == zh("Awarded by %(unit)s on %(date)s. It is on your volunteer record.") % {
        "unit": "市委组织部",
        "date": "2026-03-01",
    }
    assert (note.key, note.url) == (f"award_granted:award:{granted.pk}", award_list_url())
    # Saving the award again (a correction of its note) tells nobody anything new.
    granted.note = "补充说明"
    granted.save()
    assert notes(NotificationKind.AWARD_GRANTED).count() == 1
    assert reminders.notify_award_granted(granted) == 0


def test_a_team_award_tells_no_volunteer(world):
    award(team=world.team, name="优秀共产党员志愿服务队")
    assert not notes(NotificationKind.AWARD_GRANTED).exists()


def test_the_award_is_told_in_the_recipient_language(world):
    volunteer = world.cast.volunteer
    volunteer.language = "en"
    volunteer.save(update_fields=["language"])
    award(volunteer)
    assert notes(NotificationKind.AWARD_GRANTED).get().title == (
        "You have been awarded “优秀共产党员志愿者”"
    )


# Objections in the publicity period ------------------------------------------------------------


def test_the_city_hears_of_each_objection_once(world, category):
    w = world
    nominated = nomination(
        w, category, status=NominationStatus.PUBLICITY, ends=TODAY + datetime.timedelta(days=3)
    )
    objection = Objection.objects.create(
        nomination=nominated, submitted_by=w.cast.outsider, text="服务时长与实际不符，请核实。"
    )
    note = notes(NotificationKind.OBJECTION_RAISED).get()
    # The city's administrators only: not the branch, not the inspector.
    assert note.user == w.cast.city_admin
    assert note.title == zh("Objection to the nomination of %(candidate)s") % {
        "candidate": w.cast.volunteer.real_name
    }
    assert note.key == f"objection_raised:objection:{objection.pk}"
    objection.resolution = "已核实"
    objection.save()
    assert reminders.notify_objection_raised(objection) == 0
    assert notes(NotificationKind.OBJECTION_RAISED).count() == 1


# Nominations waiting ---------------------------------------------------------------------------


def test_nominations_waiting_reach_the_city_once_a_day(world, category):
    w = world
    yesterday = TODAY - datetime.timedelta(days=1)
    nomination(w, category, status=NominationStatus.PUBLICITY, ends=yesterday)  # to decide
    nomination(  # publicity still running: not yet
        w,
        category,
        status=NominationStatus.PUBLICITY,
        volunteer=w.cast.team_leader,
        ends=TODAY,
    )
    nomination(  # nominated 8 days ago, no publicity: late
        w,
        category,
        status=NominationStatus.NOMINATED,
        volunteer=w.cast.branch_secretary,
        created_days_ago=8,
    )
    other = AwardCategory.objects.get(name="优秀共产党员志愿服务队")
    nomination(  # nominated 3 days ago: not late yet
        w, other, status=NominationStatus.NOMINATED, created_days_ago=3
    )
    nomination(  # decided: not waiting
        w,
        other,
        status=NominationStatus.AWARDED,
        volunteer=w.cast.team_leader,
        ends=yesterday,
    )
    assert reminders.remind_nominations_waiting(today=TODAY) == 1
    note = notes(NotificationKind.NOMINATIONS_WAITING).get()
    assert note.user == w.cast.city_admin
    assert note.key == f"nominations_waiting:digest:{TODAY.isoformat()}"
    assert note.title == zh("%(count)d nominations wait for you") % {"count": 2}
    assert note.body.splitlines() == [
        zh("%(count)d: the publicity period has ended; decide whether to award.") % {"count": 1},
        zh("%(count)d: nominated more than %(days)d days ago; the publicity has not started.")
        % {"count": 1, "days": 7},
    ]
    # A rerun the same day sends nothing new; the next day is a new digest.
    assert reminders.remind_nominations_waiting(today=TODAY) == 0
    assert notes(NotificationKind.NOMINATIONS_WAITING).count() == 1
    assert reminders.remind_nominations_waiting(today=TODAY + datetime.timedelta(days=1)) == 1


def test_nothing_waiting_sends_nothing(world, category):
    nomination(
        world, category, status=NominationStatus.PUBLICITY, ends=TODAY + datetime.timedelta(days=2)
    )
    nomination(
        world,
        category,
        status=NominationStatus.NOMINATED,
        volunteer=world.cast.team_leader,
        created_days_ago=7,
    )
    assert reminders.remind_nominations_waiting(today=TODAY) == 0
    assert not Notification.objects.exists()


def test_the_digest_is_in_each_admin_language(world, category):
    w = world
    admin = w.cast.city_admin
    admin.language = "en"
    admin.save(update_fields=["language"])
    nomination(w, category, status=NominationStatus.NOMINATED, created_days_ago=10)
    assert reminders.remind_nominations_waiting(today=TODAY) == 1
    note = notes(NotificationKind.NOMINATIONS_WAITING).get()
    assert note.title == "1 nominations wait for you"
    assert note.body == "1: nominated more than 7 days ago; the publicity has not started."


def test_the_reminder_has_its_beat_schedule_and_task(db):
    task = PeriodicTask.objects.get(name="Reminder: nominations waiting")
    assert (task.task, task.enabled, task.crontab.hour, task.crontab.minute) == (
        "notifications.remind_nominations_waiting",
        True,
        "8",
        "50",
    )
    import apps.notifications.tasks  # noqa: F401  (registers them, as the worker does)

    assert "notifications.remind_nominations_waiting" in celery_app.tasks


def test_the_daily_run_includes_the_reminder(world, category):
    nomination(world, category, status=NominationStatus.NOMINATED, created_days_ago=10)
    now = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))
    assert reminders.run_daily(now=now)["nominations_waiting"] == 1
