from django.conf import settings
from django.utils.translation import gettext as _

from .scoping import get_user_scope


def platform(request):
    user = getattr(request, "user", None)
    scope = get_user_scope(user)
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME or _("Party-member volunteer service"),
        "user_scope": scope,
        "signup_open": settings.VOLUNTEER_SIGNUP_OPEN,
    }
