"""Volunteer pages: registration, own profile and its changes, training, the review queue."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import (
    ProfileChangeRequestForm,
    ReviewDecisionForm,
    VolunteerNonVerifiedFieldsForm,
    VolunteerRegistrationForm,
)
from apps.accounts.models import ProfileChangeRequest, VolunteerProfile, VolunteerStatus
from apps.communities.models import Community, CommunityStaff
from apps.core.scoping import get_object_for_user, get_user_scope
from apps.organizations.models import Membership


def _communities():
    return Community.objects.directory().order_by("district", "street", "name")


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_http_methods(["GET", "POST"])
def register(request):
    if selectors.volunteer_profile_of(user=request.user) is not None:
        return redirect("portal:volunteer-profile")
    user = request.user
    form = VolunteerRegistrationForm(
        request.POST or None,
        communities=_communities(),
        initial={"real_name": user.real_name, "gender": user.gender},
    )
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.volunteer_register(user=user, **form.service_kwargs())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request,
                _("Thank you for registering. Your volunteer number is %(number)s.")
                % {"number": profile.volunteer_number},
            )
            return redirect("portal:volunteer-profile")
    return render(request, "portal/volunteers/register.html", {"form": form, "parts": form.parts()})


@require_GET
def profile(request):
    volunteer_profile = selectors.volunteer_profile_of(user=request.user)
    pending_change = None
    training = []
    if volunteer_profile is not None:
        pending_change = volunteer_profile.change_requests.filter(status="pending").first()
        training = selectors.training_record_list(user=request.user, mine=True)
    return render(
        request,
        "portal/volunteers/profile.html",
        {
            "profile": volunteer_profile,
            "pending_change": pending_change,
            "training_records": training,
            "statuses": VolunteerStatus,
            # A party member's volunteer profile shows the membership it belongs with.
            "membership": Membership.objects.active()
            .filter(user=request.user)
            .select_related("organization")
            .first(),
        },
    )


@require_POST
def withdraw(request):
    """The volunteer leaves the programme; their records and number stay on file."""
    try:
        services.volunteer_withdraw(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("You have withdrawn from the volunteer programme."))
    return redirect("portal:volunteer-profile")


def _editable_profile(request):
    volunteer_profile = selectors.volunteer_profile_of(user=request.user)
    if volunteer_profile is None or volunteer_profile.status in (
        VolunteerStatus.WITHDRAWN,
        VolunteerStatus.REJECTED,
    ):
        return None
    return volunteer_profile


@require_http_methods(["GET", "POST"])
def profile_edit(request):
    volunteer_profile = _editable_profile(request)
    if volunteer_profile is None:
        return redirect("portal:volunteer-register")
    initial = {
        "residence_area": volunteer_profile.residence_area,
        "residence_community": volunteer_profile.residence_community_id,
        "skills": volunteer_profile.skills,
        "service_category_ids": list(volunteer_profile.service_categories.all()),
        "available_times": volunteer_profile.available_times,
    }
    form = VolunteerNonVerifiedFieldsForm(
        request.POST or None, communities=_communities(), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.volunteer_profile_update(user=request.user, **form.service_kwargs())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your volunteer profile has been saved."))
            return redirect("portal:volunteer-profile")
    return render(request, "portal/volunteers/profile_edit.html", {"form": form})


@require_http_methods(["GET", "POST"])
def change_request(request):
    volunteer_profile = _editable_profile(request)
    if volunteer_profile is None:
        return redirect("portal:volunteer-register")
    user = request.user
    form = ProfileChangeRequestForm(
        request.POST or None,
        initial={
            "real_name": user.real_name,
            "gender": user.gender,
            "birth_date": volunteer_profile.birth_date,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_change_request_submit(user=user, changes=form.changes())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your change has been sent for review."))
            return redirect("portal:volunteer-profile")
    return render(
        request,
        "portal/volunteers/change_request.html",
        {"form": form, "id_number_masked": user.id_number_masked},
    )


@require_GET
def training(request):
    records = selectors.training_record_list(user=request.user, mine=True)
    return render(request, "portal/volunteers/training.html", {"training_records": records})


def _require_reviewer(user) -> None:
    """The queue is for people who decide on registrations: organisation managers and staff."""
    if get_user_scope(user).can_manage_any:
        return
    if not CommunityStaff.objects.active().filter(user=user).exists():
        raise PermissionDenied


@require_GET
def review_list(request):
    _require_reviewer(request.user)
    return render(
        request,
        "portal/volunteers/review_list.html",
        {
            "profiles": selectors.volunteer_review_queue(user=request.user),
            "change_requests": selectors.profile_change_request_queue(user=request.user),
        },
    )


REVIEW_ACTIONS = {"approve", "reject", "approve_change", "reject_change"}


@require_http_methods(["GET", "POST"])
def review_detail(request, pk):
    posting = request.method == "POST"
    volunteer_profile = get_object_for_user(
        VolunteerProfile.objects.select_related("user", "residence_community"),
        request.user,
        change=posting,
        pk=pk,
    )
    pending_change = (
        ProfileChangeRequest.objects.pending().filter(profile=volunteer_profile).first()
    )
    form = ReviewDecisionForm(request.POST or None)
    if posting and form.is_valid():
        action = request.POST.get("action")
        reason = form.cleaned_data["reason"]
        try:
            if action == "approve":
                services.volunteer_approve(actor=request.user, profile=volunteer_profile)
            elif action == "reject":
                services.volunteer_reject(
                    actor=request.user, profile=volunteer_profile, reason=reason
                )
            elif action in ("approve_change", "reject_change") and pending_change is not None:
                if action == "approve_change":
                    services.profile_change_request_approve(
                        actor=request.user, request=pending_change, reason=reason
                    )
                else:
                    services.profile_change_request_reject(
                        actor=request.user, request=pending_change, reason=reason
                    )
            else:
                raise ValidationError(_("Choose what to do."), code="invalid_action")
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your decision has been saved."))
            return redirect(reverse("portal:volunteer-review-list"))
    can_review = get_user_scope(request.user).is_city_admin or (
        VolunteerProfile.objects.manageable_by(request.user)
        .filter(pk=volunteer_profile.pk)
        .exists()
    )
    requested = {}
    if pending_change is not None:
        requested = {
            key: value for key, value in pending_change.changes.items() if key != "id_number"
        }
    status = 400 if posting else 200
    return render(
        request,
        "portal/volunteers/review_detail.html",
        {
            "profile": volunteer_profile,
            "pending_change": pending_change,
            "requested": requested,
            "form": form,
            "can_review": can_review,
            "statuses": VolunteerStatus,
        },
        status=status,
    )
