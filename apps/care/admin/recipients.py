"""Admin pages for households, pairings, visits and care categories.

Households, pairings and visits are read here and changed on the portal and through the API,
where the rules live. Lists are masked; a household's page shows whole fields only to users
entitled to them, and logs that view.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log

from ..models import CareCategory, CareRecipient, RecipientPairing, Visit
from ..selectors.recipients import care_recipient_present, sensitive_fields_for


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _shown(field, label):
    def display(self, obj):
        return getattr(obj, "_admin_shown", {}).get(field, "")

    display.short_description = label
    display.__name__ = f"shown_{field}"
    return display


@admin.register(CareRecipient)
class CareRecipientAdmin(ReadOnlyScopedAdmin):
    list_display = ["__str__", "community", "completeness", "is_active"]
    list_filter = ["is_active", "categories"]
    list_select_related = ["community"]
    search_fields = ["community__name"]

    shown_name = _shown("name", _("name"))
    shown_family_situation = _shown("family_situation", _("family situation"))
    shown_health = _shown("health", _("health"))
    shown_address = _shown("address", _("address"))
    shown_contact = _shown("contact", _("contact"))
    shown_correction_status = _shown("correction_status", _("community correction"))

    def get_fields(self, request, obj=None):
        shown = [f"shown_{f}" for f in CareRecipient.SENSITIVE_FIELDS]
        if obj is not None and "correction_status" not in getattr(obj, "_admin_whole", ()):
            shown.remove("shown_correction_status")
        return [
            "community",
            "categories",
            *shown,
            "family_verified_on",
            "health_verified_on",
            "address_verified_on",
            "contact_verified_on",
            "is_active",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        obj._admin_whole = sensitive_fields_for(user=request.user, recipient=obj)
        obj._admin_shown = care_recipient_present(recipient=obj, whole_fields=obj._admin_whole)
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            obj = response.context_data.get("original")
            if obj is not None and obj._admin_whole:
                audit_log(
                    actor=request.user,
                    action="care.sensitive_view",
                    target=obj,
                    details={"fields": sorted(obj._admin_whole), "via": "admin"},
                )
        return response


@admin.register(RecipientPairing)
class RecipientPairingAdmin(ReadOnlyScopedAdmin):
    list_display = ["volunteer", "recipient", "started_on", "ended_on", "visit_every_days"]
    list_filter = ["ended_on"]
    list_select_related = ["volunteer", "recipient"]
    search_fields = ["volunteer__real_name", "volunteer__username"]
    fields = [
        "volunteer",
        "recipient",
        "started_on",
        "ended_on",
        "end_reason",
        "visit_every_days",
    ]
    readonly_fields = fields


@admin.register(Visit)
class VisitAdmin(ReadOnlyScopedAdmin):
    list_display = ["visited_on", "kind", "duration_minutes", "pairing"]
    list_filter = ["kind"]
    list_select_related = ["pairing__volunteer", "pairing__recipient"]
    date_hierarchy = "visited_on"
    fields = ["pairing", "visited_on", "kind", "duration_minutes", "notes", "created_at"]
    readonly_fields = fields


@admin.register(CareCategory)
class CareCategoryAdmin(admin.ModelAdmin):
    """The list of difficulties is the city's: only its administrators keep it."""

    list_display = ["name", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]

    def _is_city_admin(self, request):
        return get_user_scope(request.user).is_city_admin

    def has_module_permission(self, request):
        return self._is_city_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_city_admin(request)

    def has_add_permission(self, request):
        return self._is_city_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_city_admin(request)

    def has_delete_permission(self, request, obj=None):
        # Households refer to categories: retire one by taking it out of use instead.
        return False
