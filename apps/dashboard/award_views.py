"""The awards workflow on the dashboard (评选表彰): the years and categories with their counts, a
category's candidates and quota for an organisation, nominating, the publicity period, objections
and the decision. Every rule is the services' (``apps.awards.nominations``); these views parse
input, call them and show their messages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import User
from apps.awards import nominations as services
from apps.awards.award_selectors import can_decide_awards, nomination_list
from apps.awards.eligibility import candidate_list, quota_uses
from apps.awards.models import (
    AwardCategory,
    Nomination,
    NominationStatus,
    Objection,
    ObjectionStatus,
    RunStatus,
)
from apps.awards.selectors import assessment_year_list
from apps.core.scoping import get_object_for_user, get_user_scope, user_can_manage
from apps.organizations.models import PartyOrganization
from apps.teams.models import Team

from .forms_awards import (
    DecideForm,
    NominationForm,
    ObjectionResolveForm,
    PublicityStartForm,
    WithdrawForm,
)
from .views import _require_staff

CANDIDATES_PER_PAGE = 50
NOMINATIONS_PER_PAGE = 50
#: The organisation select: the user's top organisations and two levels below, at most this many.
SELECT_DEPTH = 2
SELECT_SIZE = 300


def _require_manager(request):
    """Inspectors and others who only look get 403 on every change."""
    if not get_user_scope(request.user).can_manage_any:
        raise PermissionDenied


def _require_decider(request):
    if not can_decide_awards(user=request.user):
        raise PermissionDenied


def _refused(form, error: ValidationError) -> None:
    form.add_error(None, error.messages)


@require_GET
def award_index(request):
    _require_staff(request)
    years = list(
        assessment_year_list(user=request.user).filter(run_status=RunStatus.DONE).order_by("-year")
    )
    categories = list(AwardCategory.objects.active())
    counts = {
        (row["assessment_year__year"], row["category_id"]): row
        for row in nomination_list(user=request.user)
        .order_by()
        .values("assessment_year__year", "category_id")
        .annotate(
            nominated=Count("pk", filter=Q(status=NominationStatus.NOMINATED)),
            publicity=Count("pk", filter=Q(status=NominationStatus.PUBLICITY)),
            awarded=Count("pk", filter=Q(status=NominationStatus.AWARDED)),
        )
    }
    empty = {"nominated": 0, "publicity": 0, "awarded": 0}
    table = [
        (
            assessment_year,
            [
                (category, counts.get((assessment_year.year, category.pk), empty))
                for category in categories
            ],
        )
        for assessment_year in years
    ]
    return render(request, "dashboard/awards/index.html", {"table": table})


def _year_and_category(request, year, category_pk):
    _require_staff(request)
    assessment_year = get_object_or_404(assessment_year_list(user=request.user), year=year)
    category = get_object_or_404(AwardCategory.objects.visible_to(request.user), pk=category_pk)
    return assessment_year, category


def _organization(request, value):
    """The organisation asked for (``?organization=``), else the user's highest one."""
    visible = PartyOrganization.objects.visible_to(request.user)
    if value in (None, ""):
        organization = visible.order_by("depth", "path").first()
        if organization is None:
            raise Http404
        return organization
    try:
        return visible.get(pk=int(value))
    except (PartyOrganization.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def _organization_choices(request, organization):
    visible = PartyOrganization.objects.visible_to(request.user)
    top = visible.order_by("depth").values_list("depth", flat=True).first() or 1
    choices = list(
        visible.filter(depth__lte=top + SELECT_DEPTH).only("pk", "name", "depth", "path")[
            :SELECT_SIZE
        ]
    )
    if organization not in choices:
        choices.append(organization)
    return choices


def _candidate_key(volunteer, team) -> str:
    return f"v{volunteer.pk}" if volunteer else f"t{team.pk}"


def _drafts(form) -> dict:
    """The deeds of a refused nomination, to show again under its candidate."""
    if form is None:
        return {}
    volunteer, team = form.data.get("volunteer"), form.data.get("team")
    key = f"v{volunteer}" if volunteer else f"t{team}"
    return {key: form.data.get("deeds", "")}


def _category_page(
    request,
    assessment_year,
    category,
    organization,
    *,
    nomination_form=None,
    publicity_form=None,
    status=200,
):
    user = request.user
    candidates = candidate_list(
        user=user, assessment_year=assessment_year, category=category, organization=organization
    )
    nominations = (
        nomination_list(user=user, assessment_year=assessment_year, category=category)
        .filter(organization__path__startswith=organization.path)
        .order_by("organization__path", "id")
    )
    can_decide = can_decide_awards(user=user)
    drafts = _drafts(nomination_form)
    page = Paginator(candidates, CANDIDATES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "assessment_year": assessment_year,
        "category": category,
        "organization": organization,
        "organizations": _organization_choices(request, organization),
        "quotas": quota_uses(
            assessment_year=assessment_year, category=category, organization=organization
        ),
        "candidates": page,
        "candidate_rows": [
            (candidate, key, drafts.get(key))
            for candidate in page.object_list
            for key in [_candidate_key(candidate.volunteer, candidate.team)]
        ],
        "nominations": Paginator(nominations, NOMINATIONS_PER_PAGE).get_page(
            request.GET.get("npage")
        ),
        "can_nominate": user_can_manage(user, organization),
        "can_decide": can_decide,
        "nomination_form": nomination_form,
        "publicity_form": publicity_form or (PublicityStartForm() if can_decide else None),
    }
    return render(request, "dashboard/awards/category.html", context, status=status)


def _category_url(assessment_year, category, organization) -> str:
    url = reverse(
        "dashboard:award-category",
        kwargs={"year": assessment_year.year, "category_pk": category.pk},
    )
    return f"{url}?organization={organization.pk}"


@require_GET
def award_category(request, year, category_pk):
    assessment_year, category = _year_and_category(request, year, category_pk)
    organization = _organization(request, request.GET.get("organization"))
    return _category_page(request, assessment_year, category, organization)


@require_POST
def nomination_create(request, year, category_pk):
    assessment_year, category = _year_and_category(request, year, category_pk)
    _require_manager(request)
    organization = _organization(request, request.POST.get("organization"))
    form = NominationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        # The candidate must be someone the user sees: 404 otherwise, like any object.
        volunteer = data["volunteer"] and get_object_for_user(
            User, request.user, pk=data["volunteer"]
        )
        team = data["team"] and get_object_for_user(Team, request.user, pk=data["team"])
        try:
            nomination = services.nomination_create(
                actor=request.user,
                assessment_year=assessment_year,
                category=category,
                deeds=data["deeds"],
                volunteer=volunteer or None,
                team=team or None,
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(
                request,
                _("%(name)s has been nominated.") % {"name": nomination.candidate_name},
            )
            return redirect(_category_url(assessment_year, category, organization))
    return _category_page(
        request, assessment_year, category, organization, nomination_form=form, status=400
    )


@require_POST
def publicity_start(request, year, category_pk):
    assessment_year, category = _year_and_category(request, year, category_pk)
    _require_decider(request)
    organization = _organization(request, request.POST.get("organization"))
    form = PublicityStartForm(request.POST)
    if form.is_valid():
        try:
            count = services.publicity_start(
                actor=request.user,
                assessment_year=assessment_year,
                category=category,
                starts_on=form.cleaned_data["starts_on"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "The publicity period has started for %(count)s nomination.",
                    "The publicity period has started for %(count)s nominations.",
                    count,
                )
                % {"count": count},
            )
            return redirect(_category_url(assessment_year, category, organization))
    return _category_page(
        request, assessment_year, category, organization, publicity_form=form, status=400
    )


def _nomination(request, pk, *, change=False):
    _require_staff(request)
    queryset = Nomination.objects.select_related(
        "assessment_year", "category", "organization", "volunteer", "team", "nominated_by"
    )
    return get_object_for_user(queryset, request.user, change=change, pk=pk)


def _detail_page(request, nomination, *, forms=None, status=200):
    user = request.user
    can_decide = can_decide_awards(user=user)
    can_withdraw = nomination.status in (
        NominationStatus.NOMINATED,
        NominationStatus.PUBLICITY,
    ) and user_can_manage(user, nomination)
    forms = forms or {}
    objections = list(
        nomination.objections.select_related("submitted_by", "resolved_by").order_by(
            "created_at", "id"
        )
    )
    for objection in objections:
        objection.form = forms.get(("resolve", objection.pk)) or (
            ObjectionResolveForm(auto_id=f"id_o{objection.pk}_%s")
            if can_decide and objection.status == ObjectionStatus.OPEN
            else None
        )
    decide = nomination.status == NominationStatus.PUBLICITY and can_decide
    context = {
        "nomination": nomination,
        "objections": objections,
        "award": getattr(nomination, "award", None)
        if nomination.status == NominationStatus.AWARDED
        else None,
        "decide_form": forms.get("decide") or (DecideForm() if decide else None),
        "withdraw_form": forms.get("withdraw") or (WithdrawForm() if can_withdraw else None),
        "category_url": _category_url(
            nomination.assessment_year, nomination.category, nomination.organization
        ),
    }
    return render(request, "dashboard/awards/nomination_detail.html", context, status=status)


@require_GET
def nomination_detail(request, pk):
    return _detail_page(request, _nomination(request, pk))


@require_POST
def nomination_withdraw(request, pk):
    nomination = _nomination(request, pk, change=True)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.nomination_withdraw(
                actor=request.user, nomination=nomination, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, _("The nomination has been withdrawn."))
            return redirect("dashboard:nomination-detail", pk=nomination.pk)
    return _detail_page(request, nomination, forms={"withdraw": form}, status=400)


@require_POST
def nomination_decide(request, pk):
    nomination = _nomination(request, pk)
    _require_decider(request)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            nomination = services.nomination_decide(
                actor=request.user,
                nomination=nomination,
                awarded=form.cleaned_data["awarded"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, _("The decision has been recorded."))
            return redirect("dashboard:nomination-detail", pk=nomination.pk)
    return _detail_page(request, nomination, forms={"decide": form}, status=400)


@require_POST
def objection_resolve(request, pk):
    _require_staff(request)
    objection = get_object_for_user(
        Objection.objects.select_related("nomination"), request.user, pk=pk
    )
    _require_decider(request)
    form = ObjectionResolveForm(request.POST, auto_id=f"id_o{objection.pk}_%s")
    if form.is_valid():
        try:
            services.objection_resolve(
                actor=request.user,
                objection=objection,
                upheld=form.cleaned_data["upheld"],
                resolution=form.cleaned_data["resolution"],
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, _("The objection has been resolved."))
            return redirect("dashboard:nomination-detail", pk=objection.nomination_id)
    nomination = _nomination(request, objection.nomination_id)
    return _detail_page(request, nomination, forms={("resolve", objection.pk): form}, status=400)
