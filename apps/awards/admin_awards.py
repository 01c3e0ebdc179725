"""Admin pages of the awards workflow. Categories and quotas are the city's to set; nominations,
objections and awards are read only, and every decision goes through the services in
``nominations.py`` (actions and the award form), their refusals shown as messages."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log

from . import nominations
from .models import AssessmentYear, Award, AwardCategory, Nomination, Objection, Quota


class CityWritesMixin(ScopedAdminMixin):
    """Everyone in the admin sees these; only the city's administrators change them."""

    def has_add_permission(self, request):
        return get_user_scope(request.user).is_city_admin

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(
                actor=request.user,
                action=f"{obj._meta.label_lower}.{'change' if change else 'add'}",
                target=obj,
                details={"via": "admin", "fields": sorted(form.changed_data)},
            )


class AwardCategoryForm(forms.ModelForm):
    class Meta:
        model = AwardCategory
        fields = [
            "name",
            "kind",
            "description",
            "awarding_unit",
            "party_members_only",
            "min_hours",
            "min_points",
            "min_average_rating",
            "max_rejected_records",
            "publicity_days",
            "active",
            "order",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "team" and cleaned.get("min_points") is not None:
            self.add_error("min_points", gettext("Teams have no points: leave this empty."))
        return cleaned


@admin.register(AwardCategory)
class AwardCategoryAdmin(CityWritesMixin, admin.ModelAdmin):
    form = AwardCategoryForm
    list_display = [
        "name",
        "kind",
        "awarding_unit",
        "min_hours",
        "min_points",
        "min_average_rating",
        "max_rejected_records",
        "publicity_days",
        "active",
        "order",
    ]
    list_filter = ["kind", "active"]
    search_fields = ["name"]


class QuotaForm(forms.ModelForm):
    class Meta:
        model = Quota
        fields = ["assessment_year", "category", "organization", "places"]

    def clean(self):
        cleaned = super().clean()
        year, category, organization = (
            cleaned.get("assessment_year"),
            cleaned.get("category"),
            cleaned.get("organization"),
        )
        if year and category and organization:
            others = Quota.objects.filter(
                assessment_year=year, category=category, organization=organization
            ).exclude(pk=self.instance.pk)
            if others.exists():
                raise ValidationError(
                    gettext(
                        "%(organization)s already has a quota for “%(category)s” in %(year)s: "
                        "change that one."
                    )
                    % {"organization": organization.name, "category": category.name, "year": year}
                )
        return cleaned

    def validate_unique(self):
        # clean() above says it in words; the constraint stays the last line of defence.
        pass


@admin.register(Quota)
class QuotaAdmin(CityWritesMixin, admin.ModelAdmin):
    form = QuotaForm
    list_display = ["assessment_year", "category", "organization", "places"]
    list_filter = ["assessment_year", "category"]
    list_select_related = ["assessment_year", "category", "organization"]
    search_fields = ["organization__name"]
    raw_id_fields = ["organization"]


class NoteActionForm(ActionForm):
    note = forms.CharField(
        label=_("reason or finding"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"size": 40}),
    )


class ReadOnlyWorkflowMixin(ScopedAdminMixin):
    """Seen in scope, changed only through the actions (city administrators)."""

    action_form = NoteActionForm

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not get_user_scope(request.user).is_city_admin:
            return {}
        return actions

    def _run(self, request, call, success):
        """Call a service; its refusal becomes an error message."""
        try:
            call()
        except (ValidationError, PermissionDenied) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else None
            self.message_user(request, text or gettext("You may not do this."), messages.ERROR)
            return False
        self.message_user(request, success, messages.SUCCESS)
        return True


@admin.register(Nomination)
class NominationAdmin(ReadOnlyWorkflowMixin, admin.ModelAdmin):
    list_display = [
        "assessment_year",
        "category",
        "candidate_name",
        "organization",
        "hours",
        "points",
        "status",
        "publicity_starts_on",
        "publicity_ends_on",
    ]
    list_filter = ["assessment_year", "category", "status"]
    list_select_related = ["assessment_year", "category", "organization", "volunteer", "team"]
    search_fields = ["volunteer__real_name", "team__name", "organization__name"]
    actions = ["start_publicity", "award", "do_not_award"]

    @admin.display(description=_("candidate"))
    def candidate_name(self, obj):
        return obj.candidate_name

    @admin.action(description=_("Start the publicity of the selected nominations' awards"))
    def start_publicity(self, request, queryset):
        rounds = queryset.values_list("assessment_year", "category").distinct()
        for year_id, category_id in rounds.order_by("assessment_year", "category"):
            category = AwardCategory.objects.get(pk=category_id)
            self._run(
                request,
                lambda category=category, year_id=year_id: nominations.publicity_start(
                    actor=request.user,
                    assessment_year=AssessmentYear.objects.get(pk=year_id),
                    category=category,
                ),
                gettext("The publicity of “%(category)s” has started.")
                % {"category": category.name},
            )

    def _decide(self, request, queryset, *, awarded):
        note = request.POST.get("note", "")
        for nomination in queryset:
            self._run(
                request,
                lambda nomination=nomination: nominations.nomination_decide(
                    actor=request.user, nomination=nomination, awarded=awarded, note=note
                ),
                gettext("%(candidate)s: decided.") % {"candidate": nomination.candidate_name},
            )

    @admin.action(description=_("Award the selected nominations"))
    def award(self, request, queryset):
        self._decide(request, queryset, awarded=True)

    @admin.action(description=_("Do not award the selected nominations (give the reason)"))
    def do_not_award(self, request, queryset):
        self._decide(request, queryset, awarded=False)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyWorkflowMixin, admin.ModelAdmin):
    list_display = ["nomination", "created_at", "status", "resolved_at"]
    list_filter = ["status"]
    list_select_related = [
        "nomination__assessment_year",
        "nomination__category",
        "nomination__volunteer",
        "nomination__team",
    ]
    actions = ["uphold", "dismiss"]

    def _resolve(self, request, queryset, *, upheld):
        resolution = request.POST.get("note", "")
        for objection in queryset:
            self._run(
                request,
                lambda objection=objection: nominations.objection_resolve(
                    actor=request.user, objection=objection, upheld=upheld, resolution=resolution
                ),
                gettext("Objection %(id)s resolved.") % {"id": objection.pk},
            )

    @admin.action(description=_("Uphold the selected objections (give the finding)"))
    def uphold(self, request, queryset):
        self._resolve(request, queryset, upheld=True)

    @admin.action(description=_("Dismiss the selected objections (give the finding)"))
    def dismiss(self, request, queryset):
        self._resolve(request, queryset, upheld=False)


class AwardForm(forms.ModelForm):
    class Meta:
        model = Award
        fields = ["volunteer", "team", "name", "awarded_on", "awarding_unit", "note"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            nominations.award_check(
                name=cleaned.get("name"),
                awarded_on=cleaned.get("awarded_on"),
                awarding_unit=cleaned.get("awarding_unit"),
                volunteer=cleaned.get("volunteer"),
                team=cleaned.get("team"),
            )
        return cleaned

    def _post_clean(self):
        # The model's own check constraint would repeat award_check's message.
        if not self.errors:
            super()._post_clean()


@admin.register(Award)
class AwardAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Awards on volunteers' records; the city's administrators add awards from elsewhere."""

    form = AwardForm
    list_display = ["name", "awarded_on", "awarding_unit", "volunteer", "team", "category"]
    list_filter = ["category", "assessment_year"]
    list_select_related = ["volunteer", "team", "category"]
    search_fields = ["name", "volunteer__real_name", "team__name"]
    raw_id_fields = ["volunteer", "team"]

    def has_add_permission(self, request):
        return get_user_scope(request.user).is_city_admin

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        award = nominations.award_create(
            actor=request.user,
            name=data["name"],
            awarded_on=data["awarded_on"],
            awarding_unit=data["awarding_unit"],
            volunteer=data.get("volunteer"),
            team=data.get("team"),
            note=data.get("note", ""),
        )
        obj.pk = award.pk
