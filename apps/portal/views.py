from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.accounts.models import VolunteerStatus
from apps.accounts.selectors import volunteer_profile_of, volunteer_review_queue
from apps.care.models import RecipientPairing
from apps.communities.models import CommunityStaff
from apps.communities.selectors import residence_report_current
from apps.organizations.models import EmploymentStatus, Membership, OrganizationRole
from apps.points.selectors import points_total
from apps.service_records.selectors import (
    hours_in_year,
    may_review_any,
    review_queue,
    star_level,
)
from apps.teams.models import teams_led_by


@require_GET
def home(request):
    """The volunteer's start page: who they are, where they belong, what they can do next."""
    user = request.user
    membership = (
        Membership.objects.active().filter(user=user).select_related("organization").first()
    )
    profile = volunteer_profile_of(user=user)
    year = timezone.localdate().year
    hours = hours_in_year(user=user, year=year)
    return render(
        request,
        "portal/home.html",
        {
            "membership": membership,
            "roles": OrganizationRole.objects.active()
            .filter(user=user)
            .select_related("organization"),
            "profile": profile,
            "profile_active": profile is not None and profile.status == VolunteerStatus.ACTIVE,
            "in_service_member": membership is not None
            and membership.employment == EmploymentStatus.EMPLOYED,
            "residence_report": residence_report_current(user=user),
            "led_teams": teams_led_by(user).filter(is_active=True),
            "staffed_communities": CommunityStaff.objects.active()
            .filter(user=user)
            .select_related("community"),
            "pending_reviews": volunteer_review_queue(user=user).count(),
            "household_pairing": RecipientPairing.objects.active().filter(volunteer=user).first(),
            "year": year,
            "hours": hours,
            "stars": star_level(hours=hours["total_approved_hours"]),
            "points": points_total(user=user, year=year),
            "records_to_review": review_queue(user=user).count() if may_review_any(user) else 0,
        },
    )


@require_GET
def profile(request):
    return render(request, "portal/profile.html", {"profile_user": request.user})
