"""Volunteer pages: registration, review, the queue's query budget; the API's list budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import VolunteerProfile, VolunteerStatus
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.volunteer_helpers import add_profile, make_id_number, registration
from apps.organizations.tests.factories import MembershipFactory


def _form_data(user, community, **overrides):
    data = registration(user, community=community)
    data.pop("user")
    data.update(
        residence_community=community.pk,
        consent="on",
        birth_date=data["birth_date"].isoformat(),
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_registration_page_registers_and_shows_the_number(client_as, outsider, community):
    client = client_as(outsider)
    response = client.post("/volunteer/register/", _form_data(outsider, community), follow=True)
    profile = VolunteerProfile.objects.get(user=outsider)
    assert profile.status == VolunteerStatus.PENDING
    assert profile.volunteer_number in response.content.decode()


def test_registration_page_shows_the_duplicate_id_message(
    client_as, outsider, volunteer, community
):
    client = client_as(outsider)
    data = _form_data(outsider, community, id_number=volunteer.id_number)
    data["birth_date"] = volunteer.birth_date.isoformat()
    response = client.post("/volunteer/register/", data)
    assert response.status_code == 200
    assert not VolunteerProfile.objects.filter(user=outsider).exists()
    errors = response.context["form"].errors.as_data()["id_number"]
    assert [e.code for e in errors] == ["id_number_taken"]


def test_registration_page_without_consent_saves_nothing(client_as, outsider, community):
    client = client_as(outsider)
    data = _form_data(outsider, community)
    data.pop("consent")
    response = client.post("/volunteer/register/", data)
    assert response.status_code == 200
    assert "consent" in response.context["form"].errors
    assert not VolunteerProfile.objects.exists()


def test_staff_approve_on_the_review_page(client_as, tree, community, community_staff):
    user = UserFactory(id_number="")
    profile = add_profile(user, status=VolunteerStatus.PENDING, community=community)
    client = client_as(community_staff)
    assert profile.volunteer_number in client.get("/volunteer/review/").content.decode()
    response = client.post(f"/volunteer/review/{profile.pk}/", {"action": "approve"})
    assert response.status_code == 302
    assert VolunteerProfile.objects.get(pk=profile.pk).status == VolunteerStatus.ACTIVE


def test_api_never_shows_the_whole_id_number(api_as, tree, city_admin):
    user = UserFactory(id_number="")
    add_profile(user)
    body = api_as(city_admin).get("/api/v1/volunteer-profiles/").content.decode()
    assert user.id_number_masked in body
    user.refresh_from_db()
    assert user.id_number not in body


def test_city_admin_sees_every_profile(tree, city_admin):
    add_profile(UserFactory(id_number=""))
    assert VolunteerProfile.objects.visible_to(city_admin).count() == 1


def _grow(tree, community, rows):
    for _ in range(rows):
        user = UserFactory(id_number="")
        MembershipFactory(user=user, organization=tree.branch)
        add_profile(user, status=VolunteerStatus.PENDING, community=community)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        # the reviewer check (a role, so no staff lookup), pending profiles, pending changes
        "/volunteer/review/",
        # count, one page of profiles, their categories (prefetched)
        "/api/v1/volunteer-profiles/",
    ],
)
def test_volunteer_lists_queries_stay_constant(client_as, tree, community, branch_secretary, url):
    client = client_as(branch_secretary)
    _grow(tree, community, 10)
    small = _count(client, url)
    _grow(tree, community, 90)
    large = _count(client, url)
    assert small == large, f"{url}: {small} queries at 10 rows, {large} at 100"


def test_unused_helper_id_numbers_are_valid():
    import datetime

    from apps.accounts.validators import validate_id_number

    validate_id_number(make_id_number(datetime.date(2000, 2, 29)))


def test_volunteer_withdraws_and_cannot_withdraw_twice(client_as, world):
    from django.utils import translation

    from apps.accounts.models import VolunteerProfile, VolunteerStatus
    from apps.accounts.tests.volunteer_helpers import extend_world

    extend_world(world)
    client = client_as(world.cast.volunteer)
    page = client.get("/volunteer/profile/").content.decode()
    assert "/volunteer/profile/withdraw/" in page
    assert world.tree.branch.name in page  # the party membership the profile belongs with
    response = client.post("/volunteer/profile/withdraw/", follow=True)
    profile = VolunteerProfile.objects.get(user=world.cast.volunteer)
    assert profile.status == VolunteerStatus.WITHDRAWN
    with translation.override("en"):
        response = client.post("/volunteer/profile/withdraw/", HTTP_ACCEPT_LANGUAGE="en")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages, "a message explains why nothing happened"
    assert VolunteerProfile.objects.get(user=world.cast.volunteer).status == "withdrawn"
