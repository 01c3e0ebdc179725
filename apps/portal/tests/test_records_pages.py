"""Service-record pages: logging service on the phone, correcting it, the review queue (htmx
and bulk), a team's records and entry for several volunteers, the rating pages; bad input on
every form with its message and nothing saved; query counts that do not grow with the rows."""

import datetime
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.care.tests.request_fixtures import png
from apps.core.models import AuditEntry
from apps.core.workdays import working_days_after
from apps.portal.record_views import late_before
from apps.portal.tests.test_records_permissions import local, make_record, recworld  # noqa: F401
from apps.service_records.models import (
    Evaluation,
    Evidence,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.service_records.tasks import queue_waiting_checks
from conftest import zh

pytestmark = pytest.mark.django_db

FLAG = {
    "code": "same_content",
    "params": {"count": 7, "days": 30, "limit": 5},
    "reason": "The same description was used for 7 services within 30 days.",
}


@pytest.fixture
def w(recworld):  # noqa: F811
    return recworld


def text(response) -> str:
    return response.content.decode()


def shows(response, message: str) -> bool:
    return html.escape(message) in text(response)


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def form_data(w, **changes):
    data = {
        "activity_name": "清理楼道杂物",
        "category": w.category.pk,
        "service_date": yesterday().isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "duration_hours": "",
        "place": "桂园社区3栋",
        "content": "清理楼道堆放的杂物",
        "team": w.team.pk,
        "responsible_person": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def bulk_records(volunteer, count, *, day, team=None, status=RecordStatus.SUBMITTED, flags=None):
    """``count`` five-minute records on ``day``, straight into the table (fast)."""
    from apps.accounts.models import ServiceCategory

    category = ServiceCategory.objects.filter(is_active=True).first()
    start = local(day, 0)
    rows = []
    for n in range(count):
        began = start + datetime.timedelta(minutes=10 * n)
        rows.append(
            ServiceRecord(
                volunteer=volunteer,
                activity_name=f"巡查 {n}",
                category=category,
                started_at=began,
                ended_at=began + datetime.timedelta(minutes=5),
                service_date=day,
                duration_minutes=5,
                place="桂园社区",
                content=f"第{n}次巡查",
                responsible_person="李明",
                team=team,
                source=RecordSource.SELF_REPORTED,
                status=status,
                flags=flags if flags and n % 2 else [],
            )
        )
    ServiceRecord.objects.bulk_create(rows)


# Logging service ----------------------------------------------------------------------


class TestLogService:
    url = "/records/new/"

    def test_a_volunteer_logs_service_and_the_page_remembers_the_team_and_place(self, client_as, w):
        client = client_as(w.cast.volunteer)
        page = client.get(reverse("portal:record-new"))
        assert page.status_code == 200
        assert 'name="duration_hours"' in text(page)
        response = client.post(
            reverse("portal:record-new"),
            form_data(w, duration_hours="1.5", photos=[png("a.png")]),
        )
        record = ServiceRecord.objects.get(activity_name="清理楼道杂物")
        detail = reverse("portal:record-detail", args=[record.pk])
        assert response["Location"] == f"{detail}?recorded=1"
        assert "messages" not in response.cookies  # the record's page says it instead
        assert record.duration_minutes == 90  # travel excluded: less than the 2 hours
        assert record.team == w.team and record.organization == w.tree.branch
        assert record.responsible_person == "李明"  # the team's leader
        assert record.status == RecordStatus.SUBMITTED
        assert Evidence.objects.filter(record=record).count() == 1
        again = text(client.get(reverse("portal:record-new")))
        assert 'value="桂园社区3栋"' in again
        assert f'<option value="{w.team.pk}" selected>' in again

    def test_the_paired_household_is_offered_and_only_it_is_taken(self, client_as, w):
        from apps.care.models import CareRecipient, RecipientPairing

        paired = CareRecipient.objects.create(name="结对老人甲", community=w.community)
        other = CareRecipient.objects.create(name="其他老人乙", community=w.community)
        RecipientPairing.objects.create(volunteer=w.cast.volunteer, recipient=paired)
        client = client_as(w.cast.volunteer)
        page = text(client.get(reverse("portal:record-new")))
        assert f'<option value="{paired.pk}">{paired}</option>' in page
        assert str(other) not in page
        before = ServiceRecord.objects.count()
        refused = client.post(reverse("portal:record-new"), form_data(w, care_recipient=other.pk))
        assert refused.status_code == 200
        assert shows(
            refused,
            zh("Select a valid choice. That choice is not one of the available choices."),
        )
        assert f'<option value="{paired.pk}">{paired}</option>' in text(refused)  # still offered
        assert ServiceRecord.objects.count() == before
        client.post(reverse("portal:record-new"), form_data(w, care_recipient=paired.pk))
        assert ServiceRecord.objects.get(activity_name="清理楼道杂物").care_recipient == paired

    def test_without_a_duration_the_times_give_it(self, client_as, w):
        client_as(w.cast.volunteer).post(reverse("portal:record-new"), form_data(w))
        assert ServiceRecord.objects.get(activity_name="清理楼道杂物").duration_minutes == 120

    def test_an_overlap_is_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"), form_data(w, start_time="10:00", end_time="12:00")
        )
        assert response.status_code == 200
        assert shows(
            response,
            zh(
                "This overlaps the record “%(name)s” from %(start)s to %(end)s: one person "
                "cannot serve twice at the same time."
            )
            % {
                "name": w.submitted.activity_name,
                "start": f"{yesterday():%Y-%m-%d} 09:00",
                "end": f"{yesterday():%Y-%m-%d} 11:00",
            },
        )
        assert ServiceRecord.objects.count() == before

    def test_the_future_is_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"), form_data(w, service_date=tomorrow.isoformat())
        )
        assert shows(
            response, zh("Service can only be recorded once it has ended, not in advance.")
        )
        assert ServiceRecord.objects.count() == before

    def test_25_hours_in_a_day_is_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"),
            form_data(w, start_time="00:00", end_time="23:59", duration_hours="25"),
        )
        assert shows(
            response,
            zh(
                "The service time (%(minutes)d minutes) cannot be longer than the time "
                "from start to end (%(span)d minutes)."
            )
            % {"minutes": 1500, "span": 1439},
        )
        assert ServiceRecord.objects.count() == before

    def test_more_than_the_daily_cap_is_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"),
            form_data(
                w,
                service_date=(yesterday() - datetime.timedelta(days=5)).isoformat(),
                start_time="06:00",
                end_time="19:00",
            ),
        )
        assert shows(
            response,
            zh("At most %(hours)d hours of service can be recorded for one day.") % {"hours": 12},
        )
        assert ServiceRecord.objects.count() == before

    def test_an_end_before_the_start_is_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"), form_data(w, start_time="16:00", end_time="14:00")
        )
        assert shows(response, zh("The end must be after the start."))
        assert ServiceRecord.objects.count() == before

    def test_a_file_that_is_not_a_photo_is_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        fake = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"), form_data(w, photos=[fake])
        )
        assert shows(
            response,
            zh("“%(name)s” is not a photo: upload JPEG or PNG images.") % {"name": "notes.png"},
        )
        assert ServiceRecord.objects.count() == before
        assert not Evidence.objects.exists()

    def test_a_missing_name_and_times_are_refused(self, client_as, w):
        before = ServiceRecord.objects.count()
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-new"), form_data(w, activity_name="", start_time="")
        )
        assert response.status_code == 200
        assert text(response).count("invalid-feedback") >= 2
        assert ServiceRecord.objects.count() == before

    def test_an_old_service_needs_a_late_entry_reason(self, client_as, w):
        client = client_as(w.cast.volunteer)
        old = timezone.localdate() - datetime.timedelta(days=40)
        days = working_days_after(old, timezone.localdate())
        response = client.post(
            reverse("portal:record-new"), form_data(w, service_date=old.isoformat())
        )
        assert shows(
            response,
            zh(
                "This service ended %(days)d working days ago; records are due within "
                "%(limit)d working days. Give a reason for the late entry (补录): a "
                "reviewer will check it."
            )
            % {"days": days, "limit": 10},
        )
        assert not ServiceRecord.objects.filter(activity_name="清理楼道杂物").exists()
        client.post(
            reverse("portal:record-new"),
            form_data(w, service_date=old.isoformat(), late_reason="当时没有手机信号"),
        )
        record = ServiceRecord.objects.get(activity_name="清理楼道杂物")
        assert record.is_late and record.late_reason == "当时没有手机信号"

    def test_the_page_knows_which_dates_are_late(self, client_as, w):
        cutoff = late_before(timezone.localdate())
        page = text(client_as(w.cast.volunteer).get(reverse("portal:record-new")))
        assert f'data-late-before="{cutoff.isoformat()}"' in page
        assert 'data-field="late_reason" hidden' in page


def test_late_before_is_the_last_late_day():
    today = datetime.date(2026, 3, 18)  # a Wednesday; no holidays stored in the test database
    cutoff = late_before(today, limit=10)
    assert working_days_after(cutoff, today) > 10
    assert working_days_after(cutoff + datetime.timedelta(days=1), today) <= 10


# Reading and correcting ----------------------------------------------------------------------


class TestMyRecords:
    def test_my_records_show_this_years_hours_and_the_star_level(self, client_as, w):
        response = client_as(w.cast.volunteer).get(
            reverse("portal:record-list"), {"year": yesterday().year}
        )
        page = text(response)
        assert w.submitted.activity_name in page
        assert 'data-stars="0"' in page
        approved = ServiceRecord.objects.filter(
            volunteer=w.cast.volunteer, status="approved", service_date__year=yesterday().year
        )
        hours = sum(r.duration_minutes for r in approved) / 60
        assert f"data-approved-hours>{hours:.1f}<" in page

    def test_the_filter_answers_with_the_rows_only_for_htmx(self, client_as, w):
        response = client_as(w.cast.volunteer).get(
            reverse("portal:record-list"),
            {"status": "rejected", "year": w.rejected.service_date.year},
            headers={"HX-Request": "true"},
        )
        page = text(response)
        assert "<html" not in page
        assert f'data-record="{w.rejected.pk}"' in page
        assert f'data-record="{w.submitted.pk}"' not in page

    def test_others_records_are_not_in_my_list(self, client_as, w):
        page = text(client_as(w.cast.team_leader).get(reverse("portal:record-list")))
        assert f'data-record="{w.submitted.pk}"' not in page

    def test_the_owner_sees_the_rating_qr_code_and_not_the_flags(self, client_as, w):
        ServiceRecord.objects.filter(pk=w.submitted.pk).update(flags=[FLAG])
        page = text(
            client_as(w.cast.volunteer).get(reverse("portal:record-detail", args=[w.submitted.pk]))
        )
        assert "<svg" in page
        assert (
            "http://testserver" + reverse("portal:record-rate", args=[w.submitted.evaluation_token])
            in page
        )
        assert "data-flags" not in page

    def test_the_record_page_says_a_new_record_was_just_recorded_to_its_volunteer_alone(
        self, client_as, w
    ):
        notice = zh("Recorded: %(name)s, %(hours)s hours. It now waits for review.") % {
            "name": w.submitted.activity_name,
            "hours": w.submitted.hours,
        }
        just = reverse("portal:record-detail", args=[w.submitted.pk]) + "?recorded=1"
        page = text(client_as(w.cast.volunteer).get(just))
        assert "data-recorded" in page and html.escape(notice) in page
        plain = reverse("portal:record-detail", args=[w.submitted.pk])
        assert "data-recorded" not in text(client_as(w.cast.volunteer).get(plain))
        # Not to the reviewer who opens the same address, and not once it has been reviewed.
        assert "data-recorded" not in text(client_as(w.cast.team_leader).get(just))
        ServiceRecord.objects.filter(pk=w.submitted.pk).update(status=RecordStatus.APPROVED)
        assert "data-recorded" not in text(client_as(w.cast.volunteer).get(just))

    def test_a_reviewer_sees_the_flags_with_their_reasons(self, client_as, w):
        ServiceRecord.objects.filter(pk=w.submitted.pk).update(flags=[FLAG])
        page = text(
            client_as(w.cast.team_leader).get(
                reverse("portal:record-detail", args=[w.submitted.pk])
            )
        )
        assert "data-flags" in page
        assert (
            zh(
                "The same description was used for %(count)d services within %(days)d days; "
                "more than %(limit)d is unusual."
            )
            % FLAG["params"]
            in page
        )

    def test_the_volunteer_corrects_a_rejected_record_and_adds_a_photo(self, client_as, w):
        client = client_as(w.cast.volunteer)
        url = reverse("portal:record-edit", args=[w.rejected.pk])
        assert client.get(url).status_code == 200
        day = w.rejected.service_date.isoformat()
        response = client.post(
            url,
            form_data(
                w, service_date=day, start_time="09:00", end_time="10:30", photos=[png("b.png")]
            ),
        )
        assert response.status_code == 302
        w.rejected.refresh_from_db()
        assert w.rejected.status == RecordStatus.SUBMITTED
        assert w.rejected.duration_minutes == 90
        assert w.rejected.evidence.count() == 1

    def test_a_bad_correction_changes_nothing(self, client_as, w):
        before = (w.rejected.started_at, w.rejected.ended_at, w.rejected.status)
        response = client_as(w.cast.volunteer).post(
            reverse("portal:record-edit", args=[w.rejected.pk]),
            form_data(
                w, service_date=yesterday().isoformat(), start_time="10:00", end_time="12:00"
            ),
        )
        assert response.status_code == 200
        w.rejected.refresh_from_db()
        assert (w.rejected.started_at, w.rejected.ended_at, w.rejected.status) == before

    def test_an_approved_record_is_locked(self, client_as, w):
        response = client_as(w.cast.volunteer).get(
            reverse("portal:record-edit", args=[w.approved.pk]), follow=True
        )
        assert shows(
            response, zh("Only records awaiting review or sent back can be changed by you.")
        )


# Review ----------------------------------------------------------------------


class TestReview:
    def test_the_queue_shows_flagged_records_first_with_the_reasons(self, client_as, w):
        flagged = make_record(w.cast.volunteer, day=yesterday(), start=13, end=14, team=w.team)
        ServiceRecord.objects.filter(pk=flagged.pk).update(flags=[FLAG])
        page = text(client_as(w.cast.team_leader).get(reverse("portal:review-queue")))
        assert page.index(f'data-review-row="{flagged.pk}"') < page.index(
            f'data-review-row="{w.submitted.pk}"'
        )
        assert "data-flags" in page

    def test_htmx_approve_answers_with_the_row(self, client_as, w):
        response = client_as(w.cast.team_leader).post(
            reverse("portal:record-approve", args=[w.submitted.pk]), headers={"HX-Request": "true"}
        )
        page = text(response)
        assert "<html" not in page
        assert 'data-row-status="approved"' in page
        w.submitted.refresh_from_db()
        assert w.submitted.status == RecordStatus.APPROVED
        assert w.submitted.reviewed_by == w.cast.team_leader

    def test_reject_needs_a_reason(self, client_as, w):
        response = client_as(w.cast.team_leader).post(
            reverse("portal:record-reject", args=[w.submitted.pk]),
            {f"reason-{w.submitted.pk}": " "},
            headers={"HX-Request": "true"},
        )
        assert shows(response, zh("Say why the record is rejected."))
        w.submitted.refresh_from_db()
        assert w.submitted.status == RecordStatus.SUBMITTED

    def test_reject_with_the_rows_reason(self, client_as, w):
        client_as(w.cast.team_leader).post(
            reverse("portal:record-reject", args=[w.submitted.pk]),
            {f"reason-{w.submitted.pk}": "时间与签到不符", "next": "/records/review/"},
        )
        w.submitted.refresh_from_db()
        assert (w.submitted.status, w.submitted.review_note) == ("rejected", "时间与签到不符")

    def test_bulk_approve_the_ticked_records(self, client_as, w):
        other = make_record(w.cast.volunteer, day=yesterday(), start=13, end=14, team=w.team)
        client = client_as(w.cast.team_leader)
        response = client.post(
            reverse("portal:review-queue"),
            {"records": [w.submitted.pk, other.pk, w.approved.pk]},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert set(
            ServiceRecord.objects.filter(pk__in=[w.submitted.pk, other.pk]).values_list(
                "status", flat=True
            )
        ) == {"approved"}
        assert shows(response, zh("%(count)d records approved.") % {"count": 2})

    def test_bulk_approve_with_nothing_ticked_says_so(self, client_as, w):
        response = client_as(w.cast.team_leader).post(reverse("portal:review-queue"), follow=True)
        assert shows(response, zh("Tick the records to approve."))
        assert ServiceRecord.objects.filter(status="approved").count() == 1

    def test_reopen_needs_a_reason_and_is_audited(self, client_as, w):
        client = client_as(w.cast.branch_secretary)
        url = reverse("portal:record-reopen", args=[w.approved.pk])
        response = client.post(url, {"reason": ""}, follow=True)
        assert shows(response, zh("Say why the approved record is reopened."))
        w.approved.refresh_from_db()
        assert w.approved.status == RecordStatus.APPROVED
        client.post(url, {"reason": "时长需更正"})
        w.approved.refresh_from_db()
        assert w.approved.status == RecordStatus.SUBMITTED
        assert AuditEntry.objects.filter(action="service_record.reopen").exists()


# A team's records ----------------------------------------------------------------------


class TestTeam:
    def test_the_leader_sees_the_teams_totals(self, client_as, w):
        response = client_as(w.cast.team_leader).get(
            reverse("portal:team-records", args=[w.team.pk]), {"year": yesterday().year}
        )
        page = text(response)
        assert f'data-record="{w.submitted.pk}"' in page
        count = ServiceRecord.objects.filter(
            team=w.team, service_date__year=yesterday().year
        ).count()
        assert f"data-team-count>{count}<" in page

    def test_the_leader_enters_one_activity_for_several_volunteers(self, client_as, w):
        url = reverse("portal:team-record-entry", args=[w.team.pk])
        client = client_as(w.cast.team_leader)
        assert client.get(url).status_code == 200
        data = form_data(w, volunteers=[w.cast.volunteer.pk, w.cast.team_leader.pk])
        data.pop("team")
        data["responsible_person"] = "李明"
        response = client.post(url, data)
        assert response.status_code == 302
        records = ServiceRecord.objects.filter(activity_name="清理楼道杂物")
        assert records.count() == 2
        assert set(records.values_list("source", flat=True)) == {RecordSource.LEADER}

    def test_one_refusal_enters_none(self, client_as, w):
        data = form_data(
            w,
            start_time="10:00",
            end_time="12:00",
            volunteers=[w.cast.team_leader.pk, w.cast.volunteer.pk],
        )
        data["responsible_person"] = "李明"
        response = client_as(w.cast.team_leader).post(
            reverse("portal:team-record-entry", args=[w.team.pk]), data
        )
        assert response.status_code == 200
        assert w.cast.volunteer.get_full_name() in text(response)
        assert not ServiceRecord.objects.filter(activity_name="清理楼道杂物").exists()

    def test_someone_outside_the_team_cannot_be_ticked(self, client_as, w):
        data = form_data(w, volunteers=[w.cast.outsider.pk], responsible_person="李明")
        response = client_as(w.cast.team_leader).post(
            reverse("portal:team-record-entry", args=[w.team.pk]), data
        )
        assert response.status_code == 200
        assert not ServiceRecord.objects.filter(activity_name="清理楼道杂物").exists()


# Ratings ----------------------------------------------------------------------


class TestRating:
    def test_a_resident_rates_once(self, client, w):
        url = reverse("portal:record-rate", args=[w.submitted.evaluation_token])
        page = text(client.get(url))
        assert "王*" in page and "王秀英" not in page
        assert client.post(url, {"stars": 5, "comment": "很耐心"}).status_code == 302
        response = client.post(url, {"stars": 1})
        assert shows(response, zh("This service has already been rated."))
        assert list(Evaluation.objects.values_list("stars", flat=True)) == [5]

    def test_bad_stars_are_refused(self, client, w):
        url = reverse("portal:record-rate", args=[w.submitted.evaluation_token])
        response = client.post(url, {"stars": 9})
        assert response.status_code == 200
        assert not Evaluation.objects.exists()

    def test_community_staff_rate_as_staff(self, client_as, w):
        client = client_as(w.cast.community_staff)
        detail = text(client.get(reverse("portal:record-detail", args=[w.submitted.pk])))
        assert reverse("portal:record-rate", args=[w.submitted.evaluation_token]) in detail
        client.post(
            reverse("portal:record-rate", args=[w.submitted.evaluation_token]), {"stars": 4}
        )
        assert Evaluation.objects.get().rater_kind == "community_staff"

    def test_an_activity_link_rates_its_records(self, client, w):
        url = reverse("portal:activity-rate", args=[w.activity.evaluation_token])
        assert client.post(url, {"stars": 5}).status_code == 302
        assert w.activity_record.evaluations.get().stars == 5
        response = client.post(url, {"stars": 3})
        assert shows(
            response,
            zh("There is no service of this activity left to rate: it has already been rated."),
        )
        assert Evaluation.objects.count() == 1

    def test_an_unknown_token_is_404(self, client, w):
        assert client.get(reverse("portal:record-rate", args=["nope"])).status_code == 404
        assert client.get(reverse("portal:activity-rate", args=["nope"])).status_code == 404


# Query budgets ----------------------------------------------------------------------


def _count(client, method, url, data=None, **extra) -> CaptureQueriesContext:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {}, **extra)
    assert response.status_code in (200, 302), response.status_code
    return queries


def _same(small, large):
    assert len(small) == len(large), "\n".join(
        ["small:"]
        + [q["sql"] for q in small.captured_queries]
        + ["large:"]
        + [q["sql"] for q in large.captured_queries]
    )


def test_my_records_keep_their_query_count(client_as, w):
    # session, user, scope, the page's count and rows, the year's hours, the all-time hours,
    # and the layout's badge: the same at 10 and 100 rows.
    client = client_as(w.cast.volunteer)
    day = timezone.localdate() - datetime.timedelta(days=7)
    query = {"year": day.year}
    bulk_records(w.cast.volunteer, 10, day=day, team=w.team)
    small = _count(client, "get", reverse("portal:record-list"), query)
    bulk_records(w.cast.volunteer, 90, day=day - datetime.timedelta(days=1), team=w.team)
    large = _count(client, "get", reverse("portal:record-list"), query)
    _same(small, large)


def test_the_review_queue_keeps_its_query_count(client_as, w):
    # session, user, scope, the reviewer check, the queue's rows (with volunteer, category,
    # team and photo counts joined in), the layout: the same at 10 and 100 rows.
    client = client_as(w.cast.team_leader)
    day = timezone.localdate() - datetime.timedelta(days=7)
    bulk_records(w.cast.volunteer, 10, day=day, team=w.team, flags=[FLAG])
    small = _count(client, "get", reverse("portal:review-queue"))
    bulk_records(
        w.cast.volunteer, 90, day=day - datetime.timedelta(days=1), team=w.team, flags=[FLAG]
    )
    large = _count(client, "get", reverse("portal:review-queue"))
    _same(small, large)


def test_the_team_records_keep_their_query_count(client_as, w):
    client = client_as(w.cast.team_leader)
    day = timezone.localdate() - datetime.timedelta(days=7)
    url = reverse("portal:team-records", args=[w.team.pk])
    bulk_records(w.cast.volunteer, 10, day=day, team=w.team)
    small = _count(client, "get", url, {"year": day.year})
    bulk_records(w.cast.volunteer, 90, day=day - datetime.timedelta(days=1), team=w.team)
    large = _count(client, "get", url, {"year": day.year})
    _same(small, large)


def _submit_counted(client, data) -> CaptureQueriesContext:
    with (
        CaptureQueriesContext(connection) as queries,
        TestCase.captureOnCommitCallbacks(execute=True) as checks,
    ):
        response = client.post(reverse("portal:record-new"), data)
    assert response.status_code == 302, response.status_code
    assert checks.count(queue_waiting_checks) == 1  # beside the session's (core.sessions)
    assert any("service_records_evidence" in q["sql"] for q in queries.captured_queries)
    return queries


def test_submitting_a_record_keeps_its_query_count(client_as, w):
    # session, user, the team chosen (kept with the scope between requests, which the test
    # settings turn off), the team's leader as the person responsible, the volunteer's lock,
    # the overlap and daily-cap checks (the working-day calendar and the categories are kept
    # in memory), the insert, the audit entry, the session save, and the checks against
    # formalism (a sweep queued on commit, counted here as it runs): the same whatever the
    # number of records the volunteer has.
    from apps.accounts.categories import active_category

    assert active_category(w.category.pk) == w.category  # in memory from now on
    client = client_as(w.cast.volunteer)
    base = timezone.localdate() - datetime.timedelta(days=6)
    bulk_records(w.cast.volunteer, 10, day=base, team=w.team)
    first = form_data(w, service_date=yesterday().isoformat(), start_time="13:00", end_time="14:00")
    small = _submit_counted(client, first)
    bulk_records(w.cast.volunteer, 90, day=base - datetime.timedelta(days=1), team=w.team)
    second = form_data(
        w, service_date=yesterday().isoformat(), start_time="15:00", end_time="16:00"
    )
    large = _submit_counted(client, second)
    _same(small, large)
    assert ServiceRecord.objects.filter(activity_name="清理楼道杂物").count() == 2


def test_my_records_page_through_without_counting(client_as, w):
    day = timezone.localdate() - datetime.timedelta(days=7)
    bulk_records(w.cast.volunteer, 25, day=day, team=w.team)
    client = client_as(w.cast.volunteer)
    first = text(client.get(reverse("portal:record-list"), {"year": day.year}))
    assert first.count('data-record="') == 20
    assert "page=2" in first
    second = text(client.get(reverse("portal:record-list"), {"year": day.year, "page": 2}))
    assert 0 < second.count('data-record="') <= 20
    assert "page=1" in second
