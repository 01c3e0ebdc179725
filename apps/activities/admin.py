"""Admin pages for activities, sign-ups, campaign days and yearly plans, on the scoped site.

Activities and campaign days are written through their services (the form runs the same
checks first, so a refused change shows its message in place). Sign-ups are for reading:
they move through sign-up, check-in and the leader's marking on the portal.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope, user_can_manage
from apps.core.services import audit_log
from apps.teams.models import Team

from . import selectors, services
from .models import Activity, ActivityPlan, ActivityPlanItem, Campaign, Signup


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


class SignupInline(_ReadOnlyInline):
    model = Signup
    fields = [
        "volunteer",
        "status",
        "attendance",
        "checked_in_at",
        "check_in_method",
        "checked_out_at",
        "check_out_method",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's title is the sign-up's str(): volunteer and activity.
        return super().get_queryset(request).select_related("volunteer", "activity")


def _with_user(form_class, user):
    return type(form_class.__name__, (form_class,), {"acting_user": user})


class ActivityAdminForm(forms.ModelForm):
    acting_user = None

    class Meta:
        model = Activity
        fields = list(services.ACTIVITY_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "organization" in self.fields:
            # A team's activity is organised by the team's organisation (the service sets it).
            self.fields["organization"].required = False

    def _post_clean(self):
        super()._post_clean()  # the instance now carries the form's values
        if self.errors:
            return
        try:
            services.activity_check(
                actor=self.acting_user,
                activity=self.instance,
                changed=self.changed_data if self.instance.pk else None,
            )
        except ValidationError as error:
            self._update_errors(error)


@admin.register(Activity)
class ActivityAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    form = ActivityAdminForm
    list_display = [
        "title",
        "starts_at",
        "organization",
        "team",
        "community",
        "category",
        "status",
        "capacity",
        "closed_at",
    ]
    list_filter = ["status", "category", "training_required", "campaign"]
    search_fields = ["title", "place", "team__name", "organization__name"]
    date_hierarchy = "starts_at"
    list_select_related = ["organization", "team", "community", "category"]
    autocomplete_fields = ["organization", "team", "community", "responsible"]
    readonly_fields = ["status", "cancel_reason", "series", "campaign", "closed_at", "created_at"]
    inlines = [SignupInline]
    actions = ["publish"]
    fieldsets = [
        (
            None,
            {"fields": ["title", "category", "organization", "team", "status", "cancel_reason"]},
        ),
        (
            _("Time and place"),
            {"fields": ["starts_at", "ends_at", "community", "service_point", "place"]},
        ),
        (
            _("Recruitment"),
            {"fields": ["capacity", "description", "risks", "training_required", "responsible"]},
        ),
        (_("Record"), {"fields": ["plan_item", "series", "campaign", "closed_at", "created_at"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _with_user(super().get_form(request, obj, change, **kwargs), request.user)

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in services.ACTIVITY_FIELDS
            if name in form.cleaned_data
        }
        if change:
            services.activity_update(actor=request.user, activity=obj, **data)
        else:
            activity = services.activity_create(actor=request.user, **data)
            obj.pk = activity.pk
            obj._state.adding = False
            form.instance = activity

    def save_related(self, request, form, formsets, change):
        # The service saved the activity; the sign-ups inline is read only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request, queryset):
        published = 0
        for activity in queryset:
            try:
                services.activity_publish(actor=request.user, activity=activity)
                published += 1
            except (ValidationError, PermissionDenied) as error:
                messages.warning(request, f"{activity}: {' '.join(_messages(error))}")
        if published:
            messages.success(
                request, gettext("%(count)d activities published.") % {"count": published}
            )


def _messages(error) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [str(error) or gettext("You may not do this.")]


@admin.register(Signup)
class SignupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "volunteer",
        "activity",
        "status",
        "attendance",
        "checked_in_at",
        "checked_out_at",
        "created_at",
    ]
    list_filter = ["status", "attendance", "check_in_method", "check_out_method"]
    search_fields = ["volunteer__real_name", "volunteer__username", "activity__title"]
    list_select_related = ["volunteer", "activity"]
    readonly_fields = [
        "activity",
        "volunteer",
        "status",
        "attendance",
        "checked_in_at",
        "check_in_method",
        "checked_out_at",
        "check_out_method",
        "marked_by",
        "created_at",
        "cancelled_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Campaign days -------------------------------------------------------------------------------


class CampaignAdminForm(forms.ModelForm):
    acting_user = None

    class Meta:
        model = Campaign
        fields = list(services.CAMPAIGN_FIELDS)

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            services.campaign_check(actor=self.acting_user, campaign=self.instance)
        except ValidationError as error:
            self._update_errors(error)


class CampaignTeamsForm(forms.Form):
    teams = forms.ModelMultipleChoiceField(
        label=_("teams"),
        queryset=Team.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one team.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = (
            Team.objects.manageable_by(user).filter(is_active=True).order_by("name")
        )


@admin.register(Campaign)
class CampaignAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = ["date", "name", "kind", "organization", "title", "activity_count"]
    list_filter = ["kind"]
    search_fields = ["name", "title", "organization__name"]
    date_hierarchy = "date"
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "create_activities_link"]

    def get_queryset(self, request):
        return selectors.campaign_list(user=request.user).order_by("-date", "-pk")

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _with_user(super().get_form(request, obj, change, **kwargs), request.user)

    @admin.display(description=_("activities"), ordering="activity_count")
    def activity_count(self, obj):
        return obj.activity_count

    @admin.display(description=_("create activities"))
    def create_activities_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:activities_campaign_create_activities", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("For chosen teams…"))

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in services.CAMPAIGN_FIELDS
            if name in form.cleaned_data
        }
        if change:
            services.campaign_update(actor=request.user, campaign=obj, **data)
        else:
            campaign = services.campaign_create(actor=request.user, **data)
            obj.pk = campaign.pk
            obj._state.adding = False
            form.instance = campaign

    def get_urls(self):
        return [
            path(
                "<path:object_id>/create-activities/",
                self.admin_site.admin_view(self.create_activities_view),
                name="activities_campaign_create_activities",
            ),
            *super().get_urls(),
        ]

    def create_activities_view(self, request, object_id):
        campaign = self.get_object(request, object_id)
        if not user_can_manage(request.user, campaign):
            raise PermissionDenied
        form = CampaignTeamsForm(
            request.POST if request.method == "POST" else None, user=request.user
        )
        if request.method == "POST" and form.is_valid():
            try:
                created = services.campaign_create_activities(
                    actor=request.user, campaign=campaign, teams=form.cleaned_data["teams"]
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    gettext("%(count)d activities created.") % {"count": len(created)},
                )
                return redirect("admin:activities_campaign_change", campaign.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": gettext("Create activities for chosen teams"),
            "form": form,
        }
        return TemplateResponse(
            request, "activities/admin/campaign_create_activities.html", context
        )


# Yearly plans --------------------------------------------------------------------------------


class ActivityPlanItemForm(forms.ModelForm):
    class Meta:
        model = ActivityPlanItem
        fields = ["month", "project", "place", "responsible", "category", "planned_count"]

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month is not None and not 1 <= month <= 12:
            raise ValidationError(gettext("The month must be between 1 and 12."))
        return month


class ActivityPlanItemInline(admin.TabularInline):
    """Items change with their plan: whoever may change the plan may change its items."""

    model = ActivityPlanItem
    form = ActivityPlanItemForm

    def _may_change(self, request, obj):
        if obj is None:
            return get_user_scope(request.user).can_manage_any
        return user_can_manage(request.user, obj)

    def has_view_permission(self, request, obj=None):
        return get_user_scope(request.user).can_view_any

    def has_add_permission(self, request, obj=None):
        return self._may_change(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_change(request, obj)

    fields = ["month", "project", "place", "responsible", "category", "planned_count"]
    extra = 1


@admin.register(ActivityPlan)
class ActivityPlanAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["year", "organization", "item_count"]
    list_filter = ["year"]
    search_fields = ["organization__name"]
    autocomplete_fields = ["organization"]
    inlines = [ActivityPlanItemInline]
    readonly_fields = ["plan_against_actual", "created_at"]
    fields = ["organization", "year", "note", "plan_against_actual", "created_at"]

    def get_queryset(self, request):
        return selectors.plan_list(user=request.user).order_by("-year", "pk")

    def get_readonly_fields(self, request, obj=None):
        fixed = ["organization", "year"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    @admin.display(description=_("plan against actual"))
    def plan_against_actual(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        result = selectors.plan_against_actual(plan=obj)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (line.item.month, line.item.project, line.planned, line.actual)
                for line in result.lines
            ),
        )
        unplanned = format_html_join(
            "", "<li>{}</li>", ((str(activity),) for activity in result.unplanned)
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table><p>{}</p><ul>{}</ul>",
            _("month"),
            _("project"),
            _("times planned"),
            _("held"),
            rows,
            _("Activities outside the plan: %(count)d") % {"count": len(result.unplanned)},
            unplanned,
        )

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(
                actor=request.user,
                action="activity_plan.update" if change else "activity_plan.create",
                target=obj,
                details={"via": "admin"},
            )

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            audit_log(
                actor=request.user,
                action="activity_plan.items",
                target=form.instance,
                details={"via": "admin"},
            )
