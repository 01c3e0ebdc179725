from allauth.account.views import LoginView as AllauthLoginView
from axes.decorators import axes_dispatch, axes_form_invalid
from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .services import user_language_set


@method_decorator(axes_dispatch, name="dispatch")
@method_decorator(axes_form_invalid, name="form_invalid")
class LoginView(AllauthLoginView):
    """allauth's login, guarded by django-axes as its documentation describes."""


login = LoginView.as_view()


@login_not_required
@require_POST
def set_language(request):
    """Django's language switch; a signed-in user's choice is also remembered on the account,
    so notifications written while they are away are in their language too."""
    response = django_set_language(request)
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=request.POST.get("language", ""))
    return response
