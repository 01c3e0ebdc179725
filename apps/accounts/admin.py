from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.admin import CityAdminOnlyMixin, ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log

from . import services
from .models import ProfileChangeRequest, ServiceCategory, TrainingRecord, User, VolunteerProfile
from .validators import normalize_id_number, validate_id_number


class IdNumberFormMixin:
    """The ID number is never sent back to the browser: staff see it masked and may replace it."""

    def _setup_id_number(self):
        field = forms.CharField(
            label=_("ID number"),
            required=False,
            max_length=18,
            help_text=_("Leave empty to keep the number on file."),
            widget=forms.TextInput(attrs={"autocomplete": "off"}),
        )
        self.fields["id_number"] = field
        self.initial["id_number"] = ""

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data.get("id_number", ""))
        if not value:
            return self.instance.id_number
        validate_id_number(value)
        return value


class PlatformUserChangeForm(IdNumberFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_id_number()


class PlatformUserCreationForm(IdNumberFormMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "real_name", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_id_number()


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    delete_needs_city_admin = True
    form = PlatformUserChangeForm
    add_form = PlatformUserCreationForm
    list_display = [
        "username",
        "real_name",
        "phone",
        "id_number_masked",
        "political_status",
        "is_active",
    ]
    list_filter = ["political_status", "gender", "is_active"]
    search_fields = ["username", "real_name", "phone", "email"]
    ordering = ["real_name", "username"]
    readonly_fields = ["id_number_masked", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            _("Personal information"),
            {
                "fields": [
                    "real_name",
                    "gender",
                    "ethnicity",
                    "political_status",
                    "id_number_masked",
                    "id_number",
                    "phone",
                    "email",
                ]
            },
        ),
        (_("Status"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    superuser_fieldsets = [
        (_("Permissions"), {"fields": ["is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "real_name", "phone", "id_number", "password1", "password2"],
            },
        ),
    ]

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return obj.id_number_masked or "—"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        fieldsets = list(self.fieldsets)
        if request.user.is_superuser:
            fieldsets += self.superuser_fieldsets
        return fieldsets

    def has_add_permission(self, request):
        # New people arrive through registration; only the city's administrators add directly.
        return get_user_scope(request.user).is_city_admin

    def log_addition(self, request, obj, message):
        audit_log(actor=request.user, action="user.create", target=obj, details={"via": "admin"})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        # Covers the change form and the password form: which fields changed, never their values.
        audit_log(
            actor=request.user,
            action="user.update",
            target=obj,
            details={"via": "admin", "change": message},
        )
        return super().log_change(request, obj, message)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = normalize_id_number(search_term)
        if len(term) == 18:
            queryset = queryset | self.get_queryset(request).with_id_number(term)
        return queryset, may_have_duplicates


class CityAdminEditsMixin(CityAdminOnlyMixin):
    """Reference data the city's administrators maintain; nobody else sees it here."""

    def has_add_permission(self, request):
        return self._is_city_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_city_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_city_admin(request)


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(CityAdminEditsMixin, admin.ModelAdmin):
    list_display = ["name", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]


class ReviewActionForm(helpers.ActionForm):
    reason = forms.CharField(
        label=_("Reason (for rejecting or suspending)"), required=False, max_length=255
    )


def _run_each(modeladmin, request, queryset, call, done_message):
    done = 0
    for obj in queryset:
        try:
            call(obj)
        except ValidationError as error:
            modeladmin.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    action_form = ReviewActionForm
    actions = ["approve", "reject", "suspend", "reinstate"]
    list_display = [
        "volunteer_number",
        "real_name",
        "id_number_masked",
        "status",
        "residence_community",
        "submitted_at",
    ]
    list_filter = ["status", "service_categories"]
    search_fields = ["volunteer_number", "user__real_name", "user__username", "user__phone"]
    list_select_related = ["user", "residence_community"]
    date_hierarchy = "submitted_at"
    fields = [
        "user",
        "volunteer_number",
        "status",
        "id_number_masked",
        "birth_date",
        "residence_area",
        "residence_community",
        "skills",
        "service_categories",
        "available_times",
        "consent_at",
        "guardian_name",
        "guardian_phone",
        "guardian_relation",
        "guardian_consent_at",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    ]

    def get_readonly_fields(self, request, obj=None):
        # Volunteers change their profile on the portal; staff decide through the actions.
        return self.fields

    def has_add_permission(self, request):
        # People register themselves on the portal.
        return False

    @admin.display(description=_("real name"), ordering="user__real_name")
    def real_name(self, obj):
        return obj.user.real_name

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return obj.user.id_number_masked or "—"

    def save_model(self, request, obj, form, change):
        pass

    @admin.action(description=_("Approve the selected registrations"), permissions=["change"])
    def approve(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda p: services.volunteer_approve(actor=request.user, profile=p),
            _("%(count)d registrations approved."),
        )

    @admin.action(description=_("Reject the selected registrations"), permissions=["change"])
    def reject(self, request, queryset):
        reason = request.POST.get("reason", "")
        _run_each(
            self,
            request,
            queryset,
            lambda p: services.volunteer_reject(actor=request.user, profile=p, reason=reason),
            _("%(count)d registrations rejected."),
        )

    @admin.action(description=_("Suspend the selected volunteers"), permissions=["change"])
    def suspend(self, request, queryset):
        reason = request.POST.get("reason", "")
        _run_each(
            self,
            request,
            queryset,
            lambda p: services.volunteer_suspend(actor=request.user, profile=p, reason=reason),
            _("%(count)d volunteers suspended."),
        )

    @admin.action(description=_("Reinstate the selected volunteers"), permissions=["change"])
    def reinstate(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda p: services.volunteer_reinstate(actor=request.user, profile=p),
            _("%(count)d volunteers reinstated."),
        )


@admin.register(ProfileChangeRequest)
class ProfileChangeRequestAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    action_form = ReviewActionForm
    actions = ["approve", "reject"]
    list_display = ["profile", "requested", "status", "created_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["profile__volunteer_number", "profile__user__real_name"]
    list_select_related = ["profile__user", "reviewed_by"]
    fields = [
        "profile",
        "requested",
        "status",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("requested changes"))
    def requested(self, obj):
        shown = []
        for key, value in obj.changes.items():
            if key == "id_number":
                continue
            label = "id_number" if key == "id_number_masked" else key
            shown.append(f"{label}: {value}")
        return "; ".join(shown)

    def save_model(self, request, obj, form, change):
        pass

    @admin.action(description=_("Approve the selected changes"), permissions=["change"])
    def approve(self, request, queryset):
        _run_each(
            self,
            request,
            queryset.select_related("profile__user"),
            lambda r: services.profile_change_request_approve(actor=request.user, request=r),
            _("%(count)d changes approved."),
        )

    @admin.action(description=_("Reject the selected changes"), permissions=["change"])
    def reject(self, request, queryset):
        reason = request.POST.get("reason", "")
        _run_each(
            self,
            request,
            queryset.select_related("profile__user"),
            lambda r: services.profile_change_request_reject(
                actor=request.user, request=r, reason=reason
            ),
            _("%(count)d changes rejected."),
        )


class TrainingRecordForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["user", "name", "content", "hours", "organizer", "held_on"]

    def __init__(self, *args, actor=None, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("user") is not None:
            try:
                services.training_record_check(
                    actor=self.actor, user=cleaned["user"], held_on=cleaned.get("held_on")
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    form = TrainingRecordForm
    list_display = ["name", "user", "hours", "organizer", "held_on", "recorded_by"]
    search_fields = ["name", "organizer", "user__real_name"]
    list_select_related = ["user", "recorded_by"]
    date_hierarchy = "held_on"
    autocomplete_fields = ["user"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class ActorForm(form_class):
            def __init__(self, *args, **inner_kwargs):
                super().__init__(*args, actor=request.user, **inner_kwargs)

        return ActorForm

    def get_readonly_fields(self, request, obj=None):
        # A record is kept as entered; a mistake is deleted by the city and entered again.
        if obj is not None:
            return ["user", "name", "content", "hours", "organizer", "held_on", "recorded_by"]
        return []

    def save_model(self, request, obj, form, change):
        if change:
            return
        record = services.training_record_add(
            actor=request.user,
            user=obj.user,
            name=obj.name,
            content=obj.content,
            hours=obj.hours,
            organizer=obj.organizer,
            held_on=obj.held_on,
        )
        obj.pk = record.pk
