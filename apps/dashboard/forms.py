from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.organizations.models import PartyOrganization


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = PartyOrganization
        fields = ["name", "short_name", "code", "kind", "contact_phone", "address", "is_active"]


#: The coverage board's years: the platform's records start in 2000; next year's pledges may
#: already be made in December.
COVERAGE_FIRST_YEAR = 2000


class CoverageYearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), required=False)

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is None:
            return timezone.localdate().year
        last = timezone.localdate().year + 1
        if not COVERAGE_FIRST_YEAR <= year <= last:
            raise forms.ValidationError(
                _("Choose a year between %(first)d and %(last)d."),
                code="year_out_of_range",
                params={"first": COVERAGE_FIRST_YEAR, "last": last},
            )
        return year
