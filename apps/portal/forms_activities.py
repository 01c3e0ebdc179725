"""Forms for the portal's activity pages. They parse input; the rules live in
``apps.activities.services``, whose refusals the views turn into form errors."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory
from apps.communities.models import Community, ServicePoint
from apps.organizations.models import PartyOrganization
from apps.teams.models import Team

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_input():
    return forms.DateTimeInput({"type": "datetime-local"}, format=DATETIME_FORMAT)


def organiser_teams(user):
    """Teams the user may organise activities for: led by them or in their organisations."""
    return (
        Team.objects.manageable_by(user)
        .filter(is_active=True)
        .select_related("organization")
        .order_by("name")
    )


def organiser_organizations(user):
    return PartyOrganization.objects.manageable_by(user).order_by("path")


class ActivityEditForm(forms.Form):
    """The fields that stay editable once an activity exists."""

    title = forms.CharField(label=_("Title"), max_length=128)
    category = forms.ModelChoiceField(
        label=_("Service category"), queryset=ServiceCategory.objects.filter(is_active=True)
    )
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=_datetime_input())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=_datetime_input())
    place = forms.CharField(label=_("Place"), max_length=255)
    community = forms.ModelChoiceField(
        label=_("Community"),
        required=False,
        queryset=Community.objects.directory().order_by("name"),
    )
    service_point = forms.ModelChoiceField(
        label=_("Service point"),
        required=False,
        queryset=ServicePoint.objects.filter(is_active=True).select_related("community"),
    )
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=10000)
    description = forms.CharField(
        label=_("What volunteers will do"), max_length=4000, widget=forms.Textarea({"rows": 4})
    )
    risks = forms.CharField(
        label=_("Risks"),
        required=False,
        max_length=2000,
        help_text=_("What volunteers should know before signing up."),
        widget=forms.Textarea({"rows": 3}),
    )
    training_required = forms.BooleanField(
        label=_("Training required"),
        required=False,
        help_text=_("Only volunteers with a training record may sign up."),
    )

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must be after the start."))
        point, community = data.get("service_point"), data.get("community")
        if point and community and point.community_id != community.pk:
            self.add_error("service_point", _("The service point is not in this community."))
        return data


class ActivityCreateForm(ActivityEditForm):
    """A new activity, for a team the user leads or an organisation (or community) they run."""

    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.none())
    organization = forms.ModelChoiceField(
        label=_("Organising unit"),
        required=False,
        queryset=PartyOrganization.objects.none(),
        help_text=_("Leave empty to organise it as the team's party organisation."),
    )

    field_order = ["team", "organization", "title", "category", "starts_at", "ends_at"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organiser_teams(user)
        self.fields["organization"].queryset = organiser_organizations(user)

    def clean(self):
        data = super().clean()
        if data.get("team") is None and data.get("organization") is None:
            if "team" not in self.errors and "organization" not in self.errors:
                raise ValidationError(
                    _("Choose a team you lead or an organising unit."), code="no_organiser"
                )
        elif data.get("team") is not None:
            # The team's party organisation organises (the services insist on it too).
            data["organization"] = data["team"].organization
        return data


class SignupForm(forms.Form):
    """Art. 12: the volunteer confirms having read what the activity involves and its risks."""

    risks_read = forms.BooleanField(
        label=_("I have read what this activity involves and its risks."), required=False
    )

    def __init__(self, *args, activity, **kwargs):
        super().__init__(*args, **kwargs)
        self.activity = activity

    def clean(self):
        data = super().clean()
        if self.activity.risks.strip() and not data.get("risks_read"):
            raise ValidationError(
                _("Please confirm that you have read the risks before signing up."),
                code="risks_not_read",
            )
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"), max_length=500, widget=forms.Textarea({"rows": 2})
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("This field is required."), code="required")
        return reason


class RepeatForm(forms.Form):
    until = forms.DateField(
        label=_("Repeat weekly until"), widget=forms.DateInput({"type": "date"})
    )


class AttendanceForm(forms.Form):
    """The leader marks attendance for someone without a phone, or records a no-show."""

    ATTEND = "attend"
    NO_SHOW = "no_show"

    action = forms.ChoiceField(
        label=_("Attendance"),
        choices=[(ATTEND, _("Attended")), (NO_SHOW, _("Did not come"))],
    )
    checked_in_at = forms.DateTimeField(
        label=_("Arrived at"), required=False, widget=_datetime_input()
    )
    checked_out_at = forms.DateTimeField(
        label=_("Left at"), required=False, widget=_datetime_input()
    )

    def clean(self):
        data = super().clean()
        if data.get("action") != self.ATTEND:
            return data
        checked_in_at, checked_out_at = data.get("checked_in_at"), data.get("checked_out_at")
        if checked_in_at is None and "checked_in_at" not in self.errors:
            self.add_error("checked_in_at", _("Enter when the volunteer arrived."))
        if checked_out_at is None and "checked_out_at" not in self.errors:
            self.add_error("checked_out_at", _("Enter when the volunteer left."))
        if checked_in_at and checked_out_at and checked_out_at <= checked_in_at:
            self.add_error("checked_out_at", _("Check-out must come after check-in."))
        return data
