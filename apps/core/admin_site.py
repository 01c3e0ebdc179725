from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .scoping import get_user_scope


class PlatformAdminSite(admin.AdminSite):
    """The staff admin. Who gets in is decided by organisation roles, not ``is_staff``.

    Logging in happens on the portal's login page, the one door that django-axes guards.
    """

    site_header = _("Party-member volunteer service · administration")
    site_title = _("Volunteer service administration")
    index_title = _("Programme administration")
    enable_nav_sidebar = True

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or get_user_scope(user).can_view_any)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # Signed in without an organisation role: 403 here, not a detour via a login page.
            if not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect("admin:index")
            # Signed in, but no organisation role: this is not their door.
            raise PermissionDenied
        target = request.GET.get("next") or request.path
        return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
