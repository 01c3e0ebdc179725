from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import CityAdminOnlyMixin

from .models import DeliveryStatus, Notification, NotificationPreference


class FailedDeliveryFilter(admin.SimpleListFilter):
    title = _("delivery failed")
    parameter_name = "failed"

    def lookups(self, request, model_admin):
        return [("email", _("E-mail")), ("sms", _("SMS"))]

    def queryset(self, request, queryset):
        if self.value() == "email":
            return queryset.filter(email_status=DeliveryStatus.FAILED)
        if self.value() == "sms":
            return queryset.filter(sms_status=DeliveryStatus.FAILED)
        return queryset


@admin.register(Notification)
class NotificationAdmin(CityAdminOnlyMixin, admin.ModelAdmin):
    """City administrators see every notification, failed deliveries with their error."""

    list_display = [
        "created_at",
        "user",
        "kind",
        "title",
        "read_at",
        "email_status",
        "sms_status",
        "attempts",
    ]
    list_filter = [FailedDeliveryFilter, "kind", "email_status", "sms_status"]
    search_fields = ["title", "key", "user__username", "user__real_name"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(CityAdminOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "kind", "channel", "enabled"]
    list_filter = ["kind", "channel", "enabled"]
    search_fields = ["user__username", "user__real_name"]
    list_select_related = ["user"]
    readonly_fields = ["user", "kind", "channel", "enabled"]
