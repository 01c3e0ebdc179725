"""Export jobs in the admin, read only: a person sees their own, the city's administrators all."""

from django.contrib import admin
from django.http import Http404

from .models import ExportJob
from .scoping import get_user_scope


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "format", "status", "progress", "created_at", "expires_at"]
    list_filter = ["status", "format", "exporter"]
    search_fields = ["title", "filename", "user__username", "user__real_name"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        if get_user_scope(request.user).is_city_admin:
            return jobs
        return jobs.filter(user=request.user)

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
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
