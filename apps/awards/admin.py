"""Admin pages for the roll-up: read-only summaries (scoped) and the assessment years, whose
deadline the city's administrators set and which they close with an action."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope

from . import admin_appraisal, admin_awards  # noqa: F401  (register their models)
from .models import AssessmentYear, OrganizationYearSummary, TeamYearSummary, VolunteerYearSummary
from .rollup import (
    assessment_deadline_check,
    assessment_year_close,
    assessment_year_set_deadline,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssessmentYearForm(forms.ModelForm):
    class Meta:
        model = AssessmentYear
        fields = ["year", "submission_deadline"]

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year") or getattr(self.instance, "year", None)
        if year:
            assessment_deadline_check(year=year, deadline=cleaned.get("submission_deadline"))
        if self.instance.pk and self.instance.is_closed:
            raise ValidationError(
                gettext("The assessment year %(year)s is already closed.")
                % {"year": self.instance.year}
            )
        return cleaned


@admin.register(AssessmentYear)
class AssessmentYearAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read only but for the deadline (and the year, when adding one), which city
    administrators set; everything else is the roll-up's."""

    form = AssessmentYearForm
    list_display = [
        "year",
        "submission_deadline",
        "status",
        "run_status",
        "run_parts_done",
        "run_parts_total",
        "run_finished_at",
        "closed_at",
        "closed_by",
    ]
    list_filter = ["status", "run_status"]
    list_select_related = ["closed_by"]
    actions = ["close_years"]
    readonly_fields = [
        "year",
        "status",
        "closed_at",
        "closed_by",
        "run_status",
        "run_parts_total",
        "run_parts_done",
        "run_started_at",
        "run_finished_at",
        "run_by",
        "run_message",
    ]
    fields = ["year", "submission_deadline", *readonly_fields[1:]]

    def has_add_permission(self, request):
        return get_user_scope(request.user).is_city_admin

    def has_change_permission(self, request, obj=None):
        return get_user_scope(request.user).is_city_admin

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields[1:]
        if not self.has_change_permission(request, obj):
            return [*self.readonly_fields, "submission_deadline"]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["year", "submission_deadline"] if obj is None else self.fields

    def save_model(self, request, obj, form, change):
        saved = assessment_year_set_deadline(
            actor=request.user, year=obj.year, deadline=obj.submission_deadline
        )
        obj.pk = saved.pk

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not get_user_scope(request.user).is_city_admin:
            actions.pop("close_years", None)
        return actions

    @admin.action(description=_("Close the selected years (freeze their results)"))
    def close_years(self, request, queryset):
        for assessment_year in queryset:
            try:
                assessment_year_close(actor=request.user, year=assessment_year.year)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("The assessment year %(year)s is closed.")
                    % {"year": assessment_year.year},
                    messages.SUCCESS,
                )


class SummaryAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_filter = ["assessment_year"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "id"]


@admin.register(VolunteerYearSummary)
class VolunteerYearSummaryAdmin(SummaryAdmin):
    list_display = [
        "assessment_year",
        "volunteer",
        "organization",
        "approved_minutes",
        "records",
        "points",
        "average_rating",
        "rank_in_organization",
    ]
    list_select_related = ["assessment_year", "volunteer", "organization"]
    search_fields = ["volunteer__real_name", "volunteer__username"]


@admin.register(TeamYearSummary)
class TeamYearSummaryAdmin(SummaryAdmin):
    list_display = [
        "assessment_year",
        "team",
        "members",
        "approved_minutes",
        "records",
        "activities",
        "average_rating",
    ]
    list_select_related = ["assessment_year", "team"]
    search_fields = ["team__name"]


@admin.register(OrganizationYearSummary)
class OrganizationYearSummaryAdmin(SummaryAdmin):
    list_display = [
        "assessment_year",
        "organization",
        "members",
        "participation_rate",
        "hours_per_member",
        "residence_report_rate",
        "pairing_rate",
        "four_facts_rate",
        "request_completion_rate",
        "satisfaction",
        "on_time_rate",
    ]
    list_select_related = ["assessment_year", "organization"]
    search_fields = ["organization__name"]
