"""A volunteer's points: every point with its reason and source (积分明细), by kind, and the
year's rank in their branch from the roll-up."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.awards.selectors import my_year_summary
from apps.points.selectors import points_breakdown, points_statement, points_total

ENTRIES_PER_PAGE = 50


def _year(request) -> int:
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except (TypeError, ValueError):
        return this_year
    return year if 2000 <= year <= this_year else this_year


@require_GET
def my_points(request):
    year = _year(request)
    user = request.user
    page = Paginator(points_statement(user=user, year=year), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/points/mine.html",
        {
            "year": year,
            "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1),
            "total": points_total(user=user, year=year),
            "breakdown": points_breakdown(user=user, year=year),
            "page": page,
            # The year's assessment (rank in the branch), once the roll-up has run for it.
            "summary": my_year_summary(user=user, year=year),
        },
    )
