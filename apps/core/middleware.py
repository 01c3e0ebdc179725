from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.shortcuts import resolve_url
from django.utils.functional import empty


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user unless its view is marked ``login_not_required``.

    Fail closed: a new page is private until someone decides otherwise. The REST API is left
    to DRF, which answers 401/403 in JSON instead of redirecting to the login page.
    """

    exempt_prefixes = ("/api/",)

    def get_login_url(self, view_func):
        # One sign-in page for the whole platform (the admin included): the one django-axes guards.
        return resolve_url(settings.LOGIN_URL)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(self.exempt_prefixes):
            return None
        response = super().process_view(request, view_func, view_args, view_kwargs)
        if response is None:
            # The check above read the user (signed in or anonymous): hand the view the user
            # itself rather than the lazy stand-in, so that its every attribute read (dozens
            # on a record submit) does not go through the proxy.
            user = getattr(request.user, "_wrapped", empty)
            if user is not empty:
                request.user = user
        return response
