"""Forms for the service-record pages: log service, enter for a team, review, rate.

The forms only parse input; the recording rules (overlap, daily cap, future, late entry) live
in ``apps.service_records.rules`` and come back from the services as field errors.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.categories import active_category
from apps.accounts.models import ServiceCategory, User
from apps.care.models import CareRecipient, RecipientPairing
from apps.core.forms import Form, IsoDateField, IsoTimeField, copy_field
from apps.core.prepared import key_only
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, TeamRole
from apps.teams.selectors import member_teams

#: Where the services' field names land on these forms.
SERVICE_FIELDS = {
    "started_at": "start_time",
    "ended_at": "end_time",
    "duration_minutes": "duration_hours",
    "evidence": "photos",
}


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input. The evidence service checks count, size and that each is
    an image, so the message is the same however a photo arrives."""

    widget = MultipleImageInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", "image/*")

    def clean(self, data, initial=None):
        return [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]


class _DeferredChoices(ModelChoiceIterator):
    """The field's choices, read from its queryset when listed, not when made."""

    def __init__(self, field):
        self.field = field

    @property
    def queryset(self):
        return self.field.queryset


class DeferredModelChoiceField(forms.ModelChoiceField):
    """A choice of rows whose queryset is built on first use, from ``queryset_factory``: a
    form posted without this field never builds it (building a queryset with subqueries costs
    about as much as running a small one)."""

    iterator = _DeferredChoices

    def __init__(self, queryset=None, *, queryset_factory=None, **kwargs):
        self.queryset_factory = queryset_factory
        super().__init__(queryset, **kwargs)

    def __deepcopy__(self, memo):
        # What ModelChoiceField's copy does, without building the queryset (or copying it
        # when it was never built) and without the generic copy (``core.forms``).
        result = copy_field(self, memo)
        if self._queryset is not None:
            result.queryset = self._queryset  # the setter lists the copy's rows
        else:
            result.widget.choices = result.choices  # the copy's rows, not the original's
        return result

    def _get_queryset(self):
        if self._queryset is None and self.queryset_factory is not None:
            self._queryset = self.queryset_factory().all()
        return self._queryset

    queryset = property(_get_queryset, forms.ModelChoiceField._set_queryset)


class LookupChoiceField(DeferredModelChoiceField):
    """A choice of rows listed from its queryset, but checked, when posted, with
    ``lookup(value)`` (the row, or None when it is not a valid choice): an answer kept in
    memory or in the shared cache, instead of a query on every submit. The lookup must admit
    exactly the queryset's rows."""

    def __init__(self, *args, lookup=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lookup = lookup

    def to_python(self, value):
        if value in self.empty_values:
            return None
        found = self.lookup(value) if self.lookup is not None else super().to_python(value)
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found


def _date_input():
    return forms.DateInput({"type": "date"}, format="%Y-%m-%d")


def _time_input():
    return forms.TimeInput({"type": "time"}, format="%H:%M")


# Help texts with the configured limits in them, worked out when the page shows them: a form
# that is only posted and checked never needs them.


def _late_reason_help() -> str:
    return _("Needed only when the service ended more than %(days)d working days ago.") % {
        "days": settings.RECORDING_DEADLINE_WORKING_DAYS
    }


def _photos_help() -> str:
    return _("Optional; up to %(count)d photos of %(mb)d MB each.") % {
        "count": settings.EVIDENCE_MAX_PHOTOS,
        "mb": settings.EVIDENCE_MAX_UPLOAD_MB,
    }


class RecordTimesForm(Form):
    """What every way of logging service shares: what, when, how long, where."""

    activity_name = forms.CharField(label=gettext_lazy("Activity name"), max_length=128)
    category = LookupChoiceField(
        label=gettext_lazy("Service category"),
        queryset_factory=lambda: ServiceCategory.objects.filter(is_active=True),
        lookup=active_category,
    )
    service_date = IsoDateField(label=gettext_lazy("Date"), widget=_date_input())
    start_time = IsoTimeField(label=gettext_lazy("From"), widget=_time_input())
    end_time = IsoTimeField(label=gettext_lazy("Until"), widget=_time_input())
    duration_hours = forms.DecimalField(
        label=gettext_lazy("Service time (hours)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text=gettext_lazy(
            "Filled in from the times. Travel to and from is not counted: lower it if you "
            "travelled or took a break."
        ),
        widget=forms.NumberInput({"step": "0.25", "inputmode": "decimal"}),
    )
    place = forms.CharField(label=gettext_lazy("Place"), max_length=255)
    content = forms.CharField(
        label=gettext_lazy("What was done"), max_length=2000, widget=forms.Textarea({"rows": 3})
    )
    responsible_person = forms.CharField(
        label=gettext_lazy("Person responsible"),
        max_length=64,
        required=False,
        help_text=gettext_lazy(
            "Who organised or can confirm the service; the team leader if empty."
        ),
    )
    late_reason = forms.CharField(
        label=gettext_lazy("Reason for the late entry (补录)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea({"rows": 2}),
        help_text=lazy(_late_reason_help, str)(),
    )

    def clean(self):
        data = super().clean()
        day, start, end = (data.get(k) for k in ("service_date", "start_time", "end_time"))
        if day and start and end:
            zone = timezone.get_current_timezone()
            data["started_at"] = timezone.make_aware(datetime.datetime.combine(day, start), zone)
            data["ended_at"] = timezone.make_aware(datetime.datetime.combine(day, end), zone)
        hours = data.get("duration_hours")
        data["duration_minutes"] = (
            int((hours * 60).to_integral_value()) if isinstance(hours, Decimal) else None
        )
        return data

    def record_fields(self) -> dict:
        """Keyword arguments for the record services."""
        data = self.cleaned_data
        return {
            "activity_name": data["activity_name"],
            "category": data["category"],
            "started_at": data["started_at"],
            "ended_at": data["ended_at"],
            "duration_minutes": data["duration_minutes"],
            "place": data["place"],
            "content": data["content"],
            "responsible_person": data.get("responsible_person", ""),
            "late_reason": data.get("late_reason", ""),
        }


def my_active_teams(user):
    return member_teams(user).order_by("name")


class PostedTeamField(DeferredModelChoiceField):
    """The volunteer's teams, listed from the database for the page; a posted choice is only
    read as a team's id here. Whether the volunteer may log service for it is the record
    service's rule, checked in the statement that locks the volunteer
    (``service_records.services.service_record_submit``), so a submit asks nothing more."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            pk = int(str(value).strip())
        except ValueError:
            pk = 0
        if not 0 < pk < 2**63:  # ids are positive 64-bit integers (``BigAutoField``)
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return key_only(Team, pk)


class RecordForm(RecordTimesForm):
    """A volunteer logs their own service (new or corrected)."""

    team = PostedTeamField(label=gettext_lazy("Team"), required=False)
    care_recipient = DeferredModelChoiceField(
        label=gettext_lazy("Household I am paired with"),
        required=False,
        help_text=gettext_lazy("Only if the service was for the household you are paired with."),
    )
    photos = MultipleImageField(label=gettext_lazy("Photos"), help_text=lazy(_photos_help, str)())

    field_order = [
        "activity_name",
        "category",
        "service_date",
        "start_time",
        "end_time",
        "duration_hours",
        "place",
        "content",
        "team",
        "care_recipient",
        "responsible_person",
        "photos",
        "late_reason",
    ]

    def __init__(self, *args, user, record=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        self.fields["team"].queryset_factory = lambda: my_active_teams(user)
        if record is not None:
            # A record stays with the team it was logged for.
            del self.fields["team"]
        self.fields["care_recipient"].queryset_factory = lambda: CareRecipient.objects.filter(
            pk__in=RecipientPairing.objects.active().filter(volunteer=user).values("recipient")
        )

    def record_fields(self) -> dict:
        fields = super().record_fields()
        fields["team"] = self.cleaned_data.get("team") if "team" in self.fields else None
        fields["care_recipient"] = self.cleaned_data.get("care_recipient")
        team = fields["team"] or (self.record.team if self.record is not None else None)
        if not fields["responsible_person"] and team is not None:
            leader = (
                TeamMembership.objects.active()
                .filter(team=team, role=TeamRole.LEADER)
                .select_related("user")
                .first()
            )
            if leader is not None:
                fields["responsible_person"] = leader.user.get_full_name()
        return fields


class TeamEntryForm(RecordTimesForm):
    """A leader enters one activity for many of the team's volunteers at once."""

    volunteers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Volunteers who served"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one volunteer.")},
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteers"].queryset = User.objects.filter(
            team_memberships__team=team,
            team_memberships__status=TeamMembershipStatus.ACTIVE,
        ).order_by("real_name", "pk")
        self.fields["volunteers"].label_from_instance = lambda user: user.get_full_name()


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=1000, widget=forms.Textarea({"rows": 2})
    )


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=gettext_lazy("How was the service?"),
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose between 1 and 5 stars.")},
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=500,
        widget=forms.Textarea({"rows": 3}),
    )


def apply_service(form: forms.Form, call) -> bool:
    """Run a service for a valid form; its refusal becomes the form's errors."""
    if not form.is_valid():
        return False
    try:
        call()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = SERVICE_FIELDS.get(field, field)
                form.add_error(target if target in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return False
    return True
