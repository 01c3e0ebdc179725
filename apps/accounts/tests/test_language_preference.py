"""The language switch remembers a signed-in user's choice for what is sent to them later."""

import pytest
from django.urls import reverse

from apps.accounts.models import User


@pytest.mark.django_db
def test_switching_language_is_remembered_on_the_account(client_as, volunteer):
    client = client_as(volunteer)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=volunteer.pk).language == "en"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert User.objects.get(pk=volunteer.pk).language == "zh-hans"


@pytest.mark.django_db
def test_an_unknown_language_changes_nothing(client_as, volunteer):
    response = client_as(volunteer).post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=volunteer.pk).language == ""


@pytest.mark.django_db
def test_anonymous_visitors_switch_without_an_account(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/r/wishes/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


@pytest.mark.django_db
def test_get_is_refused(client_as, volunteer):
    assert client_as(volunteer).get(reverse("set_language")).status_code == 405
