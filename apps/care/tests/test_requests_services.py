"""The request workflow 点单→审单→派单→接单→评单, its bad input and its refusals."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone, translation

from apps.care import selectors, services
from apps.care.models import (
    RequestEvent,
    RequestEvidence,
    RequestStatus,
    ServiceRequest,
)
from apps.care.tests.request_fixtures import png, rworld  # noqa: F401
from apps.core.crypto import blind_index
from apps.core.models import AuditEntry
from apps.teams.tests.fixtures import make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(rworld):  # noqa: F811
    return rworld


def refused(call, **kwargs) -> ValidationError:
    with translation.override("en"), pytest.raises(ValidationError) as info:
        call(**kwargs)
    return info.value


def codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def text(error: ValidationError) -> str:
    with translation.override("en"):
        return " ".join(str(m) for m in error.messages)


def public(community, **overrides):
    data = {
        "community": community,
        "channel": "qr",
        "kind": "micro_wish",
        "title": "想要一台收音机",
        "description": "虚构的微心愿",
        "requester_name": "虚构居民",
        "requester_phone": "139 1234 5678",
        "requester_address": "桂园路虚构9号",
        "ip": "10.0.0.1",
    }
    data.update(overrides)
    return data


class TestPublicIntake:
    def test_a_resident_submits_with_a_phone(self, community):
        request = services.service_request_submit_public(**public(community))
        assert request.status == RequestStatus.SUBMITTED
        assert request.tracking_number.startswith("XY" + timezone.localdate().strftime("%Y%m%d"))
        assert len(request.tracking_number) == 16
        assert len(request.rating_token) == 43
        assert request.requester_phone == "13912345678"
        assert request.requester_phone_hash == blind_index("13912345678")
        assert request.submitted_ip_hash == blind_index("10.0.0.1")
        assert request.events.get().status == RequestStatus.SUBMITTED
        assert AuditEntry.objects.filter(action="service_request.submit").count() == 1

    @pytest.mark.parametrize("phone", ["", "   "])
    def test_no_way_to_contact_the_requester_is_refused(self, community, phone):
        error = refused(
            services.service_request_submit_public,
            **public(community, requester_phone=phone),
        )
        assert "no_contact" in codes(error)
        assert "without a way to contact you" in text(error)
        assert not ServiceRequest.objects.exists()

    def test_a_malformed_phone_is_refused(self, community):
        error = refused(
            services.service_request_submit_public, **public(community, requester_phone="12345")
        )
        assert "11 digits" in text(error)
        assert not ServiceRequest.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("title", "", "Say what is needed."),
            ("title", "长" * 129, "under 128 characters"),
            ("kind", "gift", "need or a micro-wish"),
            ("description", "字" * 2001, "under 2000 characters"),
        ],
    )
    def test_bad_texts_are_refused(self, community, field, value, message):
        error = refused(
            services.service_request_submit_public, **public(community, **{field: value})
        )
        assert field in error.message_dict
        assert message in text(error)
        assert not ServiceRequest.objects.exists()

    def test_an_inactive_community_takes_no_requests(self, community):
        community.is_active = False
        community.save()
        error = refused(services.service_request_submit_public, **public(community))
        assert "community_inactive" in codes(error)
        assert not ServiceRequest.objects.exists()

    def test_an_unknown_channel_is_refused(self, community):
        refused(services.service_request_submit_public, **public(community, channel="hotline"))
        assert not ServiceRequest.objects.exists()

    def test_a_burst_from_one_phone_is_refused_past_the_limit(self, community):
        for n in range(5):
            services.service_request_submit_public(**public(community, ip=f"10.0.0.{n}"))
        error = refused(services.service_request_submit_public, **public(community, ip="10.9.9.9"))
        assert "rate_limited" in codes(error)
        assert "Too many requests" in text(error)
        assert ServiceRequest.objects.count() == 5

    def test_a_burst_from_one_address_is_refused_past_the_limit(self, community):
        for n in range(5):
            services.service_request_submit_public(
                **public(community, requester_phone=f"1391234000{n}")
            )
        error = refused(
            services.service_request_submit_public,
            **public(community, requester_phone="13912349999"),
        )
        assert "rate_limited" in codes(error)
        assert ServiceRequest.objects.count() == 5

    def test_the_limit_counts_the_last_minute_only(self, community):
        for n in range(5):
            services.service_request_submit_public(**public(community, ip=f"10.0.0.{n}"))
        ServiceRequest.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=61))
        services.service_request_submit_public(**public(community))
        assert ServiceRequest.objects.count() == 6

    @override_settings(CARE_REQUEST_RATE_LIMIT_PER_MINUTE=2)
    def test_the_limit_is_a_setting(self, community):
        for _ in range(2):
            services.service_request_submit_public(**public(community))
        refused(services.service_request_submit_public, **public(community))
        assert ServiceRequest.objects.count() == 2


class TestStaffIntake:
    def entry(self, w, **overrides):
        data = {
            "actor": w.cast.community_staff,
            "community": w.community,
            "channel": "station",
            "kind": "need",
            "title": "陪同就医",
            "requester_name": "虚构居民",
            "requester_phone": "",
        }
        data.update(overrides)
        return data

    def test_station_entry(self, w):
        before = ServiceRequest.objects.count()
        request = services.service_request_enter(**self.entry(w))
        assert request.channel == "station"
        assert request.created_by == w.cast.community_staff
        assert ServiceRequest.objects.count() == before + 1

    def test_hotline_needs_the_time_of_the_call(self, w):
        before = ServiceRequest.objects.count()
        error = refused(services.service_request_enter, **self.entry(w, channel="hotline"))
        assert "called_at" in error.message_dict
        future = timezone.now() + datetime.timedelta(hours=1)
        error = refused(
            services.service_request_enter,
            **self.entry(w, channel="hotline", called_at=future),
        )
        assert "future" in text(error)
        assert ServiceRequest.objects.count() == before

    def test_hotline_needs_a_caller(self, w):
        before = ServiceRequest.objects.count()
        error = refused(
            services.service_request_enter,
            **self.entry(w, channel="hotline", called_at=timezone.now(), requester_name=""),
        )
        assert "caller's phone number or name" in text(error)
        assert ServiceRequest.objects.count() == before
        request = services.service_request_enter(
            **self.entry(
                w,
                channel="hotline",
                called_at=timezone.now(),
                requester_name="",
                requester_phone="13800001111",
            )
        )
        assert request.called_at is not None

    def test_on_behalf_needs_a_household_of_the_community(self, w, recipient, other_community):
        before = ServiceRequest.objects.count()
        error = refused(services.service_request_enter, **self.entry(w, channel="on_behalf"))
        assert "care_recipient" in error.message_dict
        recipient_elsewhere = type(recipient).objects.create(
            name="虚构乙", community=other_community
        )
        error = refused(
            services.service_request_enter,
            **self.entry(w, channel="on_behalf", care_recipient=recipient_elsewhere),
        )
        assert "does not live in this community" in text(error)
        assert ServiceRequest.objects.count() == before
        request = services.service_request_enter(
            **self.entry(w, channel="on_behalf", care_recipient=recipient, requester_name="")
        )
        assert request.care_recipient == recipient

    def test_no_contact_at_the_station_is_refused(self, w):
        before = ServiceRequest.objects.count()
        error = refused(services.service_request_enter, **self.entry(w, requester_name="  "))
        assert "a way to reach them" in text(error)
        assert ServiceRequest.objects.count() == before

    @pytest.mark.parametrize("role", ["volunteer", "inspector", "other_branch_secretary"])
    def test_only_those_who_serve_the_community_enter(self, w, role):
        before = ServiceRequest.objects.count()
        error = refused(
            services.service_request_enter,
            **self.entry(w, actor=getattr(w.cast, role)),
        )
        assert "outside_scope" in codes(error) or "community" in error.message_dict
        assert ServiceRequest.objects.count() == before


class TestLifecycle:
    def test_happy_path_to_closed_by_rating(self, w):
        staff = w.cast.community_staff
        request = services.service_request_submit_public(
            **public(w.community, requester_phone="13611112222")
        )
        services.service_request_accept(actor=staff, request=request)
        assert request.status == RequestStatus.ACCEPTED
        expected = timezone.localdate() + datetime.timedelta(days=7)
        assert request.deadline == expected  # settings.CARE_REQUEST_DEFAULT_DEADLINE_DAYS
        services.service_request_dispatch(actor=staff, request=request, team=w.team)
        assert request.status == RequestStatus.DISPATCHED
        services.service_request_team_accept(
            actor=w.cast.team_leader, request=request, volunteer=w.cast.volunteer
        )
        assert request.status == RequestStatus.IN_PROGRESS
        assert request.assigned_volunteer == w.cast.volunteer
        services.service_request_complete(
            user=w.cast.volunteer, request=request, note="已送达", photos=[png()]
        )
        assert request.status == RequestStatus.DONE
        assert RequestEvidence.objects.filter(request=request).count() == 1
        rated = services.service_request_rate(token=request.rating_token, stars=5, comment="好")
        assert rated.status == RequestStatus.CLOSED
        assert rated.rating_stars == 5
        statuses = list(request.events.values_list("status", flat=True))
        assert statuses == ["submitted", "accepted", "dispatched", "in_progress", "done", "closed"]
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {
            "service_request.submit",
            "service_request.accept",
            "service_request.dispatch",
            "service_request.team_accept",
            "service_request.complete",
            "service_request.rate",
        } <= actions

    def test_the_deadline_follows_the_category(self, w):
        if w.category is None:
            pytest.skip("no service categories")
        services.service_request_accept(
            actor=w.cast.community_staff,
            request=w.submitted,
            service_category=w.category,
        )
        assert w.submitted.deadline == timezone.localdate() + datetime.timedelta(days=3)

    def test_open_for_claim_and_claim(self, w):
        staff = w.cast.community_staff
        services.service_request_open_for_claim(actor=staff, request=w.accepted)
        assert w.accepted.status == RequestStatus.OPEN
        services.service_request_claim(user=w.cast.volunteer, request=w.accepted)
        assert w.accepted.status == RequestStatus.IN_PROGRESS
        assert w.accepted.assigned_volunteer == w.cast.volunteer

    def test_claiming_needs_an_active_volunteer(self, w):
        error = refused(
            services.service_request_claim, user=w.cast.outsider, request=w.open_request
        )
        assert "not_volunteer" in codes(error)
        w.open_request.refresh_from_db()
        assert w.open_request.status == RequestStatus.OPEN

    def test_a_claimed_request_cannot_be_claimed_again(self, w):
        other = make_profile(w.cast.outsider).user
        services.service_request_claim(user=w.cast.volunteer, request=w.open_request)
        stale = ServiceRequest.objects.get(pk=w.open_request.pk)
        stale.status = RequestStatus.OPEN  # what the second claimant's page still shows
        error = refused(services.service_request_claim, user=other, request=stale)
        assert "no longer open" in text(error)
        w.open_request.refresh_from_db()
        assert w.open_request.assigned_volunteer == w.cast.volunteer

    def test_re_dispatch_after_a_team_declines(self, w, other_team):
        staff = w.cast.community_staff
        error = refused(
            services.service_request_team_decline,
            actor=w.cast.team_leader,
            request=w.dispatched,
            reason="",
        )
        assert "reason" in error.message_dict
        services.service_request_team_decline(
            actor=w.cast.team_leader, request=w.dispatched, reason="人手不足"
        )
        assert w.dispatched.status == RequestStatus.ACCEPTED
        assert w.dispatched.dispatched_team is None
        assert w.dispatched.events.last().note == "人手不足"
        services.service_request_dispatch(actor=staff, request=w.dispatched, team=w.team)
        assert w.dispatched.status == RequestStatus.DISPATCHED

    def test_dispatch_needs_a_paired_active_team(self, w, other_team):
        staff = w.cast.community_staff
        error = refused(
            services.service_request_dispatch,
            actor=staff,
            request=w.accepted,
            team=other_team,
        )
        assert "team_not_paired" in codes(error)
        w.team.is_active = False
        w.team.save()
        error = refused(
            services.service_request_dispatch,
            actor=staff,
            request=w.accepted,
            team=w.team,
        )
        assert "team_inactive" in codes(error)
        w.accepted.refresh_from_db()
        assert w.accepted.status == RequestStatus.ACCEPTED

    def test_only_the_teams_leader_answers(self, w):
        for user in (w.cast.volunteer, w.cast.community_staff):
            error = refused(services.service_request_team_accept, actor=user, request=w.dispatched)
            assert "not_team_leader" in codes(error)
        error = refused(
            services.service_request_team_accept,
            actor=w.cast.team_leader,
            request=w.dispatched,
            volunteer=w.cast.outsider,
        )
        assert "volunteer" in error.message_dict
        w.dispatched.refresh_from_db()
        assert w.dispatched.status == RequestStatus.DISPATCHED

    def test_decline_needs_a_reason(self, w):
        staff = w.cast.community_staff
        error = refused(
            services.service_request_decline, actor=staff, request=w.submitted, reason=" "
        )
        assert "Give a reason." in text(error)
        services.service_request_decline(actor=staff, request=w.submitted, reason="不属实")
        assert w.submitted.status == RequestStatus.DECLINED
        assert w.submitted.decline_reason == "不属实"

    @pytest.mark.parametrize(
        ("service", "fixture", "kwargs"),
        [
            ("service_request_accept", "accepted", {}),
            ("service_request_decline", "done", {"reason": "x"}),
            ("service_request_dispatch", "submitted", {}),
            ("service_request_open_for_claim", "dispatched", {}),
            ("service_request_close", "in_progress", {}),
        ],
    )
    def test_transitions_from_the_wrong_status_are_refused(self, w, service, fixture, kwargs):
        request = getattr(w, fixture)
        if service == "service_request_dispatch":
            kwargs = {"team": w.team}
        error = refused(
            getattr(services, service), actor=w.cast.community_staff, request=request, **kwargs
        )
        assert "wrong_status" in codes(error)
        before = request.status
        request.refresh_from_db()
        assert request.status == before

    @pytest.mark.parametrize("role", ["volunteer", "inspector", "other_branch_secretary"])
    def test_review_is_for_the_communitys_staff(self, w, role):
        error = refused(
            services.service_request_accept,
            actor=getattr(w.cast, role),
            request=w.submitted,
        )
        assert "outside_scope" in codes(error)
        w.submitted.refresh_from_db()
        assert w.submitted.status == RequestStatus.SUBMITTED

    def test_staff_close_a_done_request(self, w):
        services.service_request_close(actor=w.cast.branch_secretary, request=w.done)
        assert w.done.status == RequestStatus.CLOSED


class TestCompletion:
    def test_completing_a_request_not_dispatched_to_you_is_refused(self, w):
        events = RequestEvent.objects.count()
        error = refused(
            services.service_request_complete,
            user=w.cast.team_leader,
            request=w.in_progress,
            note="做完了",
            photos=[],
        )
        assert "not_assigned" in codes(error)
        assert "not dispatched to you" in text(error)
        w.in_progress.refresh_from_db()
        assert w.in_progress.status == RequestStatus.IN_PROGRESS
        assert RequestEvent.objects.count() == events

    def test_a_note_is_required(self, w):
        error = refused(
            services.service_request_complete,
            user=w.cast.volunteer,
            request=w.in_progress,
            note=" ",
            photos=[png()],
        )
        assert "Say what was done." in text(error)
        assert not RequestEvidence.objects.exists()

    def test_photos_must_be_images(self, w):
        fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
        error = refused(
            services.service_request_complete,
            user=w.cast.volunteer,
            request=w.in_progress,
            note="做完了",
            photos=[fake],
        )
        assert "JPEG or PNG" in text(error)
        assert not RequestEvidence.objects.exists()

    def test_at_most_three_photos(self, w):
        error = refused(
            services.service_request_complete,
            user=w.cast.volunteer,
            request=w.in_progress,
            note="做完了",
            photos=[png(f"{n}.png") for n in range(4)],
        )
        assert "at most 3 photos" in text(error)
        w.in_progress.refresh_from_db()
        assert w.in_progress.status == RequestStatus.IN_PROGRESS

    def test_photos_are_size_limited(self, w, monkeypatch):
        monkeypatch.setattr(services.requests, "MAX_EVIDENCE_BYTES", 10)
        error = refused(
            services.service_request_complete,
            user=w.cast.volunteer,
            request=w.in_progress,
            note="做完了",
            photos=[png()],
        )
        assert "smaller than 5 MB" in text(error)
        assert not RequestEvidence.objects.exists()

    def test_a_done_request_cannot_be_completed_again(self, w):
        error = refused(
            services.service_request_complete,
            user=w.cast.volunteer,
            request=w.done,
            note="again",
            photos=[],
        )
        assert "wrong_status" in codes(error)


class TestRating:
    def test_rating_twice_is_refused(self, w):
        services.service_request_rate(token=w.done.rating_token, stars=4, comment="")
        error = refused(
            services.service_request_rate, token=w.done.rating_token, stars=1, comment="差"
        )
        assert "rated_twice" in codes(error)
        assert "already been rated" in text(error)
        w.done.refresh_from_db()
        assert w.done.rating_stars == 4
        assert w.done.rating_comment == ""

    @pytest.mark.parametrize("fixture", ["submitted", "in_progress", "open_request"])
    def test_rating_a_request_not_done_is_refused(self, w, fixture):
        request = getattr(w, fixture)
        error = refused(services.service_request_rate, token=request.rating_token, stars=5)
        assert "not_done" in codes(error)
        assert "not done yet" in text(error)
        request.refresh_from_db()
        assert request.rating_stars is None

    @pytest.mark.parametrize("stars", [0, 6, "", "x", None])
    def test_stars_from_one_to_five(self, w, stars):
        error = refused(services.service_request_rate, token=w.done.rating_token, stars=stars)
        assert "1 to 5 stars" in text(error)
        w.done.refresh_from_db()
        assert w.done.status == RequestStatus.DONE

    def test_a_long_comment_is_refused(self, w):
        error = refused(
            services.service_request_rate,
            token=w.done.rating_token,
            stars=5,
            comment="好" * 501,
        )
        assert "comment" in error.message_dict
        w.done.refresh_from_db()
        assert w.done.rating_stars is None

    def test_an_unknown_token_is_refused(self, w):
        error = refused(services.service_request_rate, token="nope", stars=5)
        assert "invalid_token" in codes(error)


class TestSelectors:
    def test_tracking_needs_the_phones_last_four_digits(self, w):
        number = w.submitted.tracking_number
        assert selectors.service_request_track(tracking_number=number, phone_last4="5678")
        assert selectors.service_request_track(tracking_number=number, phone_last4="0000") is None
        assert selectors.service_request_track(tracking_number=number, phone_last4="") is None
        assert selectors.service_request_track(tracking_number="XY0", phone_last4="5678") is None

    def test_the_wall_shows_open_micro_wishes_without_personal_data(self, w):
        rows = list(selectors.service_request_wall())
        assert [row["pk"] for row in rows] == [w.open_request.pk]
        assert set(rows[0]) == {
            "pk",
            "title",
            "status",
            "created_at",
            "community__name",
            "service_category__name",
        }

    def test_overdue(self, w):
        w.accepted.deadline = timezone.localdate() - datetime.timedelta(days=1)
        w.accepted.save()
        assert w.accepted.is_overdue
        assert list(ServiceRequest.objects.overdue()) == [w.accepted]
        w.done.deadline = timezone.localdate() - datetime.timedelta(days=1)
        w.done.save()
        assert not w.done.is_overdue

    def test_the_team_leaders_queue(self, w):
        assert list(selectors.service_requests_for_team_leader(user=w.cast.team_leader)) == [
            w.dispatched
        ]
        assert not selectors.service_requests_for_team_leader(user=w.cast.volunteer).exists()
