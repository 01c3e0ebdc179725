"""The communities admin: saves go through the services; home addresses stay off the lists."""

from django.utils import translation

from apps.communities.models import Community, ResidenceReportStatus, TeamPairing


def test_home_address_on_the_change_page_only(cworld, client_as):
    client = client_as(cworld.cast.city_admin)
    listing = client.get("/admin/communities/residencereport/").content.decode()
    assert cworld.pending_report.number in listing and "东湖路1号2栋301" not in listing
    detail = client.get(f"/admin/communities/residencereport/{cworld.pending_report.pk}/change/")
    assert "东湖路1号2栋301" in detail.content.decode()


def test_pairing_added_in_the_admin_goes_through_the_service(cworld, client_as):
    client = client_as(cworld.cast.branch_secretary)
    Community.objects.filter(pk=cworld.other_community.pk).update(is_active=False)
    url = "/admin/communities/teampairing/add/"
    data = {
        "team": cworld.team.pk,
        "community": cworld.other_community.pk,
        "started_on": "2026-01-01",
    }
    with translation.override("en"):
        response = client.post(url, data, headers={"Accept-Language": "en"})
        assert response.status_code == 200
        assert "This community is no longer active and cannot be paired." in str(
            response.context["adminform"].form.errors
        )
    assert TeamPairing.objects.count() == 1
    Community.objects.filter(pk=cworld.other_community.pk).update(is_active=True)
    assert client.post(url, data).status_code == 302
    pairing = TeamPairing.objects.get(community=cworld.other_community)
    assert pairing.created_by == cworld.cast.branch_secretary


def test_confirm_action_uses_the_service(cworld, client_as):
    client = client_as(cworld.cast.branch_secretary)
    client.post(
        "/admin/communities/residencereport/",
        {"action": "confirm_reports", "_selected_action": [cworld.pending_report.pk]},
    )
    cworld.pending_report.refresh_from_db()
    assert cworld.pending_report.status == ResidenceReportStatus.CONFIRMED
    assert cworld.pending_report.reviewed_by == cworld.cast.branch_secretary
