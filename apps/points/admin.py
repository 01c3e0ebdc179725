"""Admin pages for points: rules (the city's administrators change them, every admin user
reads them) and the ledger (read only: entries are never added, changed or deleted here)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log

from . import services
from .models import PointsEntry, PointsRule

RULE_FORM_FIELDS = list(services.RULE_FIELDS)


class _Rehearsal(Exception):
    pass


class PointsRuleForm(forms.ModelForm):
    class Meta:
        model = PointsRule
        fields = RULE_FORM_FIELDS

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        # The service decides (versions, overlaps, signs): rehearse it and roll back, so its
        # refusals show on the form instead of failing the save.
        try:
            with transaction.atomic():
                self.save_with_service(self.request.user)
                raise _Rehearsal
        except _Rehearsal:
            pass
        except ValidationError as error:
            self._update_errors(error)
        return data

    def save_with_service(self, actor):
        data = {field: self.cleaned_data.get(field) for field in RULE_FORM_FIELDS}
        if self.instance.pk is None:
            return services.points_rule_create(actor=actor, **data)
        stored = PointsRule.objects.get(pk=self.instance.pk)
        changes = {field: data[field] for field in self.changed_data if field in data}
        return services.points_rule_change(actor=actor, rule=stored, **changes)


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    form = PointsRuleForm
    list_display = [
        "kind",
        "category",
        "stars",
        "points",
        "cap_per_day",
        "cap_per_activity",
        "cap_per_year",
        "effective_from",
        "effective_to",
        "version",
        "withdrawn_at",
    ]
    list_filter = ["kind", "category"]
    list_select_related = ["category"]
    readonly_fields = ["version", "withdrawn_at", "created_by", "created_at"]

    def _is_city_admin(self, request):
        return get_user_scope(request.user).is_city_admin

    def has_module_permission(self, request):
        return get_user_scope(request.user).can_view_any

    def has_view_permission(self, request, obj=None):
        return get_user_scope(request.user).can_view_any

    def has_add_permission(self, request):
        return self._is_city_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_city_admin(request) and (obj is None or obj.withdrawn_at is None)

    def has_delete_permission(self, request, obj=None):
        # A version that posted points is history: end it or add a new version instead.
        return self._is_city_admin(request) and (obj is None or not obj.entries.exists())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        rule = form.save_with_service(request.user)
        if change and rule.pk != obj.pk:
            self.message_user(
                request,
                gettext(
                    "Points were already posted under this rule, so the change was saved as "
                    "version %(version)s."
                )
                % {"version": rule.version},
                messages.INFO,
            )
        obj.pk = rule.pk
        obj.version = rule.version

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_log(actor=request.user, action="points_rule.delete", target=obj)
            super().delete_model(request, obj)


@admin.register(PointsEntry)
class PointsEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "counted_on",
        "volunteer",
        "points",
        "kind",
        "source_type",
        "reason",
        "rule",
        "rule_version",
        "created_at",
    ]
    list_filter = ["kind", "source_type"]
    list_select_related = ["volunteer", "rule", "rule__category"]
    search_fields = ["volunteer__real_name", "volunteer__username", "reason"]
    date_hierarchy = "counted_on"
    fields = [
        "volunteer",
        "points",
        "kind",
        "rule",
        "rule_version",
        "source_type",
        "source_id",
        "activity",
        "reason",
        "counted_on",
        "reverses",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
