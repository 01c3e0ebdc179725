"""The objection form of the public publicity page: it parses, the service checks."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    contact = forms.CharField(
        label=_("Contact (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "tel"}),
    )
