"""Democratic appraisal (民主评议党员) on the dashboard: a branch's managers grade its members
beside their year's service summary; those who only view an organisation (inspectors, the
committees above) read the grades."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.awards.appraisal import (
    appraisal_counts,
    appraisal_organizations,
    appraisal_save,
    appraisal_sheet,
    appraisal_year_is_open,
    appraisal_years,
    can_appraise,
    excellent_allowed,
)
from apps.awards.models import AppraisalGrade, AssessmentYear
from apps.core.scoping import get_object_for_user

from .views import _require_staff

PAGE_SIZE = 50
#: Years shown beside each organisation on the index: the most recent ones.
INDEX_YEARS = 5


@require_GET
def appraisal_index(request):
    _require_staff(request)
    years = list(appraisal_years(user=request.user).order_by("-year")[:INDEX_YEARS])
    page = Paginator(appraisal_organizations(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "dashboard/appraisal/index.html", {"years": years, "page": page})


def _sheet_objects(request, year, org_pk, *, change=False):
    _require_staff(request)
    assessment_year = get_object_or_404(AssessmentYear.objects.visible_to(request.user), year=year)
    organization = get_object_for_user(
        appraisal_organizations(user=request.user), request.user, change=change, pk=org_pk
    )
    return assessment_year, organization


def _render_sheet(request, assessment_year, organization, *, submitted=None, status=200):
    rows = appraisal_sheet(
        user=request.user, assessment_year=assessment_year, organization=organization
    )
    counts = appraisal_counts(rows)  # what is saved, not what was refused
    can_change = can_appraise(user=request.user, organization=organization)
    is_open = appraisal_year_is_open(assessment_year)
    if submitted and can_change and is_open:  # the form comes back as it was sent
        for row in rows:
            if row.member.pk in submitted:
                row.grade, row.note = submitted[row.member.pk]
    return render(
        request,
        "dashboard/appraisal/sheet.html",
        {
            "assessment_year": assessment_year,
            "organization": organization,
            "rows": rows,
            "counts": counts,
            "excellent_allowed": excellent_allowed(len(rows)),
            "grades": AppraisalGrade.choices,
            "can_change": can_change,
            "is_open": is_open,
        },
        status=status,
    )


@require_GET
def appraisal_detail(request, year, org_pk):
    assessment_year, organization = _sheet_objects(request, year, org_pk)
    return _render_sheet(request, assessment_year, organization)


def _posted_grades(post) -> dict[int, tuple[str, str]]:
    """``grade_<member id>`` and ``note_<member id>`` fields → {member id: (grade, note)}."""
    grades = {}
    for name, grade in post.items():
        if not name.startswith("grade_"):
            continue
        member = name.removeprefix("grade_")
        if not member.isdigit():
            raise ValidationError(
                _("“%(value)s” is not a member.") % {"value": member}, code="not_member"
            )
        grades[int(member)] = (grade.strip(), post.get(f"note_{member}", "").strip())
    return grades


@require_POST
def appraisal_save_view(request, year, org_pk):
    assessment_year, organization = _sheet_objects(request, year, org_pk, change=True)
    submitted = None
    try:
        submitted = _posted_grades(request.POST)
        changed = appraisal_save(
            actor=request.user,
            assessment_year=assessment_year,
            organization=organization,
            grades=submitted,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render_sheet(
            request, assessment_year, organization, submitted=submitted, status=400
        )
    messages.success(
        request,
        _("The appraisal has been saved (%(count)d members changed).") % {"count": changed},
    )
    return redirect("dashboard:appraisal", year=assessment_year.year, org_pk=organization.pk)
