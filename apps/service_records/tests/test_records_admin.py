"""The records admin: reviewing by actions (reasons where needed), flags and photos shown,
everything else read only; the working-day calendar for the city's administrators."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from apps.core.models import AuditEntry, CalendarDay, CalendarDayKind
from apps.service_records.evidence import store_photos
from apps.service_records.models import RecordStatus, ServiceRecord
from apps.service_records.tests.helpers import at, make_record, photo
from conftest import zh

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/service_records/servicerecord/"


def act(client, action, records, **extra):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [r.pk for r in records], "index": 0, **extra},
        follow=True,
    )


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_secretary_approves_selected_records(recworld, client_as):
    client = client_as(recworld.cast.branch_secretary)
    response = act(client, "approve_selected", [recworld.submitted, recworld.approved])
    assert response.status_code == 200
    recworld.submitted.refresh_from_db()
    assert recworld.submitted.status == RecordStatus.APPROVED
    shown = messages_of(response)
    assert zh("%(count)d records approved.") % {"count": 1} in shown
    assert any(zh("Only records awaiting review can be approved.") in m for m in shown)


def test_rejecting_without_a_reason_changes_nothing(recworld, client_as):
    client = client_as(recworld.cast.branch_secretary)
    before = AuditEntry.objects.count()
    response = act(client, "reject_selected", [recworld.submitted], reason="")
    recworld.submitted.refresh_from_db()
    assert recworld.submitted.status == RecordStatus.SUBMITTED
    assert AuditEntry.objects.count() == before
    assert any(zh("Say why the record is rejected.") in m for m in messages_of(response))
    act(client, "reject_selected", [recworld.submitted], reason="时长与活动不符")
    recworld.submitted.refresh_from_db()
    assert recworld.submitted.status == RecordStatus.REJECTED
    assert recworld.submitted.review_note == "时长与活动不符"


def test_reopening_with_a_reason_leaves_an_audit_entry(recworld, client_as):
    client = client_as(recworld.cast.branch_secretary)
    act(client, "reopen_selected", [recworld.approved], reason="服务对象反映时长有误")
    recworld.approved.refresh_from_db()
    assert recworld.approved.status == RecordStatus.SUBMITTED
    entry = AuditEntry.objects.get(action="service_record.reopen")
    assert entry.details["reason"] == "服务对象反映时长有误"


def test_the_inspector_has_no_review_actions(recworld, client_as):
    client = client_as(recworld.cast.inspector)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert "approve_selected" not in response.content.decode()
    act(client, "approve_selected", [recworld.submitted])
    recworld.submitted.refresh_from_db()
    assert recworld.submitted.status == RecordStatus.SUBMITTED


def test_a_secretary_never_approves_their_own_record(recworld, client_as):
    secretary = recworld.cast.branch_secretary
    own = make_record(secretary, start=at("2026-11-05", 9), organization=recworld.tree.branch)
    response = act(client_as(secretary), "approve_selected", [own])
    own.refresh_from_db()
    assert own.status == RecordStatus.SUBMITTED
    assert any(zh("Nobody reviews their own record.") in m for m in messages_of(response))


def test_the_change_page_shows_flags_photos_and_the_lock(recworld, client_as):
    record = recworld.approved
    record.flags = [
        {
            "code": "recipient_per_day",
            "params": {"count": 3, "day": "2026-11-03", "limit": 2},
            "reason": "x",
        }
    ]
    record.save()
    store_photos(actor=recworld.cast.volunteer, record=record, photos=[photo(seed=4)])
    client = client_as(recworld.cast.branch_secretary)
    with translation.override("zh-hans"):
        page = client.get(f"{CHANGELIST}{record.pk}/change/").content.decode()
    assert "<img" in page
    assert (
        zh(
            "The same person served has %(count)d records on %(day)s; more than "
            "%(limit)d a day is unusual."
        )
        % {"count": 3, "day": "2026-11-03", "limit": 2}
        in page
    )
    assert (
        zh("This record is approved and locked: reopen it with a reason to have it corrected.")
        in page
    )
    assert 'name="_save"' not in page


def test_the_changelist_filters(recworld, client_as):
    recworld.submitted.flags = [{"code": "same_photo", "params": {}, "reason": "x"}]
    recworld.submitted.save()
    client = client_as(recworld.cast.city_admin)
    for query in (
        "?flagged=yes",
        "?flagged=no",
        "?status=approved",
        "?source=self_reported",
        "?is_late__exact=1",
    ):
        assert client.get(CHANGELIST + query).status_code == 200
    page = client.get(CHANGELIST + "?flagged=yes")
    assert list(page.context["cl"].queryset) == [
        ServiceRecord.objects.get(pk=recworld.submitted.pk)
    ]


def test_the_city_admin_maintains_the_calendar(client_as, city_admin, branch_secretary):
    client = client_as(city_admin)
    response = client.post(
        "/admin/core/calendarday/add/",
        {"date": "2027-01-01", "kind": CalendarDayKind.HOLIDAY, "name": "元旦"},
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=datetime.date(2027, 1, 1))
    assert AuditEntry.objects.filter(action="core.calendarday.add").count() == 1
    page = client.get("/admin/core/calendarday/?year=2027")
    assert list(page.context["cl"].queryset) == [day]
    assert page.context["cl"].result_count == 1
    assert client_as(branch_secretary).get("/admin/core/calendarday/").status_code == 403
