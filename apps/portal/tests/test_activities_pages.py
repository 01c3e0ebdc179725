# ruff: noqa: F811 (the aworld fixture is imported from activity_fixtures)
"""The portal's activity pages: what they show, sign-up and attendance end to end, QR
check-in through the pages, every form refusing bad input, and query budgets."""

import datetime
import html
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.activities import checkin
from apps.activities.models import Activity, ActivityStatus, Attendance, Signup, SignupStatus
from apps.portal.tests.activity_fixtures import aworld, make_activity  # noqa: F401
from apps.service_records.models import ServiceRecord
from apps.teams.tests.fixtures import make_volunteer
from conftest import zh

pytestmark = pytest.mark.django_db


def content(response):
    return html.unescape(response.content.decode())


def local_input(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def snapshot():
    """Everything the activity pages may write."""
    return (
        list(Activity.objects.order_by("pk").values()),
        list(Signup.objects.order_by("pk").values()),
    )


# --- The directory and an activity's page ----------------------------------------------------


def test_directory_lists_published_upcoming_activities_with_places(aworld, client_as):
    w = aworld
    past = make_activity(
        organization=w.tree.branch,
        team=w.team,
        category=w.category,
        start=timezone.now() - datetime.timedelta(days=3),
        title="上周的活动",
    )
    page = content(client_as(w.cast.outsider).get(reverse("portal:activity-list")))
    assert w.activity.title in page and w.other_activity.title in page
    assert w.draft.title not in page and past.title not in page
    # 10 places, the volunteer holds one.
    assert 'data-places-left="9"' in page
    assert "剩余 9 个名额" in page
    mine = content(client_as(w.cast.volunteer).get(reverse("portal:activity-list")))
    assert zh("Signed up") in mine


def test_directory_filters_by_category_and_community(aworld, client_as):
    w = aworld
    client = client_as(w.cast.volunteer)
    url = reverse("portal:activity-list")
    page = content(client.get(url, {"community": w.other_community.pk}))
    assert w.other_activity.title in page and w.activity.title not in page
    page = content(client.get(url, {"category": w.category.pk + 999}))
    assert w.activity.title not in page and zh("No activities to sign up for right now.") in page
    fragment = content(client.get(url, {"community": w.community.pk}, HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment and w.activity.title in fragment
    # Nonsense filters are ignored, not a 500.
    assert client.get(url, {"category": "x", "community": "y", "page": "z"}).status_code == 200


def test_detail_discloses_risks_before_sign_up(aworld, client_as):
    w = aworld
    volunteer = make_volunteer(real_name="新志愿者")
    page = content(
        client_as(volunteer).get(reverse("portal:activity-detail", args=[w.activity.pk]))
    )
    assert w.activity.risks in page
    assert w.tree.branch.name in page and w.team.name in page
    # The disclosure comes before the sign-up form.
    assert page.index(w.activity.risks) < page.index("data-signup-form")
    assert zh("I have read what this activity involves and its risks.") in page
    assert reverse("portal:activity-manage", args=[w.activity.pk]) not in page


def test_sign_up_then_cancel(aworld, client_as):
    w = aworld
    volunteer = make_volunteer(real_name="新志愿者")
    client = client_as(volunteer)
    response = client.post(
        reverse("portal:activity-signup", args=[w.activity.pk]), {"risks_read": "on"}, follow=True
    )
    assert zh("You are signed up. See you there!") in content(response)
    signup = Signup.objects.get(activity=w.activity, volunteer=volunteer)
    assert signup.status == SignupStatus.CONFIRMED
    assert 'data-my-status="confirmed"' in content(response)
    assert w.activity.title in content(client.get(reverse("portal:my-activities")))
    response = client.post(
        reverse("portal:activity-signup-cancel", args=[signup.pk]), {"next": "mine"}, follow=True
    )
    assert zh("The sign-up is cancelled.") in content(response)
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CANCELLED


def test_full_activity_puts_the_volunteer_on_the_waiting_list(aworld, client_as):
    w = aworld
    Activity.objects.filter(pk=w.activity.pk).update(capacity=1)
    volunteer = make_volunteer(real_name="候补者")
    client = client_as(volunteer)
    response = client.post(
        reverse("portal:activity-signup", args=[w.activity.pk]), {"risks_read": "on"}, follow=True
    )
    page = content(response)
    assert zh("The activity is full: you are on the waiting list and will be told.") in page
    assert "您在候补名单中排第 1 位" in page
    assert Signup.objects.get(volunteer=volunteer).status == SignupStatus.WAITLISTED


def test_sign_up_refusals_show_the_reason_and_save_nothing(aworld, client_as):
    w = aworld
    before = snapshot()
    url = reverse("portal:activity-signup", args=[w.activity.pk])
    volunteer = make_volunteer(real_name="没勾选的人")
    before = snapshot()
    # Art. 12: the risks must be acknowledged.
    response = client_as(volunteer).post(url, {}, follow=True)
    assert zh("Please confirm that you have read the risks before signing up.") in content(response)
    # Not a registered volunteer: the service's reason.
    response = client_as(w.cast.outsider).post(url, {"risks_read": "on"}, follow=True)
    assert zh("Register as a volunteer first: only registered volunteers can sign up.") in content(
        response
    )
    # Twice.
    response = client_as(w.cast.volunteer).post(url, {"risks_read": "on"}, follow=True)
    assert zh("You have already signed up for this activity.") in content(response)
    assert snapshot() == before


# --- My activities ----------------------------------------------------------------------------


def test_my_activities_shows_upcoming_and_past_with_attendance(aworld, client_as):
    w = aworld
    past = make_activity(
        organization=w.tree.branch,
        team=w.team,
        category=w.category,
        start=timezone.now() - datetime.timedelta(days=3),
        title="上周的活动",
    )
    Signup.objects.create(
        activity=past,
        volunteer=w.cast.volunteer,
        attendance=Attendance.NO_SHOW,
    )
    page = content(client_as(w.cast.volunteer).get(reverse("portal:my-activities")))
    assert page.index(w.activity.title) < page.index(zh("Past activities")) < page.index(past.title)
    assert 'data-attendance="no_show"' in page
    assert w.other_activity.title not in page


# --- The organiser's desk ---------------------------------------------------------------------


def _new_data(w, **overrides):
    start = w.activity.starts_at + datetime.timedelta(days=2)
    data = {
        "team": w.team.pk,
        "title": "重阳节敬老",
        "category": w.category.pk,
        "starts_at": local_input(start),
        "ends_at": local_input(start + datetime.timedelta(hours=2)),
        "place": "桂园社区活动室",
        "community": w.community.pk,
        "capacity": 5,
        "description": "包饺子",
        "risks": "",
    }
    data.update(overrides)
    return data


def test_team_leader_creates_publishes_and_manages(aworld, client_as):
    w = aworld
    client = client_as(w.cast.team_leader)
    assert client.get(reverse("portal:activity-new")).status_code == 200
    response = client.post(reverse("portal:activity-new"), _new_data(w), follow=True)
    assert zh("The activity is saved as a draft: publish it when it is ready.") in content(response)
    created = Activity.objects.get(title="重阳节敬老")
    assert created.status == ActivityStatus.DRAFT
    assert created.organization == w.tree.branch and created.responsible == w.cast.team_leader
    response = client.post(reverse("portal:activity-publish", args=[created.pk]), follow=True)
    assert zh("The activity is published: volunteers can sign up.") in content(response)
    created.refresh_from_db()
    assert created.status == ActivityStatus.PUBLISHED
    page = content(client.get(reverse("portal:activity-manage", args=[w.activity.pk])))
    assert w.cast.volunteer.real_name in page
    assert reverse("portal:activity-qr", args=[w.activity.pk, "in"]) in page
    assert reverse("portal:activity-qr", args=[w.activity.pk, "out"]) in page


def test_manage_shows_the_residents_evaluation_qr(aworld, client_as):
    w = aworld
    try:
        rate = reverse("portal:activity-rate", args=[w.activity.evaluation_token])
    except NoReverseMatch:
        pytest.skip("the records pages do not provide portal:activity-rate yet")
    page = content(
        client_as(w.cast.team_leader).get(reverse("portal:activity-manage", args=[w.activity.pk]))
    )
    assert "http://testserver" + rate in page
    assert "<svg" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_at": "2020-01-01T08:00"}, "The end must be after the start."),
        ({"team": ""}, "Choose a team you lead or an organising unit."),
        ({"title": ""}, "This field is required."),
        ({"capacity": 0}, "Ensure this value is greater than or equal to %(limit_value)s."),
        ({"starts_at": "昨天"}, "Enter a valid date/time."),
    ],
)
def test_create_refusals(aworld, client_as, overrides, message):
    w = aworld
    before = snapshot()
    response = client_as(w.cast.team_leader).post(
        reverse("portal:activity-new"), _new_data(w, **overrides)
    )
    assert response.status_code == 200
    expected = zh(message)
    if "%(limit_value)s" in expected:
        expected = expected % {"limit_value": 1}
    assert expected in content(response)
    assert snapshot() == before


def test_create_for_a_team_of_someone_else_is_refused(aworld, client_as):
    w = aworld
    before = snapshot()
    response = client_as(w.cast.other_branch_secretary).post(
        reverse("portal:activity-new"), _new_data(w)
    )
    assert response.status_code == 200
    assert zh("Select a valid choice. That choice is not one of the available choices.") in content(
        response
    )
    assert snapshot() == before


def test_edit_saves_and_refuses(aworld, client_as):
    w = aworld
    client = client_as(w.cast.branch_secretary)
    url = reverse("portal:activity-edit", args=[w.activity.pk])
    page = content(client.get(url))
    assert w.activity.title in page and local_input(w.activity.starts_at) in page
    data = _new_data(w, title="改过的标题")
    del data["team"]
    data["starts_at"] = local_input(w.activity.starts_at)
    data["ends_at"] = local_input(w.activity.ends_at)
    response = client.post(url, data, follow=True)
    assert zh("The activity is saved.") in content(response)
    w.activity.refresh_from_db()
    assert w.activity.title == "改过的标题"
    before = snapshot()
    response = client.post(url, {**data, "ends_at": data["starts_at"]})
    assert zh("The end must be after the start.") in content(response)
    response = client.post(url, {**data, "title": "再改", "capacity": ""})
    assert zh("This field is required.") in content(response)
    assert snapshot() == before


def test_cancel_needs_a_reason(aworld, client_as):
    w = aworld
    client = client_as(w.cast.team_leader)
    url = reverse("portal:activity-cancel", args=[w.activity.pk])
    before = snapshot()
    for reason in ("", "   "):
        response = client.post(url, {"reason": reason}, follow=True)
        assert zh("This field is required.") in content(response)
    assert snapshot() == before
    response = client.post(url, {"reason": "暴雨预警"}, follow=True)
    assert zh("The activity is cancelled; those signed up are told.") in content(response)
    w.activity.refresh_from_db()
    w.signup.refresh_from_db()
    assert w.activity.status == ActivityStatus.CANCELLED
    assert w.signup.status == SignupStatus.CANCELLED
    page = content(
        client_as(w.cast.volunteer).get(reverse("portal:activity-detail", args=[w.activity.pk]))
    )
    assert "暴雨预警" in page


def test_repeat_weekly(aworld, client_as):
    w = aworld
    client = client_as(w.cast.team_leader)
    url = reverse("portal:activity-repeat", args=[w.activity.pk])
    first_day = timezone.localtime(w.activity.starts_at).date()
    before = snapshot()
    response = client.post(url, {"until": first_day.isoformat()}, follow=True)
    assert zh("The repeat must end at least one week after the activity.") in content(response)
    response = client.post(url, {"until": "not a date"}, follow=True)
    assert zh("Enter a valid date.") in content(response)
    assert snapshot() == before
    until = first_day + datetime.timedelta(weeks=3)
    response = client.post(url, {"until": until.isoformat()}, follow=True)
    assert "已按周创建 3 场活动" in content(response)
    assert Activity.objects.filter(series=w.activity).count() == 3


def test_leader_marks_attendance_and_no_shows(aworld, client_as):
    w = aworld
    client = client_as(w.cast.team_leader)
    late = make_volunteer(real_name="没手机的老党员")
    signup = Signup.objects.create(activity=w.running, volunteer=late)
    url = reverse("portal:activity-attendance", args=[signup.pk])
    before = snapshot()
    start = w.running.starts_at
    bad = [
        (
            {"action": "attend", "checked_in_at": local_input(start), "checked_out_at": ""},
            "Enter when the volunteer left.",
        ),
        (
            {
                "action": "attend",
                "checked_in_at": local_input(start + datetime.timedelta(minutes=30)),
                "checked_out_at": local_input(start),
            },
            "Check-out must come after check-in.",
        ),
        (
            {"action": "dance"},
            "Select a valid choice. %(value)s is not one of the available choices.",
        ),
    ]
    for data, message in bad:
        response = client.post(url, data, follow=True)
        expected = zh(message)
        if "%(value)s" in expected:
            expected = expected % {"value": "dance"}
        assert expected in content(response), message
    assert snapshot() == before
    response = client.post(
        url,
        {
            "action": "attend",
            "checked_in_at": local_input(start),
            "checked_out_at": local_input(start + datetime.timedelta(minutes=50)),
        },
        follow=True,
    )
    assert "没手机的老党员" in content(response)
    signup.refresh_from_db()
    assert signup.attendance == Attendance.ATTENDED
    assert signup.checked_in_at == start
    response = client.post(
        reverse("portal:activity-attendance", args=[w.running_signup.pk]),
        {"action": "no_show"},
        follow=True,
    )
    w.running_signup.refresh_from_db()
    assert w.running_signup.attendance == Attendance.NO_SHOW
    assert 'data-attendance="no_show"' in content(response)


# --- QR check-in and check-out ----------------------------------------------------------------


def _checkin_url(page: str) -> str:
    match = re.search(r'data-checkin-url="([^"]+)"', page)
    assert match, "no check-in URL on the QR screen"
    return match.group(1)


def test_qr_screen_polls_for_a_fresh_code(aworld, client_as):
    w = aworld
    client = client_as(w.cast.team_leader)
    page = content(client.get(reverse("portal:activity-qr", args=[w.running.pk, "in"])))
    assert "<svg" in page
    assert 'hx-trigger="every 30s"' in page
    assert reverse("portal:activity-qr-fragment", args=[w.running.pk, "in"]) in page
    url = _checkin_url(page)
    assert url.startswith("http://testserver/")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert checkin.read_token(token) == (w.running.pk, "in")
    fragment = content(
        client.get(
            reverse("portal:activity-qr-fragment", args=[w.running.pk, "in"]),
            HTTP_HX_REQUEST="true",
        )
    )
    assert "<html" not in fragment and "<svg" in fragment


def test_check_in_and_out_through_the_pages(aworld, client_as):
    w = aworld
    leader = client_as(w.cast.team_leader)
    url_in = _checkin_url(
        content(leader.get(reverse("portal:activity-qr", args=[w.running.pk, "in"])))
    )
    url_out = _checkin_url(
        content(leader.get(reverse("portal:activity-qr", args=[w.running.pk, "out"])))
    )
    client = client_as(w.cast.volunteer)
    page = content(client.get(url_in))
    assert w.running.title in page and zh("Check in now") in page
    response = client.post(url_in)
    assert response.status_code == 200
    w.running_signup.refresh_from_db()
    assert w.running_signup.attendance == Attendance.CHECKED_IN
    time = timezone.localtime(w.running_signup.checked_in_at).strftime("%H:%M")
    assert zh("Checked in at %(time)s.") % {"time": time} in content(response)
    # Twice: the clear reason, not a 500.
    response = client.post(url_in)
    assert response.status_code == 200
    assert zh("You have already checked in.") in content(response)
    # Checking out at once: the service records refuse a record of no time, the page says so.
    page = content(client.get(url_out))
    assert zh("Check out now") in page
    response = client.post(url_out)
    assert response.status_code == 200
    assert zh("The service time must be more than zero.") in content(response)
    w.running_signup.refresh_from_db()
    assert w.running_signup.checked_out_at is None
    # Forty minutes of service later.
    Signup.objects.filter(pk=w.running_signup.pk).update(
        checked_in_at=timezone.now() - datetime.timedelta(minutes=40)
    )
    response = client.post(url_out)
    assert response.status_code == 200
    assert "data-checkin-done" in content(response)
    w.running_signup.refresh_from_db()
    assert w.running_signup.attendance == Attendance.ATTENDED
    assert ServiceRecord.objects.filter(
        volunteer=w.cast.volunteer, activity=w.running, duration_minutes=40
    ).exists()


def test_check_in_refusals_are_shown_with_status_200(aworld, client_as):
    w = aworld
    client = client_as(w.cast.volunteer)
    before = snapshot()
    old = checkin.make_token(
        activity=w.running,
        direction="in",
        now=timezone.now() - datetime.timedelta(seconds=settings.CHECKIN_QR_MAX_AGE_SECONDS + 60),
    )
    bad_tokens = [
        (old, "This QR code has expired: scan the code on the leader's screen again."),
        ("forged-token", "This QR code is not valid: scan the code on the leader's screen again."),
    ]
    for token, message in bad_tokens:
        url = reverse("portal:activity-checkin", args=[token])
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 200
            assert zh(message) in content(response)
            assert "data-checkin-confirm" not in content(response)
    # The check-out code before checking in.
    token = checkin.make_token(activity=w.running, direction="out")
    response = client.post(reverse("portal:activity-checkin", args=[token]))
    assert response.status_code == 200
    assert zh("You have not checked in yet.") in content(response)
    assert snapshot() == before
    # Somebody who is not a registered volunteer, walking in.
    stranger = UserFactory(real_name="路人乙")
    token = checkin.make_token(activity=w.running, direction="in")
    response = client_as(stranger).post(reverse("portal:activity-checkin", args=[token]))
    assert response.status_code == 200
    assert zh("Register as a volunteer first: only registered volunteers can sign up.") in content(
        response
    )
    assert snapshot() == before


def test_anonymous_scanner_is_sent_to_login_and_back(aworld, client):
    w = aworld
    url = reverse(
        "portal:activity-checkin", args=[checkin.make_token(activity=w.running, direction="in")]
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert "next=" in response["Location"]


# --- Query budgets ----------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _grow_activities(w, rows):
    start = w.activity.starts_at
    for i in range(rows):
        activity = make_activity(
            organization=w.tree.branch,
            team=w.team,
            community=w.community,
            category=w.category,
            start=start + datetime.timedelta(days=30 + i),
            title=f"活动{i}",
        )
        Signup.objects.create(activity=activity, volunteer=make_volunteer())


def _grow_my_signups(w, rows):
    base = timezone.now() + datetime.timedelta(days=400 + Signup.objects.count())
    for i in range(rows):
        for offset in (datetime.timedelta(days=i), -datetime.timedelta(days=500 + i)):
            activity = make_activity(
                organization=w.tree.branch,
                team=w.team,
                community=w.community,
                category=w.category,
                start=base + offset,
                title=f"我的活动{i}",
            )
            Signup.objects.create(activity=activity, volunteer=w.cast.volunteer)


def _grow_roster(w, rows):
    for _ in range(rows):
        Signup.objects.create(activity=w.activity, volunteer=make_volunteer())


@pytest.mark.parametrize(
    ("role", "url_name", "grow"),
    [
        # session, user, scope (roles), the page, its count, the community filter, the
        # "may organise" checks, the messages: none grows with the rows.
        ("volunteer", "portal:activity-list", _grow_activities),
        ("team_leader", "portal:activity-list", _grow_activities),
        # session, user, upcoming sign-ups, past count and page, what I organise.
        ("volunteer", "portal:my-activities", _grow_my_signups),
        ("team_leader", "portal:my-activities", _grow_activities),
        # session, user, scope, the activity, the roster in one query.
        ("team_leader", "portal:activity-manage", _grow_roster),
    ],
)
def test_list_queries_stay_constant(aworld, client_as, role, url_name, grow):
    w = aworld
    url = reverse(url_name, args=[w.activity.pk] if url_name == "portal:activity-manage" else [])
    client = client_as(getattr(w.cast, role))
    grow(w, 10)
    small = _count(client, url)
    grow(w, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"


def test_qr_screen_warns_outside_the_check_in_window(aworld, client_as):
    w = aworld
    client = client_as(w.cast.team_leader)
    page = content(client.get(reverse("portal:activity-qr", args=[w.activity.pk, "in"])))
    assert "data-window-closed" in page
    page = content(client.get(reverse("portal:activity-qr", args=[w.running.pk, "in"])))
    assert "data-window-closed" not in page


def test_organiser_cancels_a_sign_up_from_the_roster(aworld, client_as):
    w = aworld
    client = client_as(w.cast.community_staff)
    page = content(client.get(reverse("portal:activity-manage", args=[w.activity.pk])))
    assert reverse("portal:activity-signup-cancel", args=[w.signup.pk]) in page
    response = client.post(
        reverse("portal:activity-signup-cancel", args=[w.signup.pk]), {"next": "manage"}
    )
    assert response["Location"] == reverse("portal:activity-manage", args=[w.activity.pk])
    w.signup.refresh_from_db()
    assert w.signup.status == SignupStatus.CANCELLED


def test_organisers_find_their_drafts_on_my_activities(aworld, client_as):
    w = aworld
    page = content(client_as(w.cast.team_leader).get(reverse("portal:my-activities")))
    assert reverse("portal:activity-manage", args=[w.draft.pk]) in page
    assert f'data-organising="{w.other_activity.pk}"' not in page
    page = content(client_as(w.cast.volunteer).get(reverse("portal:my-activities")))
    assert "data-organising" not in page
