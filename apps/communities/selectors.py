from django.db.models import Q

from apps.core.scoping import UserScope

from .models import CommunityStaff


def volunteer_profile_rule(user, scope: UserScope, *, manage: bool) -> Q:
    """Profiles registered with a community the user works for."""
    staffed = CommunityStaff.objects.active().filter(user=user).values("community_id")
    return Q(residence_community__in=staffed)
