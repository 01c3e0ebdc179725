"""Reads of the awards workflow: nominations in scope, the public publicity list, awards."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.core.scoping import get_user_scope

from .models import AssessmentYear, Award, AwardCategory, Nomination, NominationStatus

NOMINATION_RELATED = ("assessment_year", "category", "organization", "volunteer", "team")


def nomination_list(
    *, user, assessment_year=None, category=None, status=None
) -> QuerySet[Nomination]:
    """Nominations of the user's subtree (all of them for the city's administrators).

    ``assessment_year`` and ``category`` take an object or its number / id."""
    rows = Nomination.objects.visible_to(user)
    if assessment_year is not None:
        if isinstance(assessment_year, AssessmentYear):
            rows = rows.filter(assessment_year=assessment_year)
        else:
            rows = rows.filter(assessment_year__year=assessment_year)
    if category is not None:
        rows = rows.filter(
            category_id=category.pk if isinstance(category, AwardCategory) else category
        )
    if status:
        rows = rows.filter(status=status)
    return rows.select_related(*NOMINATION_RELATED)


def publicity_list(*, today: datetime.date | None = None) -> QuerySet[Nomination]:
    """What the public sees: nominations whose publicity period includes today."""
    today = today or timezone.localdate()
    return (
        Nomination.objects.filter(
            status=NominationStatus.PUBLICITY,
            publicity_starts_on__lte=today,
            publicity_ends_on__gte=today,
        )
        .select_related(*NOMINATION_RELATED)
        .order_by("category__order", "category__name", "organization__path", "id")
    )


def my_awards(*, user) -> QuerySet[Award]:
    if not user.is_authenticated:
        return Award.objects.none()
    return Award.objects.filter(volunteer=user).select_related("category", "assessment_year")


def my_nominations(*, user) -> QuerySet[Nomination]:
    """The signed-in volunteer's own nominations, with their status."""
    if not user.is_authenticated:
        return Nomination.objects.none()
    return (
        Nomination.objects.filter(volunteer=user)
        .select_related("assessment_year", "category")
        .order_by("-assessment_year__year", "category__order", "-id")
    )


def award_list(*, user, mine: bool = False) -> QuerySet[Award]:
    rows = my_awards(user=user) if mine else Award.objects.visible_to(user)
    return rows.select_related("volunteer", "team", "category", "assessment_year")


def can_decide_awards(*, user) -> bool:
    return get_user_scope(user).is_city_admin
