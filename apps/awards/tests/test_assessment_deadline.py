"""The annual assessment deadline: set by the city's administrators in the admin, checked,
audited, and announced to the organisations' managers in the week before."""

import datetime

import pytest
from django.urls import reverse

from apps.awards.models import AssessmentYear, YearStatus
from apps.awards.rollup import assessment_year_set_deadline
from apps.core.models import AuditEntry
from apps.notifications import reminders
from apps.notifications.models import Notification, NotificationKind
from conftest import zh

pytestmark = pytest.mark.django_db

YEAR = 2026
DEADLINE = datetime.date(2027, 1, 20)


def change_url(assessment_year):
    return reverse("admin:awards_assessmentyear_change", args=[assessment_year.pk])


def test_city_admin_adds_a_year_with_its_deadline(client_as, city_admin):
    response = client_as(city_admin).post(
        reverse("admin:awards_assessmentyear_add"),
        {"year": YEAR, "submission_deadline": DEADLINE.isoformat()},
    )
    assert response.status_code == 302
    year = AssessmentYear.objects.get(year=YEAR)
    assert (year.submission_deadline, year.status) == (DEADLINE, YearStatus.OPEN)
    entry = AuditEntry.objects.get(action="assessment_year.deadline")
    assert (entry.actor, entry.details) == (city_admin, {"deadline": "2027-01-20"})


@pytest.mark.parametrize("deadline", ["2025-12-31", "2028-01-01"])
def test_a_deadline_outside_the_year_and_the_next_is_refused(client_as, city_admin, deadline):
    year = AssessmentYear.objects.create(year=YEAR)
    response = client_as(city_admin).post(change_url(year), {"submission_deadline": deadline})
    assert response.status_code == 200
    message = zh("The deadline for %(year)s must fall in %(year)s or %(next)s.") % {
        "year": YEAR,
        "next": YEAR + 1,
    }
    assert message in response.content.decode()
    year.refresh_from_db()
    assert year.submission_deadline is None
    assert not AuditEntry.objects.filter(action="assessment_year.deadline").exists()


def test_a_closed_year_keeps_its_deadline(client_as, city_admin):
    year = AssessmentYear.objects.create(
        year=YEAR, status=YearStatus.CLOSED, submission_deadline=DEADLINE
    )
    response = client_as(city_admin).post(change_url(year), {"submission_deadline": "2027-02-01"})
    assert response.status_code == 200
    assert zh("The assessment year %(year)s is already closed.") % {"year": YEAR} in (
        response.content.decode()
    )
    year.refresh_from_db()
    assert year.submission_deadline == DEADLINE


def test_secretaries_see_the_deadline_but_may_not_change_it(client_as, branch_secretary):
    year = AssessmentYear.objects.create(year=YEAR, submission_deadline=DEADLINE)
    client = client_as(branch_secretary)
    assert client.get(change_url(year)).status_code == 200
    response = client.post(change_url(year), {"submission_deadline": "2027-01-05"})
    assert response.status_code == 403
    year.refresh_from_db()
    assert year.submission_deadline == DEADLINE
    with pytest.raises(Exception) as refused:
        assessment_year_set_deadline(
            actor=branch_secretary, year=YEAR, deadline=datetime.date(2027, 1, 5)
        )
    assert zh("Only the city's administrators may set the assessment deadline.") in str(
        refused.value
    )


def test_managers_hear_in_the_week_before_once(world):
    AssessmentYear.objects.create(year=YEAR, submission_deadline=DEADLINE)
    assert reminders.remind_assessment_deadline(today=DEADLINE - datetime.timedelta(days=8)) == 0
    sent = reminders.remind_assessment_deadline(today=DEADLINE - datetime.timedelta(days=7))
    recipients = set(
        Notification.objects.filter(kind=NotificationKind.ASSESSMENT_DEADLINE).values_list(
            "user__username", flat=True
        )
    )
    # Managing roles only: the inspector (read only), members and outsiders do not hear.
    assert recipients == {"city_admin", "branch_secretary", "other_branch_secretary"}
    assert sent == 3
    assert reminders.remind_assessment_deadline(today=DEADLINE - datetime.timedelta(days=2)) == 0
    note = Notification.objects.filter(user=world.cast.branch_secretary).get()
    assert note.title == zh("The %(year)s assessment is due on %(deadline)s") % {
        "year": YEAR,
        "deadline": "2027-01-20",
    }
    assert note.url == reverse("dashboard:rollup-detail", kwargs={"year": YEAR})


def test_no_reminder_for_a_closed_year_or_a_past_deadline(world):
    AssessmentYear.objects.create(year=YEAR, submission_deadline=DEADLINE, status=YearStatus.CLOSED)
    AssessmentYear.objects.create(
        year=YEAR - 1, submission_deadline=DEADLINE - datetime.timedelta(days=400)
    )
    assert reminders.remind_assessment_deadline(today=DEADLINE - datetime.timedelta(days=3)) == 0
    assert not Notification.objects.exists()
