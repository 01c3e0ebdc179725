"""The request API: masking, the access log, bad input, multipart completion."""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.care.models import RequestEvidence, RequestStatus, ServiceRequest
from apps.care.tests.request_fixtures import png, rworld  # noqa: F401
from apps.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(rworld):  # noqa: F811
    return rworld


def url(name, obj=None):
    return reverse(f"api:service-request-{name}", kwargs={"pk": obj.pk} if obj else None)


def en(api, method, path, data=None, **kwargs):
    with translation.override("en"):
        return getattr(api, method)(path, data, HTTP_ACCEPT_LANGUAGE="en", **kwargs)


def test_the_list_masks_the_requester(api_as, w):
    rows = api_as(w.cast.community_staff).get(url("list")).json()["results"]
    row = next(r for r in rows if r["id"] == w.submitted.pk)
    assert row["requester_phone"] == "139****5678"
    assert row["requester_name"] == "虚***"
    assert not AuditEntry.objects.filter(action="care.sensitive_view").exists()


def test_the_detail_is_whole_for_the_desk_and_logged(api_as, w):
    data = api_as(w.cast.community_staff).get(url("detail", w.submitted)).json()
    assert data["requester_phone"] == "13912345678"
    entry = AuditEntry.objects.get(action="care.sensitive_view")
    assert entry.details == {
        "fields": ["requester_name", "requester_phone", "requester_address"],
        "via": "api",
    }


def test_the_team_sees_the_detail_masked(api_as, w):
    data = api_as(w.cast.team_leader).get(url("detail", w.dispatched)).json()
    assert data["requester_phone"] == "139****5678"
    assert not AuditEntry.objects.filter(action="care.sensitive_view").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requester_phone", "12345", "11 digits"),
        ("channel", "web", "not a valid choice"),
        ("title", "", "may not be blank"),
        ("called_at", "yesterday", "wrong format"),
        ("kind", "gift", "need or a micro-wish"),
    ],
)
def test_bad_input_on_create(api_as, w, field, value, message):
    before = ServiceRequest.objects.count()
    payload = {
        "community": w.community.pk,
        "channel": "station",
        "title": "陪同就医",
        "requester_name": "虚构居民",
        field: value,
    }
    response = en(api_as(w.cast.community_staff), "post", url("list"), payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert ServiceRequest.objects.count() == before


def test_no_contact_on_create(api_as, w):
    before = ServiceRequest.objects.count()
    payload = {"community": w.community.pk, "channel": "station", "title": "陪同就医"}
    response = en(api_as(w.cast.community_staff), "post", url("list"), payload, format="json")
    assert response.status_code == 400
    assert "a way to reach them" in str(response.json())
    assert ServiceRequest.objects.count() == before


def test_accepting_twice_is_refused(api_as, w):
    response = en(api_as(w.cast.community_staff), "post", url("accept", w.accepted), {})
    assert response.status_code == 400
    assert "Only a submitted request" in str(response.json())


def test_dispatch_to_an_unpaired_team(api_as, w, other_team):
    response = en(
        api_as(w.cast.community_staff), "post", url("dispatch", w.accepted), {"team": other_team.pk}
    )
    assert response.status_code == 400
    assert "not paired" in str(response.json())
    w.accepted.refresh_from_db()
    assert w.accepted.status == RequestStatus.ACCEPTED


def test_completing_a_request_not_dispatched_to_you(api_as, w):
    response = en(
        api_as(w.cast.community_staff), "post", url("complete", w.in_progress), {"note": "完成"}
    )
    assert response.status_code == 403
    assert "not dispatched to you" in response.json()["detail"]
    w.in_progress.refresh_from_db()
    assert w.in_progress.status == RequestStatus.IN_PROGRESS


def test_complete_with_photos_multipart(api_as, w):
    response = api_as(w.cast.volunteer).post(
        url("complete", w.in_progress),
        {"note": "完成", "photos": [png("a.png"), png("b.png")]},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    assert RequestEvidence.objects.filter(request=w.in_progress).count() == 2


def test_complete_without_a_note(api_as, w):
    response = en(api_as(w.cast.volunteer), "post", url("complete", w.in_progress), {"note": ""})
    assert response.status_code == 400
    assert "Say what was done." in str(response.json())
    assert not RequestEvidence.objects.exists()


def test_team_decline_needs_a_reason(api_as, w):
    response = en(api_as(w.cast.team_leader), "post", url("team-decline", w.dispatched), {})
    assert response.status_code == 400
    w.dispatched.refresh_from_db()
    assert w.dispatched.status == RequestStatus.DISPATCHED
