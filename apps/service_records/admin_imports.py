"""Admin for imports: read-only, scoped like the pages (the uploader's own; the city all)."""

from django.contrib import admin

from apps.core.admin import ScopedAdminMixin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "original_name",
        "status",
        "total_rows",
        "imported_rows",
        "created_by",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["original_name", "created_by__real_name", "created_by__username"]
    date_hierarchy = "created_at"
    list_select_related = ["created_by"]
    readonly_fields = [
        "kind",
        "file",
        "original_name",
        "status",
        "total_rows",
        "processed_rows",
        "imported_rows",
        "errors",
        "message",
        "created_by",
        "created_at",
        "finished_at",
    ]
    fields = readonly_fields

    # Jobs are made by uploading on the dashboard and changed only by running them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
