"""Reads with rules on volunteer profiles, change requests and training records."""

from django.db.models import Prefetch

from .models import (
    ProfileChangeRequest,
    ServiceCategory,
    TrainingRecord,
    VolunteerProfile,
    VolunteerStatus,
)


def volunteer_profile_list(*, user, status: str = "", mine: bool = False):
    """Profiles the user may see, with what list pages and the API show of each."""
    queryset = VolunteerProfile.objects.visible_to(user)
    if mine:
        queryset = queryset.filter(user=user)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("user", "residence_community").prefetch_related(
        Prefetch("service_categories", queryset=ServiceCategory.objects.order_by("sort_order"))
    )


def volunteer_profile_of(*, user) -> VolunteerProfile | None:
    return (
        VolunteerProfile.objects.filter(user=user)
        .select_related("user", "residence_community")
        .prefetch_related("service_categories")
        .first()
    )


def volunteer_review_queue(*, user):
    """Pending registrations the user may decide on, oldest first."""
    return (
        VolunteerProfile.objects.manageable_by(user)
        .filter(status=VolunteerStatus.PENDING)
        .select_related("user", "residence_community")
        .order_by("submitted_at", "pk")
    )


def profile_change_request_queue(*, user):
    """Pending changes to verified fields the user may decide on, oldest first."""
    return (
        ProfileChangeRequest.objects.manageable_by(user)
        .pending()
        .select_related("profile__user")
        .order_by("created_at", "pk")
    )


def training_record_list(*, user, mine: bool = False):
    queryset = TrainingRecord.objects.visible_to(user)
    if mine:
        queryset = queryset.filter(user=user)
    return queryset.select_related("user", "recorded_by")
