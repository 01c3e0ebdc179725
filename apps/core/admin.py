from django.contrib import admin
from django.db import transaction
from django.http import Http404
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from . import admin_exports  # noqa: F401 - registers the export jobs' admin
from .models import AuditEntry, CalendarDay
from .scoping import get_user_scope, user_can_manage
from .services import audit_log


class ScopedAdminMixin:
    """Django admin on top of the scoping contract.

    Change lists, change forms, search and autocomplete start from ``visible_to``; foreign-key
    choices from ``manageable_by``; an object outside the scope is a 404, and changing one the
    user may only see is a 403.
    """

    #: records that are ended rather than deleted (memberships, roles, people) set this
    delete_needs_city_admin = False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def has_module_permission(self, request):
        return get_user_scope(request.user).can_view_any

    def has_view_permission(self, request, obj=None):
        return get_user_scope(request.user).can_view_any

    def has_add_permission(self, request):
        return get_user_scope(request.user).can_manage_any

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return get_user_scope(request.user).can_manage_any
        return user_can_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if self.delete_needs_city_admin:
            return get_user_scope(request.user).is_city_admin
        return self.has_change_permission(request, obj)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_log(
                actor=request.user,
                action=f"{obj._meta.label_lower}.delete",
                target=obj,
                details={"via": "admin"},
            )
            super().delete_model(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = db_field.remote_field.model._default_manager.all()
            if hasattr(queryset, "manageable_by"):
                kwargs["queryset"] = queryset.manageable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CityAdminOnlyMixin:
    """Admin pages only the city's administrators see; everyone else gets 403."""

    def _is_city_admin(self, request):
        return get_user_scope(request.user).is_city_admin

    def has_module_permission(self, request):
        return self._is_city_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_city_admin(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(CityAdminOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_repr"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_repr", "action", "actor__username", "actor__real_name"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "target_type"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    fieldsets = [(_("Entry"), {"fields": readonly_fields})]


class CalendarYearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(CityAdminOnlyMixin, admin.ModelAdmin):
    """The working-day calendar: statutory holidays and make-up working days (调休), entered
    each year by the city's administrators when the State Council publishes them."""

    list_display = ["date", "weekday", "kind", "name"]
    list_filter = [CalendarYearFilter, "kind"]
    search_fields = ["name"]
    date_hierarchy = "date"

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return formats.date_format(obj.date, "l")

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
                action="core.calendarday.change" if change else "core.calendarday.add",
                target=obj,
                details={"kind": obj.kind, "via": "admin"},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_log(
                actor=request.user,
                action="core.calendarday.delete",
                target=obj,
                details={"via": "admin"},
            )
            super().delete_model(request, obj)
