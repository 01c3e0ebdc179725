"""Doors everyone may knock on: sign-in pages, health, languages, the API's description."""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case

CASES = [
    # allauth sends signed-in people away from the sign-in and sign-up pages.
    case("account_login", default=302, anonymous=200),
    case("account_signup", default=302, anonymous=200),
    case("account_logout", default=200, anonymous=302),
    case("account_inactive", default=200),
    case("account_reset_password", default=200),
    case("account_reset_password_done", default=200),
    case(
        "account_reset_password_from_key",
        kwargs=lambda w: {"uidb36": "zz", "key": "bad-key"},
        default=200,
    ),
    case("account_reset_password_from_key_done", default=200),
    case("account_change_password", default=200, anonymous=302),
    # Every account has a password here, so "set password" forwards to "change password".
    case("account_set_password", default=302),
    case("account_email", default=200, anonymous=302),
    case("account_email_verification_sent", default=200),
    case("account_confirm_email", kwargs=lambda w: {"key": "bad-key"}, default=200),
    case("account_reauthenticate", default=200, anonymous=302),
    # Sign-in and reauthentication by code are switched off: allauth sends people elsewhere.
    case("account_confirm_login_code", default=302),
    case("account_request_reauthentication_code", default=302),
    case("account_confirm_reauthentication_code", default=302),
    case("healthz", default=200),
    case(
        "set_language",
        "POST",
        data=lambda w: {"language": "en", "next": "/"},
        default=302,
        anonymous_to_login=False,
    ),
    case("javascript-catalog", default=200),
    case("api-schema", default=200, anonymous=403, api=True),
    case("api-docs", default=200, anonymous=403, api=True),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_public_permissions(c, role, world, client, api_as):
    run_case(c, role, world, client, api_as)
