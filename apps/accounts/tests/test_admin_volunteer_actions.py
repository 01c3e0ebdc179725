"""Suspending and reinstating volunteers from the admin goes through the services."""

from apps.accounts.models import VolunteerProfile, VolunteerStatus
from apps.accounts.tests.volunteer_helpers import add_profile
from apps.core.models import AuditEntry

URL = "/admin/accounts/volunteerprofile/"


def _act(client, action, profile, reason=""):
    return client.post(
        URL,
        {"action": action, "_selected_action": [profile.pk], "reason": reason},
        follow=True,
    )


def test_suspend_needs_a_reason_and_then_reinstate(client_as, tree, branch_secretary, volunteer):
    profile = add_profile(volunteer)
    client = client_as(branch_secretary)
    response = _act(client, "suspend", profile)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert VolunteerProfile.objects.get(pk=profile.pk).status == VolunteerStatus.ACTIVE

    _act(client, "suspend", profile, reason="长期未参加活动")
    profile.refresh_from_db()
    assert (profile.status, profile.review_note) == (VolunteerStatus.SUSPENDED, "长期未参加活动")
    _act(client, "reinstate", profile)
    assert VolunteerProfile.objects.get(pk=profile.pk).status == VolunteerStatus.ACTIVE
    assert (
        AuditEntry.objects.filter(action__in=["volunteer.suspend", "volunteer.reinstate"]).count()
        == 2
    )


def test_other_branch_cannot_suspend(client_as, tree, other_branch_secretary, volunteer):
    profile = add_profile(volunteer)
    _act(client_as(other_branch_secretary), "suspend", profile, reason="越权")
    assert VolunteerProfile.objects.get(pk=profile.pk).status == VolunteerStatus.ACTIVE
