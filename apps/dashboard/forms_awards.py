"""Forms of the awards workflow pages. They only parse input: every rule (deeds required,
quota, eligibility, the publicity period, who may decide) is the services' to check."""

from django import forms
from django.utils.translation import gettext_lazy as _

YES_NO = [("1", _("Yes")), ("0", _("No"))]


def _yes(value) -> bool:
    return value == "1"


class NominationForm(forms.Form):
    volunteer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    team = forms.IntegerField(required=False, widget=forms.HiddenInput)
    deeds = forms.CharField(
        label=_("Main deeds"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class PublicityStartForm(forms.Form):
    starts_on = forms.DateField(
        label=_("Publicity from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today."),
    )
    days = forms.IntegerField(
        label=_("Days"), required=False, help_text=_("Empty: the category's publicity period.")
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class ObjectionResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Is the objection upheld?"),
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    resolution = forms.CharField(
        label=_("Finding"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class DecideForm(forms.Form):
    awarded = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Award")), ("0", _("Do not award"))],
        coerce=_yes,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text=_("Required when the award is not given."),
    )
