from django.contrib import admin
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry
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
