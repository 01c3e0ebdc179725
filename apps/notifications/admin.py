from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin  # registers the schedules' admin first
from django_celery_beat import validators as beat_validators
from django_celery_beat.models import CrontabSchedule

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


# --- The reminders' schedules: a typed crontab that cron cannot read is refused in Chinese ----

_CRONTAB_FIELDS = {
    "minute": (
        beat_validators.minute_validator,
        _("“%(value)s” is not a valid minute. Use 0–59, *, a list (0,30) or a step (*/15)."),
    ),
    "hour": (
        beat_validators.hour_validator,
        _("“%(value)s” is not a valid hour. Use 0–23, *, a list (8,18) or a range (8-17)."),
    ),
    "day_of_month": (
        beat_validators.day_of_month_validator,
        _("“%(value)s” is not a valid day of the month. Use 1–31, *, a list or a range."),
    ),
    "month_of_year": (
        beat_validators.month_of_year_validator,
        _("“%(value)s” is not a valid month. Use 1–12, *, a list or a range."),
    ),
    "day_of_week": (
        beat_validators.day_of_week_validator,
        _("“%(value)s” is not a valid day of the week. Use 0–6 (0 is Sunday), * or a range."),
    ),
}


class CrontabScheduleForm(forms.ModelForm):
    """The library's validators speak English only; this form says the same in our language.

    A field that fails here is left out of the model's own validation, so the page shows one
    clear message per field and nothing is saved.
    """

    class Meta:
        model = CrontabSchedule
        fields = [
            "minute",
            "hour",
            "day_of_month",
            "month_of_year",
            "day_of_week",
            "timezone",
        ]

    def _clean_crontab(self, name):
        value = (self.cleaned_data.get(name) or "").strip()
        validator, message = _CRONTAB_FIELDS[name]
        try:
            validator(value)
        except (ValidationError, ValueError):
            raise ValidationError(message, code="crontab", params={"value": value}) from None
        return value

    def clean_minute(self):
        return self._clean_crontab("minute")

    def clean_hour(self):
        return self._clean_crontab("hour")

    def clean_day_of_month(self):
        return self._clean_crontab("day_of_month")

    def clean_month_of_year(self):
        return self._clean_crontab("month_of_year")

    def clean_day_of_week(self):
        return self._clean_crontab("day_of_week")


class PlatformCrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    form = CrontabScheduleForm


if admin.site.is_registered(CrontabSchedule):
    admin.site.unregister(CrontabSchedule)
admin.site.register(CrontabSchedule, PlatformCrontabScheduleAdmin)
