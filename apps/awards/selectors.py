"""Reads of the roll-up: scoped lists of summaries and the state of a year's run."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.scoping import get_user_scope

from .models import (
    AssessmentYear,
    OrganizationYearSummary,
    TeamYearSummary,
    VolunteerYearSummary,
)


def assessment_year_list(*, user) -> QuerySet[AssessmentYear]:
    return AssessmentYear.objects.visible_to(user).select_related("run_by", "closed_by")


def volunteer_summary_list(
    *, user, year: int | None = None, organization_id: int | None = None, mine: bool = False
) -> QuerySet[VolunteerYearSummary]:
    """A branch's secretary sees their subtree's members; a volunteer their own rows."""
    rows = VolunteerYearSummary.objects.visible_to(user)
    if mine:
        rows = rows.filter(volunteer=user)
    if year:
        rows = rows.in_year(year)
    if organization_id:
        rows = rows.filter(organization_id=organization_id)
    return rows.select_related("assessment_year", "volunteer", "organization").order_by(
        "-assessment_year__year", "organization__path", "rank_in_organization", "volunteer_id"
    )


def my_year_summary(*, user, year: int) -> VolunteerYearSummary | None:
    return volunteer_summary_list(user=user, year=year, mine=True).first()


def team_summary_list(*, user, year: int | None = None) -> QuerySet[TeamYearSummary]:
    rows = TeamYearSummary.objects.visible_to(user)
    if year:
        rows = rows.in_year(year)
    return rows.select_related("assessment_year", "team__organization").order_by(
        "-assessment_year__year", "team__organization__path", "team__name", "team_id"
    )


def organization_summary_list(
    *, user, year: int | None = None, max_depth: int | None = None
) -> QuerySet[OrganizationYearSummary]:
    rows = OrganizationYearSummary.objects.visible_to(user)
    if year:
        rows = rows.in_year(year)
    if max_depth:
        rows = rows.filter(organization__depth__lte=max_depth)
    return rows.select_related("assessment_year", "organization").order_by(
        "-assessment_year__year", "organization__path"
    )


def can_run_rollup(*, user) -> bool:
    return get_user_scope(user).is_city_admin
