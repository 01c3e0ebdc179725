"""The service record API: self-reporting, corrections, review, photos, bad input, query budgets."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.service_records.models import (
    Evaluation,
    Evidence,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.service_records.tests.helpers import at, category, make_record, photo
from apps.teams.models import Team
from conftest import zh

pytestmark = pytest.mark.django_db
URL = "/api/v1/service-records/"


def _state():
    return (ServiceRecord.objects.count(), Evidence.objects.count(), AuditEntry.objects.count())


def report(**overrides):
    end = timezone.now() - datetime.timedelta(hours=3)
    data = {
        "activity_name": "为社区老人测血压",
        "category": category().pk,
        "started_at": (end - datetime.timedelta(hours=2)).isoformat(),
        "ended_at": end.isoformat(),
        "place": "桂园社区卫生站",
        "content": "为老人测量血压并登记",
        "responsible_person": "李明",
    }
    data.update(overrides)
    return data


def test_a_volunteer_logs_their_own_service(api_as, recworld):
    volunteer = recworld.cast.volunteer
    response = api_as(volunteer).post(URL, {**report(), "team": recworld.team.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["volunteer"] == volunteer.pk
    assert body["source"] == RecordSource.SELF_REPORTED
    assert body["status"] == RecordStatus.SUBMITTED
    assert body["duration_minutes"] == 120
    assert body["team"] == recworld.team.pk
    assert body["organization"] == recworld.tree.branch.pk
    assert body["flags"] == []


def test_a_volunteer_cannot_report_for_a_team_they_are_not_in(api_as, recworld):
    before = _state()
    response = api_as(recworld.cast.volunteer).post(
        URL, {**report(), "team": recworld.other_team.pk}, format="json"
    )
    assert response.status_code == 400
    assert "team" in response.json()
    assert _state() == before


def test_a_volunteer_cannot_report_for_their_team_once_it_is_deactivated(api_as, recworld):
    Team.objects.filter(pk=recworld.team.pk).update(is_active=False)
    before = _state()
    response = api_as(recworld.cast.volunteer).post(
        URL, {**report(), "team": recworld.team.pk}, format="json"
    )
    assert response.status_code == 400
    assert "team" in response.json()
    assert _state() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"started_at": "2026-11-02T10:00:00+08:00", "ended_at": "2026-11-02T10:30:00+08:00"},
            "started_at",
            None,  # overlaps the recworld record of 09:00–11:00
        ),
        ({"duration_minutes": 0}, "duration_minutes", "The service time must be more than zero."),
        ({"duration_minutes": 25 * 60}, "duration_minutes", None),
        ({"activity_name": "党员大会会议"}, "activity_name", None),
        ({"place": ""}, "place", None),
    ],
)
def test_bad_input_is_400_with_field_messages(api_as, recworld, overrides, field, message):
    before = _state()
    response = api_as(recworld.cast.volunteer).post(URL, report(**overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    if message:
        assert response.json()[field] == [zh(message)]
    assert _state() == before


def test_a_record_spanning_more_than_a_day_is_refused(api_as, recworld):
    before = _state()
    response = api_as(recworld.cast.volunteer).post(
        URL,
        report(
            started_at="2026-11-01T08:00:00+08:00",
            ended_at="2026-11-02T08:30:00+08:00",
            duration_minutes=8 * 60,
        ),
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert response.json()["ended_at"] == [
        zh(
            "One record covers at most %(hours)d hours from start to end: record longer "
            "service day by day."
        )
        % {"hours": 24}
    ]
    assert _state() == before


def test_future_and_reversed_times_are_refused(api_as, recworld):
    client = api_as(recworld.cast.volunteer)
    later = timezone.now() + datetime.timedelta(days=1)
    before = _state()
    response = client.post(
        URL,
        report(
            started_at=later.isoformat(), ended_at=(later + datetime.timedelta(hours=1)).isoformat()
        ),
        format="json",
    )
    assert response.json()["ended_at"] == [
        zh("Service can only be recorded once it has ended, not in advance.")
    ]
    data = report()
    data["started_at"], data["ended_at"] = data["ended_at"], data["started_at"]
    response = client.post(URL, data, format="json")
    assert zh("The end must be after the start.") in response.json()["ended_at"]
    assert _state() == before


def test_a_late_entry_needs_a_reason(api_as, recworld):
    old = timezone.now() - datetime.timedelta(days=40)
    data = report(
        started_at=old.isoformat(), ended_at=(old + datetime.timedelta(hours=1)).isoformat()
    )
    client = api_as(recworld.cast.volunteer)
    response = client.post(URL, data, format="json")
    assert response.status_code == 400
    assert "late_reason" in response.json()
    response = client.post(URL, {**data, "late_reason": "当时手机丢失"}, format="json")
    assert response.status_code == 201
    assert response.json()["is_late"] is True


def test_the_volunteer_corrects_a_rejected_record(api_as, recworld):
    response = api_as(recworld.cast.volunteer).patch(
        f"{URL}{recworld.rejected.pk}/", {"duration_minutes": 90}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == RecordStatus.SUBMITTED
    assert response.json()["duration_minutes"] == 90


def test_an_approved_record_is_locked(api_as, recworld):
    before = _state()
    response = api_as(recworld.cast.volunteer).patch(
        f"{URL}{recworld.approved.pk}/", {"content": "改一改"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            zh(
                "This record has been approved and is locked. Ask a reviewer to reopen it, "
                "with a reason, if it needs correcting."
            )
        ]
    }
    assert _state() == before


def test_review_actions_refuse_bad_input(api_as, recworld):
    leader = api_as(recworld.cast.team_leader)
    response = leader.post(f"{URL}{recworld.submitted.pk}/reject/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    response = leader.post(f"{URL}{recworld.approved.pk}/approve/", format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [zh("Only records awaiting review can be approved.")]
    }
    response = leader.post(f"{URL}{recworld.submitted.pk}/reopen/", {"reason": "x"}, format="json")
    assert response.status_code == 400


def test_the_volunteer_gets_403_with_the_reason_for_their_own_record(api_as, recworld):
    response = api_as(recworld.cast.volunteer).post(f"{URL}{recworld.submitted.pk}/approve/")
    assert response.status_code == 403
    recworld.submitted.refresh_from_db()
    assert recworld.submitted.status == RecordStatus.SUBMITTED


def test_bulk_approve(api_as, recworld):
    leader = recworld.cast.team_leader
    own = make_record(leader, start=at("2026-11-05", 9), team=recworld.team)
    response = api_as(leader).post(
        f"{URL}bulk-approve/",
        {"ids": [recworld.submitted.pk, own.pk, 999999]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["approved"] == 1
    assert {row["id"] for row in body["refused"]} == {own.pk, 999999}
    response = api_as(leader).post(f"{URL}bulk-approve/", {"ids": []}, format="json")
    assert response.status_code == 400


def test_photos_are_uploaded_as_multipart(api_as, recworld):
    client = api_as(recworld.cast.volunteer)
    url = f"{URL}{recworld.submitted.pk}/evidence/"
    response = client.post(url, {"photos": [photo("a.png", seed=1), photo("b.png", seed=2)]})
    assert response.status_code == 201, response.json()
    assert len(response.json()) == 2
    assert all(len(row["phash"]) == 16 for row in response.json())
    before = _state()
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(url, {"photos": [fake]})
    assert response.status_code == 400
    assert response.json()["photos"] == [
        zh("“%(name)s” is not a photo: upload JPEG or PNG images.") % {"name": "x.jpg"}
    ]
    assert _state() == before


def test_list_filters(api_as, recworld):
    client = api_as(recworld.cast.branch_secretary)
    rows = client.get(URL, {"status": "approved"}).json()["results"]
    assert [r["id"] for r in rows] == [recworld.approved.pk]
    rows = client.get(URL, {"year": "2026", "volunteer": recworld.cast.volunteer.pk}).json()
    assert rows["count"] == 3
    assert client.get(URL, {"flagged": "true"}).json()["count"] == 0


def test_evaluations_are_read_through_the_record(api_as, recworld):
    rows = api_as(recworld.cast.volunteer).get("/api/v1/evaluations/").json()["results"]
    assert [r["id"] for r in rows] == [recworld.evaluation.pk]
    rows = api_as(recworld.cast.other_branch_secretary).get("/api/v1/evaluations/").json()
    assert rows["count"] == 0


def _grow(w, rows):
    start = ServiceRecord.objects.count()
    base = at("2025-01-06", 8)
    for i in range(start, start + rows):
        record = make_record(
            w.cast.volunteer,
            start=base + datetime.timedelta(hours=3 * i),
            minutes=60,
            team=w.team,
            community=w.community,
            flags=[{"code": "same_content", "reason": "x", "params": {}}] if i % 3 else [],
        )
        Evidence.objects.create(record=record, image=f"evidence/{i}.png", phash=f"{i:016x}")
        Evaluation.objects.create(record=record, rater_kind="resident", stars=4)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("volunteer", URL),
        ("branch_secretary", URL),
        ("team_leader", URL),
        ("city_admin", f"{URL}?status=submitted&flagged=true"),
        ("volunteer", "/api/v1/evaluations/"),
        ("city_admin", "/admin/service_records/servicerecord/"),
        ("city_admin", "/admin/service_records/evidence/"),
        ("city_admin", "/admin/service_records/evaluation/"),
    ],
)
def test_list_queries_stay_constant(recworld, client_as, api_as, role, url):
    user = getattr(recworld.cast, role)
    client = client_as(user) if url.startswith("/admin/") else api_as(user)
    _grow(recworld, 10)
    small = _count(client, url)
    _grow(recworld, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"
