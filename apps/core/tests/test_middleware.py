"""``core.middleware.LoginRequiredMiddleware``: private pages need a signed-in user, and the
view then gets that user itself, not the lazy stand-in the authentication middleware puts on
the request (every attribute read through which goes through a proxy)."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject, empty

from apps.core.middleware import LoginRequiredMiddleware

pytestmark = pytest.mark.django_db


def private_view(request):
    return HttpResponse("private")


@login_not_required
def public_view(request):
    return HttpResponse("public")


def _request(user):
    request = RequestFactory().get("/records/")
    request.user = SimpleLazyObject(lambda: user)  # as AuthenticationMiddleware sets it
    return request


def _process(request, view):
    middleware = LoginRequiredMiddleware(lambda request: HttpResponse())
    return middleware.process_view(request, view, (), {})


def test_a_private_page_gets_the_signed_in_user_itself(volunteer):
    request = _request(volunteer)
    assert _process(request, private_view) is None
    assert type(request.user) is type(volunteer)
    assert request.user == volunteer


def test_a_public_page_gets_the_anonymous_user_itself():
    anonymous = AnonymousUser()
    request = _request(anonymous)
    assert _process(request, public_view) is None
    assert request.user is anonymous


def test_an_api_request_is_left_to_the_api():
    request = RequestFactory().get("/api/records/")
    request.user = SimpleLazyObject(AnonymousUser)
    assert _process(request, private_view) is None  # DRF answers 401/403 itself
    assert request.user._wrapped is empty  # not even read


def test_an_anonymous_visitor_of_a_private_page_is_sent_to_sign_in():
    request = _request(AnonymousUser())
    response = _process(request, private_view)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert isinstance(request.user, SimpleLazyObject)
