"""The portal's community pages: the member's journey, the staff's decisions, bad input."""

from django.utils import translation

from apps.communities.models import (
    ClaimStatus,
    Pledge,
    PledgeStatus,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
)
from apps.communities.tests.fixtures import cworld  # noqa: F401
from conftest import zh


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_member_reports_and_staff_confirm(client_as, volunteer, community, community_staff):
    client = client_as(volunteer)
    response = client.post(
        "/communities/report/", {"community": community.pk, "home_address": "桂园路3号"}
    )
    report = ResidenceReport.objects.get(user=volunteer)
    assert response.status_code == 302
    assert response["Location"] == f"/communities/report/{report.pk}/receipt/"
    receipt = client.get(response["Location"]).content.decode()
    assert report.number in receipt and "window.print()" in receipt and "@media print" in receipt

    staff = client_as(community_staff)
    page = staff.get(f"/communities/{community.pk}/manage/").content.decode()
    assert "桂园路3号" in page  # the staff see the home address
    staff.post(
        f"/communities/{community.pk}/manage/", {"action": "confirm-report", "id": report.pk}
    )
    report.refresh_from_db()
    assert report.status == ResidenceReportStatus.CONFIRMED


def test_member_claims_pledges_and_reports_kept(cworld, client_as):  # noqa: F811
    client = client_as(cworld.cast.volunteer)
    page = client.get("/communities/mine/")
    assert [p.title for p in page.context["posts"]] == ["楼道清洁"]
    client.post(f"/communities/posts/{cworld.post.pk}/claim/")
    assert PostClaim.objects.filter(user=cworld.cast.volunteer, post=cworld.post).exists()
    Pledge.objects.filter(pk=cworld.pledge.pk).delete()
    response = client.post(
        "/communities/pledge/", {"year": cworld.year, "content": "每周服务", "target": "50次"}
    )
    assert response.status_code == 302
    pledge = Pledge.objects.get(user=cworld.cast.volunteer)
    client.post(f"/communities/pledges/{pledge.pk}/kept/", {"evidence": "服务记录50条"})
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.KEPT_REPORTED
    staff = client_as(cworld.cast.community_staff)
    manage = f"/communities/{cworld.community.pk}/manage/"
    staff.post(manage, {"action": "confirm-pledge", "id": pledge.pk})
    staff.post(manage, {"action": "approve-claim", "id": cworld.claim.pk})
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.CONFIRMED
    assert PostClaim.objects.get(pk=cworld.claim.pk).status == ClaimStatus.APPROVED


def test_second_report_while_pending_shows_why_and_saves_nothing(cworld, client_as):  # noqa: F811
    client = client_as(cworld.resident)
    with translation.override("en"):
        response = client.post(
            "/communities/report/",
            {"community": cworld.other_community.pk, "home_address": "x"},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "You already have a report awaiting confirmation. Withdraw it or wait for the "
            "community's answer."
        ]
    assert ResidenceReport.objects.filter(user=cworld.resident).count() == 1


def test_report_form_fields_refused(client_as, volunteer, community):
    response = client_as(volunteer).post(
        "/communities/report/", {"community": "999999", "home_address": ""}
    )
    form = response.context["form"]
    assert set(form.errors) == {"community", "home_address"}
    assert not ResidenceReport.objects.exists()


def test_claiming_a_full_post_on_the_page(cworld, client_as):  # noqa: F811
    Post.objects.filter(pk=cworld.post.pk).update(slots=1)
    client = client_as(cworld.cast.volunteer)
    with translation.override("en"):
        response = client.post(f"/communities/posts/{cworld.post.pk}/claim/", follow=True)
        assert zh("All places on this post have been claimed.") in _messages(response)
    assert not PostClaim.objects.filter(user=cworld.cast.volunteer).exists()


def test_pledge_for_a_past_year_on_the_page(cworld, client_as):  # noqa: F811
    Pledge.objects.filter(user=cworld.cast.volunteer).delete()
    with translation.override("en"):
        response = client_as(cworld.cast.volunteer).post(
            "/communities/pledge/", {"year": cworld.year - 1, "content": "a", "target": "b"}
        )
        assert response.context["form"].errors["year"] == [
            zh("A pledge cannot be made for a past year.")
        ]
    for data in ({"year": "", "content": "a", "target": "b"}, {"year": cworld.year}):
        response = client_as(cworld.cast.volunteer).post("/communities/pledge/", data)
        assert response.status_code == 200 and response.context["form"].errors
    assert not Pledge.objects.filter(user=cworld.cast.volunteer).exists()


def test_pledge_page_without_a_confirmed_report(client_as, volunteer):
    response = client_as(volunteer).post(
        "/communities/pledge/", {"year": 2099, "content": "a", "target": "b"}
    )
    assert response.status_code == 200 and response.context["report"] is None
    assert not Pledge.objects.exists()


def test_report_kept_needs_evidence(cworld, client_as):  # noqa: F811
    response = client_as(cworld.cast.volunteer).post(
        f"/communities/pledges/{cworld.pledge.pk}/kept/", {"evidence": ""}
    )
    assert response.context["form"].errors["evidence"]
    assert Pledge.objects.get(pk=cworld.pledge.pk).status == PledgeStatus.MADE


def test_staff_bad_input_on_the_manage_page(cworld, client_as):  # noqa: F811
    client = client_as(cworld.cast.community_staff)
    manage = f"/communities/{cworld.community.pk}/manage/"
    with translation.override("en"):
        response = client.post(
            manage, {"action": "return-report", "id": cworld.pending_report.pk}, follow=True
        )
        assert zh("Please say why the report is returned.") in _messages(response)
        response = client.post(
            manage, {"action": "reject-claim", "id": cworld.claim.pk, "reason": ""}, follow=True
        )
        assert zh("Please say why the claim is rejected.") in _messages(response)
        response = client.post(
            manage,
            {
                "action": "publish-post",
                "title": "助老",
                "slots": "2",
                "starts_on": "2026-05-02",
                "ends_on": "2026-05-01",
            },
        )
        assert response.context["post_form"].errors["ends_on"] == [
            zh("A post cannot end before it starts.")
        ]
    response = client.post(manage, {"action": "publish-post", "title": "", "slots": "0"})
    assert set(response.context["post_form"].errors) == {"title", "slots"}
    assert client.post(manage, {"action": "confirm-report", "id": "x"}).status_code == 404
    assert client.post(manage, {"action": "nonsense"}).status_code == 404
    assert Post.objects.count() == 1
    assert (
        ResidenceReport.objects.get(pk=cworld.pending_report.pk).status
        == ResidenceReportStatus.PENDING
    )
    assert PostClaim.objects.get(pk=cworld.claim.pk).status == ClaimStatus.PENDING


def test_staff_cannot_decide_another_communitys_rows(cworld, client_as):  # noqa: F811
    from apps.communities.tests.fixtures import make_member, make_report

    stranger = make_member(cworld.tree.other_branch)
    report = make_report(stranger, cworld.other_community, ResidenceReportStatus.PENDING)
    response = client_as(cworld.cast.community_staff).post(
        f"/communities/{cworld.community.pk}/manage/", {"action": "confirm-report", "id": report.pk}
    )
    assert response.status_code == 404
    assert ResidenceReport.objects.get(pk=report.pk).status == ResidenceReportStatus.PENDING


def test_staff_publish_and_community_list(cworld, client_as):  # noqa: F811
    client = client_as(cworld.cast.community_staff)
    manage = f"/communities/{cworld.community.pk}/manage/"
    response = client.post(manage, {"action": "publish-post", "title": "助老送餐", "slots": "3"})
    assert response.status_code == 302
    assert Post.objects.filter(title="助老送餐", created_by=cworld.cast.community_staff).exists()
    listing = client.get("/communities/manage/")
    assert [c.name for c in listing.context["communities"]] == ["桂园社区"]
    assert listing.context["communities"][0].pending_report_count == 1
