from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from apps.core import prepared

from .validators import normalize_phone, validate_phone


def _user_for_phone(value: str):
    phone = normalize_phone(value)
    try:
        validate_phone(phone)
    except Exception:  # noqa: BLE001 - not a phone number: nothing to look up
        return None
    return get_user_model()._default_manager.filter(phone=phone).first()


class UserByKeyMixin:
    """``get_user`` (the signed-in user, loaded on every request) through one statement
    written once and prepared per connection (``core.prepared.instance_by_key``) rather than
    the ORM's ``get(pk=...)``, which spent several times longer building the statement than
    the database spent answering it. The same user, the same refusal of inactive ones."""

    def get_user(self, user_id):
        user = prepared.instance_by_key(get_user_model(), user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class AccountBackend(UserByKeyMixin, AuthenticationBackend):
    """django-allauth's backend (sign-in by username or e-mail), with ``UserByKeyMixin``."""


class PhoneNumberBackend(UserByKeyMixin, ModelBackend):
    """Lets people sign in with their mobile number in the username box."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = _user_for_phone(username)
        if user is None:
            # Run the hasher anyway so timing does not tell which numbers exist.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request, credentials=None) -> str:
    """The name django-axes counts failures under: one account, whether typed as phone or name."""
    value = ""
    if credentials:
        value = credentials.get("login") or credentials.get("username") or ""
    if not value:
        data = getattr(request, "data", None) or request.POST
        value = data.get("login") or data.get("username") or ""
    value = value.strip()
    user = _user_for_phone(value) or (
        get_user_model()._default_manager.filter(username__iexact=value).first() if value else None
    )
    # One counter per account, however the name was typed.
    return (user.username if user is not None else value).lower()
