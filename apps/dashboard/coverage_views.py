"""The coverage board (无死角), its drill-down lists of names and its Excel export."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.care.coverage import INDICATORS as CARE_INDICATORS
from apps.care.coverage import care_coverage, care_drilldown, mask_households
from apps.communities.coverage import (
    INDICATORS,
    coverage_board,
    coverage_default_organization,
    coverage_drilldown,
    coverage_organizations,
)
from apps.core.scoping import get_object_for_user
from apps.core.services import audit_log

from .coverage_export import XLSX_CONTENT_TYPE, coverage_filename, coverage_workbook
from .forms import CoverageYearForm
from .views import _require_staff

DRILLDOWN_PAGE_SIZE = 50


def _drilldown_rows(request, organization, indicator, year):
    """The missing rows of any indicator on the board, of either section."""
    if indicator in CARE_INDICATORS:
        return care_drilldown(user=request.user, organization=organization, indicator=indicator)
    return coverage_drilldown(
        user=request.user, organization=organization, indicator=indicator, year=year
    )


def _organization(request, pk):
    """The organisation asked for (404 outside the user's reach) or the user's outermost one."""
    if pk in (None, ""):
        organization = coverage_default_organization(user=request.user)
        if organization is None:
            raise PermissionDenied
        return organization
    return get_object_for_user(coverage_organizations(user=request.user), request.user, pk=pk)


def _year_form(request):
    return CoverageYearForm({"year": request.GET.get("year") or timezone.localdate().year})


def _picker(request, organization):
    """The organisation picker: the upper levels and the current organisation's children."""
    return (
        coverage_organizations(user=request.user)
        .filter(Q(depth__lte=3) | Q(parent=organization) | Q(pk=organization.pk))
        .order_by("path")
        .only("pk", "name", "depth", "path")
    )


def _bad_year(request, form, organization):
    return render(
        request,
        "dashboard/coverage/board.html",
        {
            "form": form,
            "organization": organization,
            "organizations": _picker(request, organization),
            "board": None,
            "care": None,
            "year": None,
        },
        status=400,
    )


@require_GET
def coverage(request):
    _require_staff(request)
    organization = _organization(request, request.GET.get("organization"))
    form = _year_form(request)
    if not form.is_valid():
        return _bad_year(request, form, organization)
    year = form.cleaned_data["year"]
    board = coverage_board(user=request.user, organization=organization, year=year)
    care = care_coverage(user=request.user, organization=organization)
    return render(
        request,
        "dashboard/coverage/board.html",
        {
            "form": form,
            "organization": organization,
            "organizations": _picker(request, organization),
            "board": board,
            "care": care,
            "year": year,
        },
    )


@require_GET
def coverage_drilldown_view(request, pk, indicator):
    _require_staff(request)
    spec = INDICATORS.get(indicator) or CARE_INDICATORS.get(indicator)
    if spec is None:
        raise Http404
    organization = _organization(request, pk)
    form = _year_form(request)
    if not form.is_valid():
        return _bad_year(request, form, organization)
    year = form.cleaned_data["year"]
    rows = _drilldown_rows(request, organization, indicator, year)
    page = Paginator(rows, DRILLDOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    if spec.row_kind == "pairing":
        page.object_list = mask_households(page.object_list)
    return render(
        request,
        "dashboard/coverage/drilldown.html",
        {"spec": spec, "organization": organization, "year": year, "page": page},
    )


@require_GET
def coverage_export(request, pk):
    _require_staff(request)
    organization = _organization(request, pk)
    form = _year_form(request)
    if not form.is_valid():
        return _bad_year(request, form, organization)
    year = form.cleaned_data["year"]
    board = coverage_board(user=request.user, organization=organization, year=year)
    care = care_coverage(user=request.user, organization=organization)
    rows = {
        key: _drilldown_rows(request, organization, key, year).iterator(chunk_size=2000)
        for key in [*INDICATORS, *CARE_INDICATORS]
    }
    content = coverage_workbook(board=board, rows=rows, care=care)
    with transaction.atomic():
        # The workbook lists people's names and phone numbers: who took it is on record.
        # Households appear masked only, so this is not a view of their sensitive fields.
        audit_log(
            actor=request.user,
            action="coverage.export",
            target=organization,
            details={"year": year},
        )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{coverage_filename(board=board)}"'
    return response
