from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .validators import normalize_phone, validate_phone


class LoginForm(AllauthLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["login"]
        field.label = _("Mobile number or username")
        field.widget.attrs.update(
            {"placeholder": _("Mobile number or username"), "autocomplete": "username"}
        )


class VolunteerSignupForm(forms.Form):
    """Extra fields on allauth's sign-up form: who the volunteer is and how to reach them."""

    real_name = forms.CharField(label=_("Real name"), max_length=64)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    field_order = ["real_name", "phone", "username", "email", "password1", "password2"]

    def clean_real_name(self):
        return self.cleaned_data["real_name"].strip()

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_phone(phone)
        if get_user_model()._default_manager.filter(phone=phone).exists():
            raise forms.ValidationError(
                _("This mobile number is already registered."), code="phone_taken"
            )
        return phone

    def signup(self, request, user):
        user.real_name = self.cleaned_data["real_name"]
        user.phone = self.cleaned_data["phone"]
        user.save(update_fields=["real_name", "phone"])
