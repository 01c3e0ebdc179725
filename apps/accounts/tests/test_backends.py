"""The sign-in backends' ``get_user`` (the signed-in user, on every request): the same user
Django's ``ModelBackend`` loads, in one prepared statement, and no user for an inactive or
missing account, so a deactivated volunteer's open sessions end at their next request."""

import pytest
from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.backends import AccountBackend, PhoneNumberBackend
from apps.accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

BACKENDS = [AccountBackend, PhoneNumberBackend]


def test_the_account_backend_is_allauths():
    assert issubclass(AccountBackend, AuthenticationBackend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_get_user_is_the_user_django_loads(backend):
    user = UserFactory()
    loaded = backend().get_user(str(user.pk))
    expected = ModelBackend().get_user(user.pk)
    assert loaded == expected
    assert (loaded.username, loaded.real_name, loaded.id_number, loaded.password) == (
        expected.username,
        expected.real_name,
        expected.id_number,
        expected.password,
    )
    # The session's hash still matches: a signed-in visitor stays signed in.
    assert loaded.get_session_auth_hash() == expected.get_session_auth_hash()


@pytest.mark.parametrize("backend", BACKENDS)
def test_get_user_refuses_an_inactive_or_missing_account(backend):
    inactive = UserFactory(is_active=False)
    assert backend().get_user(inactive.pk) is None
    assert backend().get_user(inactive.pk + 1000) is None
    assert backend().get_user("not-a-key") is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_get_user_is_one_statement(backend):
    user = UserFactory()
    backend().get_user(user.pk)  # prepared on this connection now, where that is on
    with CaptureQueriesContext(connection) as sent:
        backend().get_user(user.pk)
    assert len(sent.captured_queries) == 1


def test_signing_in_by_username_keeps_the_visitor_signed_in(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "apps.accounts.backends.AccountBackend"
    assert client.get(reverse("portal:home")).wsgi_request.user == user


def test_a_deactivated_account_is_signed_out_at_its_next_request(client):
    user = UserFactory()
    client.force_login(user, backend="apps.accounts.backends.AccountBackend")
    assert client.get(reverse("portal:home")).wsgi_request.user == user
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not client.get(reverse("portal:home")).wsgi_request.user.is_authenticated
