"""Request pages: the whole journey by page, bad input on each form, masking, overdue flags."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from apps.care.models import RequestEvidence, RequestStatus, ServiceRequest
from apps.care.tests.request_fixtures import make_request, png, rworld  # noqa: F401
from apps.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(rworld):  # noqa: F811
    return rworld


def page(response) -> str:
    return response.content.decode()


class TestResidentPages:
    def submit(self, client, w, **data):
        payload = {
            "kind": "micro_wish",
            "title": "想要一副老花镜",
            "requester_phone": "13600001111",
        }
        payload.update(data)
        url = reverse("portal:resident-submit", args=[w.community.pk]) + "?src=qr"
        with translation.override("en"):
            return client.post(url, payload, HTTP_ACCEPT_LANGUAGE="en")

    def test_journey_submit_by_qr_dispatch_complete_rate(self, client, client_as, w):
        response = self.submit(client, w)
        created = ServiceRequest.objects.get(title="想要一副老花镜")
        assert created.channel == "qr"
        assert response["Location"] == reverse(
            "portal:resident-submitted", args=[created.rating_token]
        )
        receipt = page(client.get(response["Location"]))
        assert created.tracking_number in receipt
        assert "<svg" in receipt

        staff = client_as(w.cast.community_staff)
        act = reverse("portal:request-action", args=[created.pk])
        staff.post(act, {"action": "accept"})
        staff.post(act, {"action": "dispatch", "team": w.team.pk})
        created.refresh_from_db()
        assert created.status == RequestStatus.DISPATCHED

        leader = client_as(w.cast.team_leader)
        leader.post(
            reverse("portal:request-team-action", args=[created.pk]),
            {"action": "accept", "volunteer": w.cast.volunteer.pk},
        )
        created.refresh_from_db()
        assert created.assigned_volunteer == w.cast.volunteer

        volunteer = client_as(w.cast.volunteer)
        response = volunteer.post(
            reverse("portal:request-complete", args=[created.pk]),
            {"note": "已送到老人家中", "photos": [png()]},
        )
        assert response.status_code == 302
        assert RequestEvidence.objects.filter(request=created).count() == 1

        client.logout()
        rate = reverse("portal:resident-rate", args=[created.rating_token])
        client.post(rate, {"stars": 5, "comment": "谢谢"})
        created.refresh_from_db()
        assert created.status == RequestStatus.CLOSED
        assert created.rating_stars == 5

        track = client.get(
            reverse("portal:resident-track"),
            {"number": created.tracking_number, "phone4": "1111"},
        )
        text = page(track)
        assert created.tracking_number in text
        assert "13600001111" not in text
        assert w.cast.volunteer.real_name not in text

    def test_no_contact_is_refused_on_the_page(self, client, w):
        before = ServiceRequest.objects.count()
        response = self.submit(client, w, requester_phone="")
        assert response.status_code == 200
        assert "without a way to contact you" in page(response)
        assert ServiceRequest.objects.count() == before

    def test_a_bad_phone_and_a_missing_title_are_refused(self, client, w):
        before = ServiceRequest.objects.count()
        response = self.submit(client, w, requester_phone="1234", title="")
        assert response.status_code == 200
        assert ServiceRequest.objects.count() == before

    def test_a_burst_from_one_address_is_refused_on_the_page(self, client, w):
        for n in range(5):
            assert self.submit(client, w, requester_phone=f"1360000200{n}").status_code == 302
        response = self.submit(client, w, requester_phone="13600002009")
        assert response.status_code == 200
        assert "Too many requests" in page(response)
        assert not ServiceRequest.objects.filter(
            requester_phone_hash__isnull=False, title="x"
        ).exists()
        assert ServiceRequest.objects.filter(title="想要一副老花镜").count() == 5

    def test_an_inactive_community_has_no_page(self, client, w):
        w.community.is_active = False
        w.community.save()
        url = reverse("portal:resident-submit", args=[w.community.pk])
        assert client.get(url).status_code == 404
        assert client.get(reverse("portal:community-qr", args=[w.community.pk])).status_code == 404

    def test_the_qr_code_is_an_svg_pointing_at_the_submit_page(self, client, w):
        response = client.get(reverse("portal:community-qr", args=[w.community.pk]))
        assert response["Content-Type"] == "image/svg+xml"
        assert b"<svg" in response.content

    def test_rating_twice_and_bad_stars_on_the_page(self, client, w):
        rate = reverse("portal:resident-rate", args=[w.done.rating_token])
        with translation.override("en"):
            response = client.post(rate, {"stars": 9}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        w.done.refresh_from_db()
        assert w.done.rating_stars is None
        client.post(rate, {"stars": 4})
        with translation.override("en"):
            response = client.post(rate, {"stars": 1}, HTTP_ACCEPT_LANGUAGE="en")
        assert "already been rated" in page(response)
        w.done.refresh_from_db()
        assert w.done.rating_stars == 4

    def test_rating_a_request_not_done_on_the_page(self, client, w):
        rate = reverse("portal:resident-rate", args=[w.in_progress.rating_token])
        assert client.get(rate).status_code == 200
        with translation.override("en"):
            response = client.post(rate, {"stars": 5}, HTTP_ACCEPT_LANGUAGE="en")
        assert "not done yet" in page(response)
        w.in_progress.refresh_from_db()
        assert w.in_progress.rating_stars is None

    def test_an_unknown_rating_link_is_404(self, client, w):
        assert client.get(reverse("portal:resident-rate", args=["nope"])).status_code == 404

    def test_the_wall_is_anonymous(self, client, w):
        text = page(client.get(reverse("portal:wishes-wall")))
        assert w.open_request.title in text
        assert "虚构居民" not in text
        assert "13912345678" not in text


class TestDeskPages:
    def test_the_desk_sees_the_whole_contact_and_the_view_is_logged(self, client_as, w):
        response = client_as(w.cast.community_staff).get(
            reverse("portal:request-detail", args=[w.submitted.pk])
        )
        assert "13912345678" in page(response)
        entry = AuditEntry.objects.get(action="care.sensitive_view")
        assert entry.details["via"] == "page"
        assert entry.target_id == str(w.submitted.pk)

    def test_the_team_sees_it_masked_and_nothing_is_logged(self, client_as, w):
        response = client_as(w.cast.team_leader).get(
            reverse("portal:request-detail", args=[w.dispatched.pk])
        )
        text = page(response)
        assert "13912345678" not in text
        assert "139****5678" in text
        assert not AuditEntry.objects.filter(action="care.sensitive_view").exists()

    def test_overdue_requests_are_flagged_in_the_queue(self, client_as, w):
        w.accepted.deadline = timezone.localdate() - datetime.timedelta(days=1)
        w.accepted.save()
        text = page(client_as(w.cast.community_staff).get(reverse("portal:request-queue")))
        assert text.count("data-overdue") == 1
        assert f'data-request="{w.accepted.pk}"' in text

    def test_intake_hotline_without_time_is_refused(self, client_as, w):
        before = ServiceRequest.objects.count()
        with translation.override("en"):
            response = client_as(w.cast.community_staff).post(
                reverse("portal:request-intake"),
                {
                    "community": w.community.pk,
                    "channel": "hotline",
                    "kind": "need",
                    "title": "咨询",
                    "requester_phone": "13800002222",
                },
                HTTP_ACCEPT_LANGUAGE="en",
            )
        assert response.status_code == 200
        assert "when the call came in" in page(response)
        assert ServiceRequest.objects.count() == before

    def test_decline_without_reason_is_refused(self, client_as, w):
        client = client_as(w.cast.community_staff)
        client.post(reverse("portal:request-action", args=[w.submitted.pk]), {"action": "decline"})
        w.submitted.refresh_from_db()
        assert w.submitted.status == RequestStatus.SUBMITTED

    def test_team_decline_then_re_dispatch(self, client_as, w):
        client_as(w.cast.team_leader).post(
            reverse("portal:request-team-action", args=[w.dispatched.pk]),
            {"action": "decline", "reason": "本周人手不足"},
        )
        w.dispatched.refresh_from_db()
        assert w.dispatched.status == RequestStatus.ACCEPTED
        client_as(w.cast.community_staff).post(
            reverse("portal:request-action", args=[w.dispatched.pk]),
            {"action": "dispatch", "team": w.team.pk},
        )
        w.dispatched.refresh_from_db()
        assert w.dispatched.status == RequestStatus.DISPATCHED

    def test_complete_with_a_non_image_is_refused(self, client_as, w):
        from django.core.files.uploadedfile import SimpleUploadedFile

        with translation.override("en"):
            response = client_as(w.cast.volunteer).post(
                reverse("portal:request-complete", args=[w.in_progress.pk]),
                {"note": "完成", "photos": [SimpleUploadedFile("a.png", b"text")]},
                HTTP_ACCEPT_LANGUAGE="en",
            )
        assert response.status_code == 200
        assert "JPEG or PNG" in page(response)
        w.in_progress.refresh_from_db()
        assert w.in_progress.status == RequestStatus.IN_PROGRESS


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _grow(w, rows, **fields):
    for _ in range(rows):
        make_request(w.community, requester_phone="13500000000", **fields)


@pytest.mark.parametrize(
    ("url_name", "role", "fields"),
    [
        ("portal:request-queue", "community_staff", {"status": RequestStatus.ACCEPTED}),
        ("portal:wishes-wall", None, {"status": RequestStatus.OPEN, "kind": "micro_wish"}),
        ("portal:requests-open", "volunteer", {"status": RequestStatus.OPEN}),
        ("portal:my-requests", "volunteer", {"status": RequestStatus.DONE}),
        ("portal:team-requests", "team_leader", {"status": RequestStatus.DISPATCHED}),
        ("api:service-request-list", "community_staff", {"status": RequestStatus.OPEN}),
        ("admin:care_servicerequest_changelist", "city_admin", {}),
    ],
)
def test_list_queries_stay_constant(client_as, w, url_name, role, fields):
    client = client_as(getattr(w.cast, role) if role else None)
    if url_name == "portal:my-requests":
        fields = {**fields, "assigned_volunteer": w.cast.volunteer}
    if url_name == "portal:team-requests":
        fields = {**fields, "dispatched_team": w.team}
    url = reverse(url_name)
    _grow(w, 10, **fields)
    small = _count(client, url)
    _grow(w, 90, **fields)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"
