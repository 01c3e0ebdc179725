"""The reminders on activities, records, certificates and campaign days, at fixed times:
who hears, who does not, never twice, and objects deleted before the run."""

import datetime

import pytest
from django.utils import timezone, translation

from apps.accounts.models import ServiceCategory
from apps.accounts.tests.factories import UserFactory
from apps.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Campaign,
    CampaignKind,
    Signup,
    SignupStatus,
)
from apps.core.models import CalendarDay, CalendarDayKind
from apps.core.workdays import add_working_days, recording_deadline
from apps.notifications import reminders
from apps.notifications.models import Notification, NotificationKind
from apps.service_records.models import (
    Certificate,
    CertificateStatus,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, TeamRole
from conftest import zh

#: Monday 15 June 2026, 10:00 in Shanghai; no holidays around it.
NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 10, 0))
TODAY = NOW.date()
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def at(day: str, hour: int) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour))
    )


def category():
    return ServiceCategory.objects.get_or_create(code="elderly", defaults={"name": "助老"})[0]


def activity(team, starts_at, *, status=ActivityStatus.PUBLISHED, title="社区助老服务"):
    return Activity.objects.create(
        title=title,
        category=category(),
        organization=team.organization,
        team=team,
        starts_at=starts_at,
        ends_at=starts_at + 2 * HOUR,
        place="桂园社区活动中心",
        capacity=10,
        description="陪伴老人",
        status=status,
    )


def signup(act, user, **fields):
    return Signup.objects.create(activity=act, volunteer=user, **fields)


def attended(act, user, **fields):
    fields.setdefault("attendance", Attendance.ATTENDED)
    return signup(act, user, checked_in_at=act.starts_at, checked_out_at=act.ends_at, **fields)


def record(volunteer, *, start, status=RecordStatus.SUBMITTED, **fields):
    fields.setdefault("activity_name", "陪伴独居老人")
    fields.setdefault("place", "桂园社区")
    fields.setdefault("content", "上门陪伴聊天")
    fields.setdefault("responsible_person", "李明")
    fields.setdefault("source", RecordSource.SELF_REPORTED)
    return ServiceRecord.objects.create(
        volunteer=volunteer,
        category=category(),
        started_at=start,
        ended_at=start + 2 * HOUR,
        duration_minutes=120,
        status=status,
        **fields,
    )


def recipients(kind):
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


# --- Activity tomorrow --------------------------------------------------------------------


@pytest.fixture
def tomorrow(world):
    cast = world.cast
    soon = activity(world.team, NOW + 30 * HOUR)
    signup(soon, cast.volunteer)
    signup(soon, cast.team_leader, status=SignupStatus.WAITLISTED)
    signup(soon, cast.outsider, status=SignupStatus.CANCELLED)
    signup(activity(world.team, NOW + 50 * HOUR), cast.inspector)  # too far ahead
    signup(activity(world.team, NOW + 23 * HOUR), cast.community_staff)  # too close
    draft = activity(world.team, NOW + 30 * HOUR, status=ActivityStatus.DRAFT)
    signup(draft, cast.branch_secretary)
    return soon


def test_activity_tomorrow_selection(tomorrow, world):
    assert reminders.remind_activity_tomorrow(now=NOW) == 1
    assert recipients(NotificationKind.ACTIVITY_TOMORROW) == {"volunteer"}
    note = Notification.objects.get()
    assert note.key == f"activity_tomorrow:activity:{tomorrow.pk}:2026-06-16"
    assert note.title == zh("“%(title)s” starts at %(start)s") % {
        "title": "社区助老服务",
        "start": "2026-06-16 16:00",
    }


def test_activity_tomorrow_never_twice(tomorrow):
    assert reminders.remind_activity_tomorrow(now=NOW) == 1
    assert reminders.remind_activity_tomorrow(now=NOW) == 0
    assert reminders.remind_activity_tomorrow(now=NOW + HOUR) == 0
    assert Notification.objects.count() == 1


def test_activity_moved_to_another_day_is_announced_again(tomorrow, world):
    reminders.remind_activity_tomorrow(now=NOW)
    Activity.objects.filter(pk=tomorrow.pk).update(
        starts_at=tomorrow.starts_at + DAY, ends_at=tomorrow.ends_at + DAY
    )
    reminders.remind_activity_tomorrow(now=NOW + DAY)
    assert Notification.objects.filter(user=world.cast.volunteer).count() == 2


def test_activity_deleted_before_the_reminder(tomorrow):
    Activity.objects.filter(pk=tomorrow.pk).delete()
    assert reminders.remind_activity_tomorrow(now=NOW) == 0
    assert not Notification.objects.exists()


def test_text_in_the_recipients_language_not_the_workers(tomorrow, world):
    """Rendered in the language the recipient chose (User.language), else the default."""
    with translation.override("en"):
        reminders.remind_activity_tomorrow(now=NOW)
    assert "开始" in Notification.objects.get().title
    Notification.objects.all().delete()
    world.cast.volunteer.language = "en"
    world.cast.volunteer.save(update_fields=["language"])
    with translation.override("zh-hans"):
        reminders.remind_activity_tomorrow(now=NOW)
    assert Notification.objects.get().title.startswith("“社区助老服务” starts at")


# --- Service done but not logged ----------------------------------------------------------


@pytest.fixture
def done(world):
    cast = world.cast
    yesterday = activity(world.team, NOW - DAY)
    attended(yesterday, cast.volunteer)
    attended(yesterday, cast.team_leader, attendance=Attendance.CHECKED_IN)  # checked out
    logged = attended(yesterday, cast.outsider)
    record(cast.outsider, start=yesterday.starts_at, signup=logged, activity=yesterday)
    signup(yesterday, cast.inspector, attendance=Attendance.NO_SHOW)
    attended(yesterday, cast.community_staff, status=SignupStatus.CANCELLED)
    attended(activity(world.team, NOW - 40 * DAY), cast.branch_secretary)  # long ago
    signup(activity(world.team, NOW + HOUR), cast.other_branch_secretary)  # not yet
    return yesterday


def test_service_not_logged_selection(done):
    assert reminders.remind_service_not_logged(now=NOW) == 2
    assert recipients(NotificationKind.SERVICE_NOT_LOGGED) == {"volunteer", "team_leader"}


def test_service_not_logged_once_a_week(done):
    assert reminders.remind_service_not_logged(now=NOW) == 2
    assert reminders.remind_service_not_logged(now=NOW) == 0
    assert reminders.remind_service_not_logged(now=NOW + 3 * DAY) == 0
    assert reminders.remind_service_not_logged(now=NOW + 7 * DAY) == 2


def test_service_logged_meanwhile_is_not_chased(done, world):
    for item in Signup.objects.filter(activity=done, volunteer__username="volunteer"):
        record(item.volunteer, start=done.starts_at, signup=item, activity=done)
    assert reminders.remind_service_not_logged(now=NOW) == 1


# --- Records waiting for review -----------------------------------------------------------


@pytest.fixture
def pending(world):
    cast = world.cast
    other_member = UserFactory(username="other_member")
    from apps.organizations.tests.factories import MembershipFactory

    MembershipFactory(user=other_member, organization=world.tree.other_branch)
    start = at("2026-06-10", 9)
    return {
        "a": record(cast.volunteer, start=start, team=world.team),
        "b": record(cast.volunteer, start=start + DAY, team=world.team),
        "approved": record(
            cast.volunteer, start=start, team=world.team, status=RecordStatus.APPROVED
        ),
        "leaders_own": record(cast.team_leader, start=start, team=world.team),
        "other": record(other_member, start=start, team=world.other_team),
        # no team: the volunteer's branch reviews it
        "self": record(cast.volunteer, start=start + 2 * DAY),
    }


def _digest_counts(kind):
    from apps.notifications.models import Notification as N

    return {n.user.username: n.title for n in N.objects.filter(kind=kind).select_related("user")}


def test_review_digest_per_reviewer(pending, world):
    reminders.remind_records_to_review(today=TODAY)
    titles = _digest_counts(NotificationKind.RECORDS_TO_REVIEW)
    message = zh("%(count)d service records wait for your review")
    assert titles == {
        "team_leader": message % {"count": 2},  # the team's, less the leader's own
        "branch_secretary": message % {"count": 4},
        "other_branch_secretary": message % {"count": 1},
        "city_admin": message % {"count": 5},
    }


def test_review_counts_match_the_review_queue(pending, world):
    counts = reminders.reviewer_counts(ServiceRecord.objects.filter(status="submitted"))
    for name, user in vars(world.cast).items():
        if name == "community_staff":  # reaches the community's records; not a digest reader
            continue
        expected = ServiceRecord.objects.pending().manageable_by(user).count()
        assert counts.get(user.pk, 0) == expected, name


def test_review_digest_deputy_and_ended_roles(pending, world):
    deputy = UserFactory(username="deputy")
    TeamMembership.objects.create(
        team=world.team, user=deputy, role=TeamRole.DEPUTY, status=TeamMembershipStatus.ACTIVE
    )
    world.secretary_role.ended_on = TODAY
    world.secretary_role.save()
    reminders.remind_records_to_review(today=TODAY)
    assert recipients(NotificationKind.RECORDS_TO_REVIEW) == {
        "deputy",
        "team_leader",
        "other_branch_secretary",
        "city_admin",
    }


def test_review_digest_once_a_day(pending):
    created = reminders.remind_records_to_review(today=TODAY)
    assert created == 4
    assert reminders.remind_records_to_review(today=TODAY) == 0
    assert reminders.remind_records_to_review(today=TODAY + DAY) == 4


def test_no_pending_records_no_digest(world):
    assert reminders.remind_records_to_review(today=TODAY) == 0


# --- The recording deadline ---------------------------------------------------------------


def test_deadline_window(db):
    days = reminders.deadline_near_days(TODAY)
    assert days == {
        datetime.date(2026, 6, 1): datetime.date(2026, 6, 15),
        datetime.date(2026, 6, 2): datetime.date(2026, 6, 16),
        datetime.date(2026, 6, 3): datetime.date(2026, 6, 17),
    }


@pytest.mark.parametrize("today", [datetime.date(2026, 6, 17), datetime.date(2026, 6, 18)])
def test_deadline_window_follows_the_calendar(db, today):
    """Around a holiday (the Dragon Boat festival, Friday 19 June 2026) the window holds
    exactly the service days whose deadline is at most two working days away."""
    CalendarDay.objects.update_or_create(
        date=datetime.date(2026, 6, 19), defaults={"kind": CalendarDayKind.HOLIDAY}
    )
    days = reminders.deadline_near_days(today)
    last = add_working_days(today, 2)
    for offset in range(40):
        day = today - datetime.timedelta(days=offset)
        deadline = recording_deadline(day)
        assert (day in days) == (today <= deadline <= last), day
        if day in days:
            assert days[day] == deadline
    assert days


@pytest.fixture
def near(world):
    cast = world.cast
    on_the_2nd = activity(world.team, at("2026-06-02", 9))
    attended(on_the_2nd, cast.volunteer)
    attended(activity(world.team, at("2026-06-04", 9)), cast.team_leader)  # time enough
    record(cast.outsider, start=at("2026-06-02", 9), team=world.team)
    record(cast.outsider, start=at("2026-06-05", 9), team=world.team)  # time enough
    return on_the_2nd


def test_deadline_near_volunteer_and_reviewers(near, world):
    created = reminders.remind_deadline_near(now=NOW)
    notes = Notification.objects.filter(kind=NotificationKind.DEADLINE_NEAR)
    by_user = {n.user.username: n for n in notes.select_related("user")}
    assert set(by_user) == {"volunteer", "team_leader", "branch_secretary", "city_admin"}
    assert created == 4
    signup_pk = Signup.objects.get(activity=near, volunteer=world.cast.volunteer).pk
    assert by_user["volunteer"].key == f"deadline_near:signup:{signup_pk}:2026-06-16"
    assert by_user["team_leader"].title == zh(
        "%(count)d records you review are close to their deadline"
    ) % {"count": 1}
    assert reminders.remind_deadline_near(now=NOW) == 0


def test_deadline_near_volunteer_once_per_signup(near):
    reminders.remind_deadline_near(now=NOW)
    # the next day: the reviewers' digest again, the volunteer not again (and the leader's
    # sign-up of 4 June has now come close too)
    reminders.remind_deadline_near(now=NOW + DAY)
    assert Notification.objects.filter(user__username="volunteer").count() == 1
    assert Notification.objects.filter(user__username="branch_secretary").count() == 2


# --- Certificates waiting -----------------------------------------------------------------


def certificate(volunteer, issuer, status=CertificateStatus.REQUESTED):
    return Certificate.objects.create(
        volunteer=volunteer,
        issuer=issuer,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 5, 31),
        status=status,
    )


def test_certificates_waiting_to_the_issuers_managers(world):
    cast, tree = world.cast, world.tree
    certificate(cast.volunteer, tree.branch)
    certificate(cast.team_leader, tree.branch)
    certificate(cast.branch_secretary, tree.branch)  # their own: not for them
    certificate(cast.volunteer, tree.branch, status=CertificateStatus.ISSUED)
    certificate(cast.outsider, tree.other_branch, status=CertificateStatus.REJECTED)
    assert reminders.remind_certificates_waiting(today=TODAY) == 1
    note = Notification.objects.get()
    assert note.user == cast.branch_secretary
    assert note.title == zh("%(count)d certificate requests wait for you") % {"count": 2}
    assert reminders.remind_certificates_waiting(today=TODAY) == 0


def test_certificate_deleted_before_the_reminder(world):
    Certificate.objects.filter(pk=certificate(world.cast.volunteer, world.tree.branch).pk).delete()
    assert reminders.remind_certificates_waiting(today=TODAY) == 0


# --- Campaign days ahead ------------------------------------------------------------------


def campaign(organization, date, name="学雷锋志愿服务日"):
    return Campaign.objects.create(
        kind=CampaignKind.LEI_FENG,
        name=name,
        date=date,
        organization=organization,
        title="学雷锋集中行动",
        category=category(),
        start_time=datetime.time(9),
        end_time=datetime.time(11),
    )


def test_campaign_ahead_to_team_leaders_in_the_subtree(world):
    tree = world.tree
    other_leader = UserFactory(username="other_leader")
    TeamMembership.objects.create(
        team=world.other_team,
        user=other_leader,
        role=TeamRole.LEADER,
        status=TeamMembershipStatus.ACTIVE,
    )
    dormant = Team.objects.create(organization=tree.branch, name="停用服务队", is_active=False)
    TeamMembership.objects.create(
        team=dormant,
        user=world.cast.outsider,
        role=TeamRole.LEADER,
        status=TeamMembershipStatus.ACTIVE,
    )
    soon = campaign(tree.street, TODAY + 3 * DAY)
    campaign(tree.street, TODAY + 9 * DAY, name="太远")
    campaign(tree.street, TODAY - DAY, name="已过")
    assert reminders.remind_campaign_ahead(today=TODAY) == 1
    note = Notification.objects.get()
    assert note.user == world.cast.team_leader
    assert note.key == f"campaign_ahead:campaign:{soon.pk}:2026-06-18"
    assert reminders.remind_campaign_ahead(today=TODAY + DAY) == 0
    # the city's campaign reaches the other district's leader too
    campaign(tree.city, TODAY + 7 * DAY, name="全市")
    assert reminders.remind_campaign_ahead(today=TODAY) == 2


def test_campaign_deleted_before_the_reminder(world):
    Campaign.objects.filter(pk=campaign(world.tree.street, TODAY + DAY).pk).delete()
    assert reminders.remind_campaign_ahead(today=TODAY) == 0


# --- The daily run ------------------------------------------------------------------------


def test_daily_run_twice_gives_nothing_new(tomorrow, done, pending, world):
    first = reminders.run_daily(now=NOW)
    assert first["activity_tomorrow"] == 1
    assert first["service_not_logged"] == 2
    assert first["records_to_review"] == 4
    assert not any(reminders.run_daily(now=NOW).values())


def test_each_reminder_links_to_the_page_that_acts_on_it(tomorrow, done, pending, world):
    from django.urls import reverse

    reminders.run_daily(now=NOW)
    links = {
        kind: set(Notification.objects.filter(kind=kind).values_list("url", flat=True))
        for kind in (
            NotificationKind.ACTIVITY_TOMORROW,
            NotificationKind.SERVICE_NOT_LOGGED,
            NotificationKind.RECORDS_TO_REVIEW,
        )
    }
    assert links[NotificationKind.ACTIVITY_TOMORROW] == {
        reverse("portal:activity-detail", kwargs={"pk": tomorrow.pk})
    }
    assert links[NotificationKind.SERVICE_NOT_LOGGED] == {reverse("portal:record-new")}
    assert links[NotificationKind.RECORDS_TO_REVIEW] == {reverse("portal:review-queue")}
