"""Admin pages for requests.

Requests move only through their services (the portal and the API), so their admin page is
for reading: requester data is masked here, the whole contact is on the portal's detail page,
which logs the view. Deadlines per service category belong to the city's administrators.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log

from ..models import RequestDeadline, RequestEvent, RequestEvidence, ServiceRequest
from ..selectors.requests import requester_masked


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


class RequestEventInline(_ReadOnlyInline):
    model = RequestEvent
    fields = ["at", "status", "actor", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class RequestEvidenceInline(_ReadOnlyInline):
    model = RequestEvidence
    fields = ["photo", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


def _masked(field, label):
    def display(self, obj):
        return requester_masked(obj)[field]

    display.short_description = label
    display.__name__ = f"masked_{field}"
    return display


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    list_display = [
        "tracking_number",
        "title",
        "community",
        "kind",
        "channel",
        "status",
        "masked_requester_name",
        "masked_requester_phone",
        "deadline",
        "created_at",
    ]
    list_filter = ["status", "kind", "channel"]
    list_select_related = ["community"]
    search_fields = ["tracking_number", "title", "community__name"]
    date_hierarchy = "created_at"
    inlines = [RequestEventInline, RequestEvidenceInline]

    masked_requester_name = _masked("requester_name", _("requester's name"))
    masked_requester_phone = _masked("requester_phone", _("requester's phone"))
    masked_requester_address = _masked("requester_address", _("requester's address"))

    fields = [
        "tracking_number",
        "community",
        "kind",
        "channel",
        "title",
        "description",
        "masked_requester_name",
        "masked_requester_phone",
        "masked_requester_address",
        "called_at",
        "care_recipient",
        "service_category",
        "status",
        "decline_reason",
        "dispatched_team",
        "assigned_volunteer",
        "deadline",
        "completed_at",
        "completion_note",
        "rating_stars",
        "rating_comment",
        "rated_at",
        "show_on_wall",
        "created_at",
        "created_by",
    ]
    readonly_fields = [f for f in fields if f != "show_on_wall"]

    def has_add_permission(self, request):
        # Requests arrive from residents and the community desk on the portal.
        return False

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(
                actor=request.user,
                action="service_request.update",
                target=obj,
                details={"show_on_wall": obj.show_on_wall, "via": "admin"},
            )


@admin.register(RequestDeadline)
class RequestDeadlineAdmin(admin.ModelAdmin):
    list_display = ["service_category", "days"]
    list_select_related = ["service_category"]

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
        return self._is_city_admin(request)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(
                actor=request.user,
                action="request_deadline.update" if change else "request_deadline.create",
                target=obj,
                details={"service_category_id": obj.service_category_id, "days": obj.days},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_log(actor=request.user, action="request_deadline.delete", target=obj)
            super().delete_model(request, obj)
