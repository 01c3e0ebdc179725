"""Portal pages for households in difficulty (四清), their pairings and visits.

Volunteers see their own household and log visits; the community's staff (and the party
organisations above the community) keep the households, pair volunteers and watch visits.
Personal fields are masked unless the user is entitled and asks for them; each whole view
is logged by ``services.care_recipient_reveal``.
"""

import csv

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import VolunteerProfile, VolunteerStatus
from apps.care import selectors, services
from apps.care.models import CareCategory, CareRecipient, RecipientPairing, VisitKind
from apps.communities.models import Community, CommunityStaff
from apps.core.exporters import safe_cell
from apps.core.scoping import get_object_for_user, get_user_scope, user_can_manage

PAGE_SIZE = 50

FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "family_situation": gettext_lazy("Family situation"),
    "health": gettext_lazy("Health"),
    "address": gettext_lazy("Address"),
    "contact": gettext_lazy("Contact"),
    "correction_status": gettext_lazy("Community correction"),
}
FACT_LABELS = {
    "family_situation": gettext_lazy("Family situation"),
    "health": gettext_lazy("Health"),
    "address": gettext_lazy("Address"),
    "contact": gettext_lazy("Contact"),
}


def _manages_any_community(user) -> bool:
    return (
        get_user_scope(user).can_manage_any
        or CommunityStaff.objects.active().filter(user=user).exists()
    )


def _errors_to_messages(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _apply(form: forms.Form, call) -> bool:
    """Run a service for a valid form; its refusal becomes the form's errors."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return False
    return True


# Forms ---------------------------------------------------------------------------------------


def _date_field(label):
    return forms.DateField(label=label, required=False, widget=forms.DateInput({"type": "date"}))


class RecipientForm(forms.Form):
    """The household's facts; personal fields the user may not see whole are left out."""

    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"), queryset=Community.objects.none()
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=64)
    categories = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Categories"),
        queryset=CareCategory.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    family_situation = forms.CharField(
        label=gettext_lazy("Family situation"),
        required=False,
        widget=forms.Textarea({"rows": 2}),
    )
    family_verified_on = _date_field(gettext_lazy("Family situation verified on"))
    health = forms.CharField(
        label=gettext_lazy("Health"), required=False, widget=forms.Textarea({"rows": 2})
    )
    health_verified_on = _date_field(gettext_lazy("Health verified on"))
    address = forms.CharField(label=gettext_lazy("Address"), max_length=255, required=False)
    address_verified_on = _date_field(gettext_lazy("Address verified on"))
    contact = forms.CharField(label=gettext_lazy("Contact"), max_length=128, required=False)
    contact_verified_on = _date_field(gettext_lazy("Contact verified on"))
    correction_status = forms.CharField(
        label=gettext_lazy("Community correction"),
        required=False,
        help_text=gettext_lazy(
            "Only community and city staff see this. Leave empty if not applicable."
        ),
    )

    def __init__(self, *args, user, whole_fields, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.manageable_by(user).order_by("name")
        for field in CareRecipient.SENSITIVE_FIELDS:
            if field not in whole_fields:
                del self.fields[field]


class VisitForm(forms.Form):
    visited_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput({"type": "date"})
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=VisitKind.choices,
        initial=VisitKind.VISIT,
        widget=forms.RadioSelect,
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"), min_value=1, max_value=24 * 60, initial=30
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea({"rows": 2})
    )


class PairingCreateForm(forms.Form):
    volunteer_number = forms.CharField(
        label=gettext_lazy("Volunteer number"),
        max_length=16,
        help_text=gettext_lazy("Shown on the volunteer's profile page."),
    )
    visit_every_days = forms.IntegerField(
        label=gettext_lazy("Visit every (days)"), min_value=1, max_value=365, initial=30
    )


class PairingEndForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for ending"), max_length=255)


class HandoverForm(forms.Form):
    volunteer_number = forms.CharField(label=gettext_lazy("New volunteer's number"), max_length=16)
    reason = forms.CharField(label=gettext_lazy("Reason for the handover"), max_length=255)


class ListFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"), queryset=Community.objects.none(), required=False
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=CareCategory.objects.filter(is_active=True),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.visible_to(user).order_by("name")


def _volunteer_by_number(number: str, *, field: str):
    profile = (
        VolunteerProfile.objects.filter(volunteer_number=number.strip())
        .select_related("user")
        .first()
    )
    if profile is None or profile.status != VolunteerStatus.ACTIVE:
        raise ValidationError(
            {
                field: ValidationError(
                    _("No active volunteer has this number."), code="unknown_volunteer"
                )
            }
        )
    return profile.user


# Volunteers ----------------------------------------------------------------------------------


@require_GET
def my_household(request):
    pairing = selectors.recipient_pairing_current(user=request.user)
    context = {"pairing": pairing, "fields": [], "visits": [], "form": None}
    if pairing is not None:
        recipient = pairing.recipient
        whole = services.care_recipient_reveal(user=request.user, recipient=recipient, via="page")
        shown = selectors.care_recipient_present(recipient=recipient, whole_fields=whole)
        context.update(
            fields=[(FIELD_LABELS[f], v) for f, v in shown.items() if f in whole and f != "name"],
            name=shown["name"],
            visits=list(selectors.visit_list(user=request.user, pairing=pairing)[:20]),
            form=VisitForm(initial={"visited_on": timezone.localdate()}),
        )
    return render(request, "portal/care/my_household.html", context)


@require_http_methods(["GET", "POST"])
def visit_add(request, pk):
    pairing = get_object_for_user(
        RecipientPairing.objects.select_related("recipient"), request.user, pk=pk
    )
    own = pairing.volunteer_id == request.user.pk
    if not own and not user_can_manage(request.user, pairing):
        raise PermissionDenied
    form = VisitForm(request.POST or None, initial={"visited_on": timezone.localdate()})
    if request.method == "POST" and _apply(
        form,
        lambda data: services.visit_record(
            user=request.user,
            pairing=pairing,
            visited_on=data["visited_on"],
            duration_minutes=data["duration_minutes"],
            kind=data["kind"],
            notes=data["notes"],
        ),
    ):
        messages.success(request, _("The visit has been recorded."))
        if own:
            return redirect("portal:my-household")
        return redirect("portal:care-recipient-detail", pk=pairing.recipient_id)
    return render(request, "portal/care/visit_form.html", {"form": form, "pairing": pairing})


# Community staff -----------------------------------------------------------------------------


@require_GET
def care_recipient_list(request):
    filters = ListFilterForm(request.GET or None, user=request.user)
    community = category = None
    if filters.is_valid():
        community = filters.cleaned_data["community"]
        category = filters.cleaned_data["category"]
    recipients = selectors.care_recipient_list(
        user=request.user, community=community, category=category
    )
    page = Paginator(recipients, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"recipient": r, "fields": selectors.care_recipient_present(recipient=r)} for r in page]
    return render(
        request,
        "portal/care/recipient_list.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "can_add": _manages_any_community(request.user),
        },
    )


@require_GET
def care_recipient_detail(request, pk):
    recipient = get_object_for_user(
        CareRecipient.objects.select_related("community").prefetch_related("categories"),
        request.user,
        pk=pk,
    )
    whole = frozenset()
    if request.GET.get("reveal") == "1":
        whole = services.care_recipient_reveal(user=request.user, recipient=recipient, via="page")
    shown = selectors.care_recipient_present(recipient=recipient, whole_fields=whole)
    entitled = selectors.sensitive_fields_for(user=request.user, recipient=recipient)
    can_manage = user_can_manage(request.user, recipient)
    return render(
        request,
        "portal/care/recipient_detail.html",
        {
            "recipient": recipient,
            "name": shown["name"],
            "fields": [
                (FIELD_LABELS[f], shown[f], f in whole)
                for f in CareRecipient.SENSITIVE_FIELDS
                if f != "name" and (f != "correction_status" or f in entitled)
            ],
            "facts": [
                (fact, FACT_LABELS[fact], getattr(recipient, verified))
                for fact, verified in CareRecipient.FOUR_FACTS
            ],
            "revealed": bool(whole),
            "can_reveal": bool(entitled) and not whole,
            "can_manage": can_manage,
            "pairings": list(
                selectors.recipient_pairing_list(user=request.user, recipient=recipient)
            ),
            "pairing_form": PairingCreateForm(),
            "end_form": PairingEndForm(),
            "handover_form": HandoverForm(),
        },
    )


def _recipient_data(data, whole):
    values = {
        key: data[key]
        for key in (
            "family_verified_on",
            "health_verified_on",
            "address_verified_on",
            "contact_verified_on",
        )
    }
    values.update({f: data[f] for f in CareRecipient.SENSITIVE_FIELDS if f in whole})
    return values


@require_http_methods(["GET", "POST"])
def care_recipient_create(request):
    if not _manages_any_community(request.user):
        raise PermissionDenied
    scope = get_user_scope(request.user)
    may_see_correction = (
        scope.is_city_admin or CommunityStaff.objects.active().filter(user=request.user).exists()
    )
    whole = selectors.GENERAL_FIELDS | (
        selectors.STAFF_ONLY_FIELDS if may_see_correction else frozenset()
    )
    form = RecipientForm(request.POST or None, user=request.user, whole_fields=whole)
    created = []
    if request.method == "POST" and _apply(
        form,
        lambda data: created.append(
            services.care_recipient_create(
                actor=request.user,
                community=data["community"],
                categories=list(data["categories"]),
                **_recipient_data(data, whole),
            )
        ),
    ):
        messages.success(request, _("The household has been added."))
        return redirect("portal:care-recipient-detail", pk=created[0].pk)
    return render(request, "portal/care/recipient_form.html", {"form": form, "recipient": None})


@require_http_methods(["GET", "POST"])
def care_recipient_edit(request, pk):
    recipient = get_object_for_user(CareRecipient, request.user, change=True, pk=pk)
    whole = selectors.sensitive_fields_for(user=request.user, recipient=recipient)
    initial = {
        "community": recipient.community_id,
        "categories": list(recipient.categories.all()),
        **{f: getattr(recipient, f) for f in whole},
        **{verified: getattr(recipient, verified) for _f, verified in CareRecipient.FOUR_FACTS},
    }
    form = RecipientForm(
        request.POST or None, user=request.user, whole_fields=whole, initial=initial
    )
    if request.method == "GET" and whole:
        # The form carries the whole values: that is a whole view.
        services.care_recipient_reveal(user=request.user, recipient=recipient, via="page")
    if request.method == "POST" and _apply(
        form,
        lambda data: services.care_recipient_update(
            actor=request.user,
            recipient=recipient,
            community=data["community"],
            categories=list(data["categories"]),
            **_recipient_data(data, whole),
        ),
    ):
        messages.success(request, _("The household has been updated."))
        return redirect("portal:care-recipient-detail", pk=recipient.pk)
    return render(
        request, "portal/care/recipient_form.html", {"form": form, "recipient": recipient}
    )


@require_POST
def care_recipient_verify(request, pk):
    recipient = get_object_for_user(CareRecipient, request.user, change=True, pk=pk)
    try:
        services.care_recipient_verify_fact(
            actor=request.user, recipient=recipient, fact=request.POST.get("fact", "")
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("Marked as verified today."))
    return redirect("portal:care-recipient-detail", pk=recipient.pk)


@require_POST
def care_recipient_deactivate(request, pk):
    recipient = get_object_for_user(CareRecipient, request.user, change=True, pk=pk)
    try:
        services.care_recipient_deactivate(
            actor=request.user, recipient=recipient, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
        return redirect("portal:care-recipient-detail", pk=recipient.pk)
    messages.success(request, _("The household is no longer on the list."))
    return redirect("portal:care-recipient-list")


@require_POST
def care_pairing_create(request, pk):
    recipient = get_object_for_user(CareRecipient, request.user, change=True, pk=pk)
    form = PairingCreateForm(request.POST)
    if _apply(
        form,
        lambda data: services.recipient_pairing_create(
            actor=request.user,
            volunteer=_volunteer_by_number(data["volunteer_number"], field="volunteer_number"),
            recipient=recipient,
            visit_every_days=data["visit_every_days"],
        ),
    ):
        messages.success(request, _("The volunteer has been paired with the household."))
    else:
        messages.error(request, " ".join(_form_errors(form)))
    return redirect("portal:care-recipient-detail", pk=recipient.pk)


@require_POST
def care_pairing_end(request, pk):
    pairing = get_object_for_user(RecipientPairing, request.user, change=True, pk=pk)
    form = PairingEndForm(request.POST)
    if _apply(
        form,
        lambda data: services.recipient_pairing_end(
            actor=request.user, pairing=pairing, reason=data["reason"]
        ),
    ):
        messages.success(request, _("The pairing has ended."))
    else:
        messages.error(request, " ".join(_form_errors(form)))
    return redirect("portal:care-recipient-detail", pk=pairing.recipient_id)


@require_POST
def care_pairing_handover(request, pk):
    pairing = get_object_for_user(RecipientPairing, request.user, change=True, pk=pk)
    form = HandoverForm(request.POST)
    if _apply(
        form,
        lambda data: services.recipient_pairing_handover(
            actor=request.user,
            pairing=pairing,
            new_volunteer=_volunteer_by_number(data["volunteer_number"], field="volunteer_number"),
            reason=data["reason"],
        ),
    ):
        messages.success(request, _("The household has been handed over."))
    else:
        messages.error(request, " ".join(_form_errors(form)))
    return redirect("portal:care-recipient-detail", pk=pairing.recipient_id)


def _form_errors(form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


@require_GET
def care_overdue(request):
    pairings = selectors.pairing_overdue_list(user=request.user)
    page = Paginator(pairings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/care/overdue.html", {"page": page})


@require_GET
def care_recipient_export(request):
    """CSV of the households the user manages, with the fields the user may see whole."""
    if not _manages_any_community(request.user):
        raise PermissionDenied
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"care-recipients-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese text only with a BOM
    writer = csv.writer(response)
    facts = [verified for _fact, verified in CareRecipient.FOUR_FACTS]
    writer.writerow(
        [_("Community"), _("Categories"), _("Completeness")]
        + [str(FIELD_LABELS[f]) for f in CareRecipient.SENSITIVE_FIELDS]
        + [str(CareRecipient._meta.get_field(f).verbose_name) for f in facts]
    )
    ids, exported_fields = [], set()
    for recipient, whole in selectors.care_recipient_export_rows(user=request.user):
        shown = selectors.care_recipient_present(recipient=recipient, whole_fields=whole)
        ids.append(recipient.pk)
        exported_fields |= whole
        row = (
            [
                recipient.community.name,
                "、".join(c.name for c in recipient.categories.all()),
                recipient.completeness,
            ]
            + [shown[f] for f in CareRecipient.SENSITIVE_FIELDS]
            + [getattr(recipient, f) or "" for f in facts]
        )
        writer.writerow([safe_cell(value) for value in row])
    services.care_sensitive_export_log(
        user=request.user, recipient_ids=ids, fields=sorted(exported_fields), fmt="csv"
    )
    return response
