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


class ServiceCategoryChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


def _category_field():
    from .models import ServiceCategory

    return ServiceCategoryChoiceField(
        label=_("Service categories"),
        queryset=ServiceCategory.objects.filter(is_active=True),
        required=False,
    )


def _available_times_field():
    from .models import AvailableTime

    return forms.MultipleChoiceField(
        label=_("Available time"),
        choices=AvailableTime.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class VolunteerNonVerifiedFieldsForm(forms.Form):
    """The fields a volunteer changes directly (nobody verifies them)."""

    residence_area = forms.CharField(
        label=_("Residence area"),
        max_length=128,
        help_text=_("District and street or town."),
    )
    residence_community = forms.ModelChoiceField(
        label=_("Residence community"),
        queryset=None,
        required=False,
        empty_label=_("Not in the list / not sure"),
    )
    skills = forms.CharField(
        label=_("Skills"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example first aid, law, medicine, teaching, photography."),
    )

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["residence_community"].queryset = communities
        self.fields["service_category_ids"] = _category_field()
        self.fields["available_times"] = _available_times_field()

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["service_category_ids"] = [c.pk for c in data.pop("service_category_ids", [])]
        return data


class VolunteerRegistrationForm(VolunteerNonVerifiedFieldsForm):
    """Everything MCA Order 67 Art. 5 asks of a volunteer; the phone is on the account already."""

    real_name = forms.CharField(label=_("Real name"), max_length=64)
    gender = forms.ChoiceField(label=_("Gender"), choices=())
    birth_date = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Resident identity card number (18 characters). Stored encrypted."),
    )
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=64, required=False)
    guardian_relation = forms.CharField(
        label=_("Relation to the guardian"), max_length=32, required=False
    )
    guardian_phone = forms.CharField(
        label=_("Guardian's mobile phone"), max_length=20, required=False
    )
    guardian_consent = forms.BooleanField(
        label=_("The guardian agrees to the volunteer's registration and service."),
        required=False,
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the platform stores the data above to record my volunteer service, "
            "training and awards, and shows it to the party organisation and community that "
            "review my registration. It is not passed on to others without my consent."
        ),
        required=False,
    )

    field_order = [
        "real_name",
        "gender",
        "birth_date",
        "id_number",
        "residence_area",
        "residence_community",
        "skills",
        "service_category_ids",
        "available_times",
        "guardian_name",
        "guardian_relation",
        "guardian_phone",
        "guardian_consent",
        "consent",
    ]

    GUARDIAN_FIELDS = ("guardian_name", "guardian_relation", "guardian_phone", "guardian_consent")

    def __init__(self, *args, **kwargs):
        from .choices import Gender

        super().__init__(*args, **kwargs)
        self.fields["gender"].choices = [("", "—"), *Gender.choices]
        self.order_fields(self.field_order)

    def parts(self):
        """The form in two parts for the page: the volunteer's fields, then the guardian's."""
        from types import SimpleNamespace

        fields = self.visible_fields()
        main = [f for f in fields if f.name not in self.GUARDIAN_FIELDS and f.name != "consent"]
        guardian = [f for f in fields if f.name in self.GUARDIAN_FIELDS]
        return SimpleNamespace(
            main=SimpleNamespace(
                non_field_errors=self.non_field_errors(), hidden_fields=[], visible_fields=main
            ),
            guardian=SimpleNamespace(
                non_field_errors=[], hidden_fields=[], visible_fields=guardian
            ),
            consent=SimpleNamespace(
                non_field_errors=[], hidden_fields=[], visible_fields=[self["consent"]]
            ),
        )


class ProfileChangeRequestForm(forms.Form):
    """Verified identity fields: a change is reviewed before it applies."""

    real_name = forms.CharField(label=_("Real name"), max_length=64)
    gender = forms.ChoiceField(label=_("Gender"), choices=())
    birth_date = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    id_number = forms.CharField(
        label=_("New ID number"),
        max_length=18,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the number on file."),
    )

    def __init__(self, *args, **kwargs):
        from .choices import Gender

        super().__init__(*args, **kwargs)
        self.fields["gender"].choices = Gender.choices

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("id_number"):
            data.pop("id_number", None)
        return data


class ReviewDecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=255,
        help_text=_("Needed when rejecting."),
    )
