"""Reads of points: a volunteer's statement (积分明细), breakdown and total; scoped lists."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from .models import PointsEntry, PointsRule, RuleKind, cents


def points_statement(*, user, year: int):
    """Every entry of the user's year, newest first, with its reason, source and rule."""
    return (
        PointsEntry.objects.filter(volunteer=user)
        .in_year(year)
        .select_related("rule", "activity")
        .order_by("-counted_on", "-id")
    )


def points_breakdown(*, user, year: int) -> list[dict]:
    """Net points by kind (reversals included), in the order of the kinds; kinds with no
    entries are left out."""
    sums = dict(
        PointsEntry.objects.filter(volunteer=user)
        .in_year(year)
        .values_list("kind")
        .annotate(total=Sum("points"))
        .values_list("kind", "total")
    )
    return [
        {"kind": kind.value, "label": kind.label, "points": cents(sums[kind.value])}
        for kind in RuleKind
        if kind.value in sums
    ]


def points_total(*, user, year: int) -> Decimal:
    total = (
        PointsEntry.objects.filter(volunteer=user).in_year(year).aggregate(total=Sum("points"))
    )["total"]
    return cents(total)


def points_entry_list(*, user, year: int | None = None, kind: str | None = None, mine=False):
    """Entries the user may see (their own with ``mine``), for the API and exports."""
    entries = PointsEntry.objects.visible_to(user)
    if mine:
        entries = entries.filter(volunteer=user)
    if year:
        entries = entries.in_year(year)
    if kind:
        entries = entries.filter(kind=kind)
    return entries.select_related("volunteer", "rule").order_by("-counted_on", "-id")


def points_rule_list(*, user, day=None):
    rules = PointsRule.objects.visible_to(user).select_related("category")
    if day is not None:
        rules = rules.in_effect(day)
    return rules
