from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log

from .models import User
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
