from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.organizations.models import Membership, OrganizationRole


@require_GET
def home(request):
    """The volunteer's start page: who they are, where they belong, what they can do."""
    user = request.user
    membership = (
        Membership.objects.active().filter(user=user).select_related("organization").first()
    )
    roles = OrganizationRole.objects.active().filter(user=user).select_related("organization")
    return render(
        request,
        "portal/home.html",
        {"membership": membership, "roles": roles},
    )


@require_GET
def profile(request):
    return render(request, "portal/profile.html", {"profile_user": request.user})
