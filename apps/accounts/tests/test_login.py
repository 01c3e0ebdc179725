import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.urls import reverse

from apps.accounts.models import User
from conftest import PASSWORD, zh

LOGIN = "/accounts/login/"


def _post_login(client, login, password):
    return client.post(LOGIN, {"login": login, "password": password})


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert zh("Mobile number or username") in body


@pytest.mark.parametrize("field", ["username", "phone"])
def test_sign_in_with_username_or_phone(client, volunteer, field):
    response = _post_login(client, getattr(volunteer, field), PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.get("/").context["user"] == volunteer


def test_wrong_password_gives_a_chinese_error_and_no_session(client, volunteer):
    response = _post_login(client, volunteer.phone, "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["__all__"]


def test_five_failures_lock_the_account_with_a_chinese_message(client, volunteer):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _post_login(client, volunteer.phone, "wrong").status_code == 200
    # The fifth failure, typed as the username this time: same account, same counter.
    locked = _post_login(client, volunteer.username, "wrong")
    assert locked.status_code == 429
    assert zh("Account locked") in locked.content.decode()
    # Even the right password is refused while locked.
    again = _post_login(client, volunteer.phone, PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username=volunteer.username).get().failures_since_start == 5


def test_logout_ends_the_session(client_as, volunteer):
    client = client_as(volunteer)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_reset_sends_an_email(client, volunteer):
    volunteer.email = "wang@example.org"
    volunteer.save(update_fields=["email"])
    response = client.post(reverse("account_reset_password"), {"email": "wang@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_change(client_as, volunteer):
    client = client_as(volunteer)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "A-new-pass-2026", "password2": "A-new-pass-2026"},
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.check_password("A-new-pass-2026")


@pytest.mark.django_db
def test_signup_creates_a_volunteer(client):
    response = client.post(
        reverse("account_signup"),
        {
            "real_name": "孙丽",
            "phone": "13912345678",
            "username": "sunli",
            "password1": "Str0ng-pass-2026",
            "password2": "Str0ng-pass-2026",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    user = User.objects.get(username="sunli")
    assert (user.real_name, user.phone) == ("孙丽", "13912345678")


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("1391234", "Enter a mainland mobile number: 11 digits starting with 1."),
        ("13900000000", "This mobile number is already registered."),
    ],
)
def test_signup_refuses_bad_phone_and_saves_nothing(client, volunteer, phone, message):
    volunteer.phone = "13900000000"
    volunteer.save(update_fields=["phone"])
    before = User.objects.count()
    response = client.post(
        reverse("account_signup"),
        {
            "real_name": "孙丽",
            "phone": phone,
            "username": "sunli",
            "password1": "Str0ng-pass-2026",
            "password2": "Str0ng-pass-2026",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [zh(message)]
    assert User.objects.count() == before


@pytest.mark.django_db
def test_signup_can_be_closed(client, settings):
    settings.VOLUNTEER_SIGNUP_OPEN = False
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    response = client.post(reverse("account_signup"), {"username": "x"})
    assert not User.objects.filter(username="x").exists()


def test_idle_sessions_expire_and_each_request_renews_them(client_as, volunteer, settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    client = client_as(volunteer)
    client.get("/")
    session = client.session
    assert 0 < session.get_expiry_age() <= settings.SESSION_COOKIE_AGE
