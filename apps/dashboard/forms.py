from django import forms

from apps.organizations.models import PartyOrganization


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = PartyOrganization
        fields = ["name", "short_name", "code", "kind", "contact_phone", "address", "is_active"]
