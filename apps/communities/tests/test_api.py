"""The communities API: bad input gets a clear 400 and changes nothing; no home address out."""

from django.utils import translation

from apps.communities.models import (
    Community,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    TeamPairing,
)


def en(api):
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return api


def test_pairing_with_inactive_community_or_overlapping(cworld, api_as):
    api = en(api_as(cworld.cast.branch_secretary))
    Community.objects.filter(pk=cworld.other_community.pk).update(is_active=False)
    with translation.override("en"):
        response = api.post(
            "/api/v1/team-pairings/",
            {"team": cworld.team.pk, "community": cworld.other_community.pk},
            format="json",
        )
        assert response.status_code == 400
        assert response.json() == {
            "community": ["This community is no longer active and cannot be paired."]
        }
        response = api.post(
            "/api/v1/team-pairings/",
            {"team": cworld.team.pk, "community": cworld.community.pk},
            format="json",
        )
        assert response.status_code == 400
        assert "already paired with this community" in response.json()[0]
    assert TeamPairing.objects.count() == 1


def test_claiming_a_full_post(cworld, api_as):
    Post.objects.filter(pk=cworld.post.pk).update(slots=1)
    response = en(api_as(cworld.cast.volunteer)).post(f"/api/v1/posts/{cworld.post.pk}/claim/")
    assert response.status_code == 400
    assert response.json() == ["All places on this post have been claimed."]
    assert PostClaim.objects.count() == 1


def test_pledge_bad_input(cworld, api_as):
    api = en(api_as(cworld.cast.volunteer))
    base = {"community": cworld.community.pk, "content": "a", "target": "b"}
    response = api.post("/api/v1/pledges/", {**base, "year": cworld.year - 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"year": ["A pledge cannot be made for a past year."]}
    response = api.post("/api/v1/pledges/", {**base, "year": cworld.year}, format="json")
    assert response.json() == {"year": ["You have already made a pledge for this year."]}
    response = api.post("/api/v1/pledges/", {"year": "x", "content": ""}, format="json")
    assert set(response.json()) == {"year", "content", "target", "community"}
    response = api.post(f"/api/v1/pledges/{cworld.pledge.pk}/report-kept/", {}, format="json")
    assert set(response.json()) == {"evidence"}
    assert Pledge.objects.count() == 2


def test_second_report_while_pending(cworld, api_as):
    api = en(api_as(cworld.resident))
    response = api.post(
        "/api/v1/residence-reports/",
        {"community": cworld.other_community.pk, "home_address": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == [
        "You already have a report awaiting confirmation. Withdraw it or wait for the "
        "community's answer."
    ]
    response = api.post("/api/v1/residence-reports/", {"community": 0}, format="json")
    assert set(response.json()) == {"community", "home_address"}
    assert ResidenceReport.objects.filter(user=cworld.resident).count() == 1


def test_report_submit_and_withdraw_by_the_member(cworld, api_as):
    api = api_as(cworld.cast.branch_secretary)
    response = api.post(
        "/api/v1/residence-reports/",
        {"community": cworld.community.pk, "home_address": "桂园路9号"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("BD") and "home_address" not in body
    withdrawn = api.post(f"/api/v1/residence-reports/{body['id']}/withdraw/")
    assert withdrawn.json()["status"] == ResidenceReportStatus.WITHDRAWN
    listing = api_as(cworld.cast.community_staff).get("/api/v1/residence-reports/").json()
    assert all("home_address" not in row for row in listing["results"])


def test_reasons_and_places_are_required(cworld, api_as):
    api = en(api_as(cworld.cast.community_staff))
    response = api.post(f"/api/v1/residence-reports/{cworld.pending_report.pk}/return/", {})
    assert response.status_code == 400 and set(response.json()) == {"reason"}
    response = api.post(f"/api/v1/post-claims/{cworld.claim.pk}/reject/", {"reason": ""})
    assert response.status_code == 400 and set(response.json()) == {"reason"}
    response = api.post(
        "/api/v1/posts/", {"community": cworld.community.pk, "title": "x", "slots": 0}
    )
    assert response.status_code == 400 and set(response.json()) == {"slots"}
    response = api.patch(f"/api/v1/posts/{cworld.post.pk}/", {"ends_on": "2000-01-01"})
    assert response.status_code == 400
    assert response.json() == {"ends_on": ["A post cannot end before it starts."]}
    assert Post.objects.count() == 1
    assert (
        ResidenceReport.objects.get(pk=cworld.pending_report.pk).status
        == ResidenceReportStatus.PENDING
    )


def test_ending_a_report_through_the_api(cworld, api_as):
    from apps.communities.models import ResidenceReport, ResidenceReportStatus
    from conftest import zh

    staff = api_as(cworld.cast.community_staff)
    response = staff.post(f"/api/v1/residence-reports/{cworld.pending_report.pk}/end/")
    assert response.status_code == 400
    assert zh("Only a confirmed report can be ended.") in str(response.json())
    response = staff.post(
        f"/api/v1/residence-reports/{cworld.report.pk}/end/", {"ended_on": "1999-01-01"}
    )
    assert response.status_code == 400 and "ended_on" in response.json()
    assert (
        ResidenceReport.objects.get(pk=cworld.report.pk).status == ResidenceReportStatus.CONFIRMED
    )
    member = api_as(cworld.cast.volunteer)
    assert member.post(f"/api/v1/residence-reports/{cworld.report.pk}/end/").status_code == 200
    assert ResidenceReport.objects.get(pk=cworld.report.pk).status == ResidenceReportStatus.ENDED
