"""The yearly roll-up on the dashboard: city staff start it and watch its progress; everyone
with an organisation role reads the results of their part of the tree."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.awards.rollup import rollup_start
from apps.awards.selectors import (
    assessment_year_list,
    can_run_rollup,
    organization_summary_list,
)

from .views import _require_staff

PAGE_SIZE = 50


class RollupForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000)


def _index(request, form, status=200):
    return render(
        request,
        "dashboard/rollup/index.html",
        {
            "years": assessment_year_list(user=request.user),
            "form": form,
            "can_run": can_run_rollup(user=request.user),
        },
        status=status,
    )


@require_GET
def rollup_index(request):
    _require_staff(request)
    return _index(request, RollupForm(initial={"year": timezone.localdate().year - 1}))


@require_POST
def rollup_start_view(request):
    _require_staff(request)
    if not can_run_rollup(user=request.user):
        raise PermissionDenied
    form = RollupForm(request.POST)
    if form.is_valid():
        try:
            assessment_year = rollup_start(actor=request.user, year=form.cleaned_data["year"])
        except ValidationError as error:
            form.add_error("year", error)
        else:
            return redirect("dashboard:rollup-detail", year=assessment_year.year)
    return _index(request, form, status=400)


def _year(request, year):
    _require_staff(request)
    return get_object_or_404(assessment_year_list(user=request.user), year=year)


@require_GET
def rollup_detail(request, year):
    assessment_year = _year(request, year)
    rows = organization_summary_list(user=request.user, year=assessment_year.year)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/rollup/detail.html",
        {"assessment_year": assessment_year, "page": page},
    )


@require_GET
def rollup_progress(request, year):
    """The progress fragment, polled by htmx while the run goes on."""
    assessment_year = _year(request, year)
    return render(
        request, "dashboard/rollup/fragments/progress.html", {"assessment_year": assessment_year}
    )
