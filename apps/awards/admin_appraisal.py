"""The democratic appraisal in the admin: scoped and read only. Grades are given on the
dashboard's appraisal page, which checks the one-third limit and keeps the audit trail."""

from django.contrib import admin

from apps.core.admin import ScopedAdminMixin

from .models import DemocraticAppraisal


@admin.register(DemocraticAppraisal)
class DemocraticAppraisalAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["assessment_year", "organization", "member", "grade", "note", "updated_at"]
    list_filter = ["assessment_year", "grade"]
    list_select_related = ["assessment_year", "organization", "member"]
    search_fields = ["member__real_name", "member__username", "organization__name"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
