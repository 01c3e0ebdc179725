"""Reads with a rule: the activity directory, a volunteer's sign-ups, rosters, plan vs actual."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import (
    Activity,
    ActivityPlan,
    ActivityPlanItem,
    ActivityStatus,
    Campaign,
    Signup,
    SignupStatus,
)


def _count_signups(status: str):
    counted = (
        Signup.objects.filter(activity=OuterRef("pk"), status=status)
        .order_by()
        .values("activity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_places(queryset: QuerySet) -> QuerySet:
    """Annotate ``confirmed_count``, ``waitlisted_count`` and ``remaining_places`` in SQL."""
    return queryset.annotate(
        confirmed_count=_count_signups(SignupStatus.CONFIRMED),
        waitlisted_count=_count_signups(SignupStatus.WAITLISTED),
    ).annotate(remaining_places=Greatest(F("capacity") - F("confirmed_count"), Value(0)))


def _related(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "category", "organization", "team", "community", "service_point", "responsible"
    )


def activity_list(
    *,
    user,
    category=None,
    community=None,
    now: datetime.datetime | None = None,
) -> QuerySet:
    """Published activities still to come (or under way) that anyone signed in may join."""
    if not user.is_authenticated:
        return Activity.objects.none()
    queryset = Activity.objects.published().upcoming(now or timezone.now())
    if category:
        queryset = queryset.filter(category=category)
    if community:
        queryset = queryset.filter(community=community)
    return with_places(_related(queryset)).order_by("starts_at", "pk")


def activity_queryset(*, user) -> QuerySet:
    """Every activity the user may open: the published directory plus what they organise or
    signed up for, with the places annotated."""
    return with_places(_related(Activity.objects.open_to(user)))


def activity_manage_list(*, user) -> QuerySet:
    """Activities the user organises (drafts included)."""
    return with_places(_related(Activity.objects.manageable_by(user)))


def my_signups(*, user) -> QuerySet:
    """The user's sign-ups, the latest activity first."""
    if not user.is_authenticated:
        return Signup.objects.none()
    return (
        Signup.objects.filter(volunteer=user)
        .select_related(
            "activity",
            "activity__category",
            "activity__community",
            "activity__team",
            "activity__organization",
        )
        .order_by("-activity__starts_at", "-pk")
    )


def signup_list(*, user) -> QuerySet:
    return Signup.objects.visible_to(user).select_related("activity", "volunteer", "marked_by")


def activity_roster(*, activity: Activity) -> QuerySet:
    """Who holds or waits for a place: the confirmed first, then the waiting list in order."""
    return (
        Signup.objects.filter(activity=activity)
        .exclude(status=SignupStatus.CANCELLED)
        .select_related("volunteer", "marked_by")
        .order_by(
            Case(When(status=SignupStatus.CONFIRMED, then=Value(0)), default=Value(1)),
            "created_at",
            "pk",
        )
    )


def campaign_list(*, user) -> QuerySet:
    return (
        Campaign.objects.visible_to(user)
        .select_related("organization", "category")
        .annotate(activity_count=Count("activities", distinct=True))
    )


def plan_list(*, user) -> QuerySet:
    return (
        ActivityPlan.objects.visible_to(user)
        .select_related("organization")
        .annotate(item_count=Count("items", distinct=True))
    )


@dataclass(frozen=True)
class PlanLine:
    item: ActivityPlanItem
    planned: int
    actual: int

    @property
    def done(self) -> bool:
        return self.actual >= self.planned


@dataclass(frozen=True)
class PlanAgainstActual:
    plan: ActivityPlan
    lines: list[PlanLine]
    unplanned: list[Activity]

    @property
    def planned_total(self) -> int:
        return sum(line.planned for line in self.lines)

    @property
    def actual_total(self) -> int:
        return sum(line.actual for line in self.lines)


def plan_against_actual(*, plan: ActivityPlan) -> PlanAgainstActual:
    """Per item: times planned against activities linked to it that were not cancelled; and
    the organisation's activities that year not linked to any item (three queries)."""
    items = (
        plan.items.select_related("category")
        .annotate(
            actual=Count("activities", filter=~Q(activities__status=ActivityStatus.CANCELLED))
        )
        .order_by("month", "pk")
    )
    lines = [PlanLine(item=item, planned=item.planned_count, actual=item.actual) for item in items]
    unplanned = list(
        Activity.objects.filter(organization_id=plan.organization_id, plan_item__isnull=True)
        .in_year(plan.year)
        .exclude(status=ActivityStatus.CANCELLED)
        .select_related("team")
        .order_by("starts_at", "pk")
    )
    return PlanAgainstActual(plan=plan, lines=lines, unplanned=unplanned)
