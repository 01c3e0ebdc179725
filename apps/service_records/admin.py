"""Admin for service records, evidence and evaluations.

Records change only through their services, so their pages are for reading: approving,
rejecting (with a reason), reopening (with a reason) and revoking (with a reason) are actions
on the list, run record by record with the reviewer's rights; approved records are locked.
Reviewers see each record's flags and photos. Evidence and evaluations are read only.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope

from . import admin_certificates, admin_imports, services  # noqa: F401  (register their models)
from .checks import flag_reason
from .models import Evaluation, Evidence, RecordStatus, ServiceRecord


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Seen through ``visible_to``; nothing added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FlaggedFilter(admin.SimpleListFilter):
    title = _("checks against formalism")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Flagged")), ("no", _("Not flagged"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.flagged()
        if self.value() == "no":
            return queryset.filter(flags=[])
        return queryset


class ReviewActionForm(helpers.ActionForm):
    reason = forms.CharField(
        label=_("Reason (for rejecting, reopening or revoking)"), required=False, max_length=2000
    )


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    can_delete = False
    fields = ["thumbnail", "phash", "width", "height", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("photo"))
    def thumbnail(self, obj):
        return _thumbnail(obj)


def _thumbnail(evidence, size=120):
    if not evidence.image:
        return "—"
    return format_html(
        '<a href="{url}" target="_blank" rel="noopener"><img src="{url}" alt="{alt}" '
        'style="max-width:{size}px;max-height:{size}px"></a>',
        url=evidence.image.url,
        alt=gettext("evidence photo"),
        size=size,
    )


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "activity_name",
        "volunteer",
        "service_date",
        "hours",
        "status",
        "source",
        "is_late",
        "flag_count",
        "photo_count",
    ]
    list_filter = ["status", "source", "is_late", FlaggedFilter]
    list_select_related = ["volunteer"]
    search_fields = ["activity_name", "place", "volunteer__real_name", "volunteer__username"]
    date_hierarchy = "service_date"
    action_form = ReviewActionForm
    actions = ["approve_selected", "reject_selected", "reopen_selected", "revoke_selected"]
    inlines = [EvidenceInline]
    fieldsets = [
        (
            _("Service"),
            {
                "fields": [
                    "volunteer",
                    "activity_name",
                    "category",
                    "started_at",
                    "ended_at",
                    "duration_minutes",
                    "place",
                    "content",
                    "organization",
                    "responsible_person",
                    "team",
                    "activity",
                    "community",
                    "care_recipient",
                    "request",
                ]
            },
        ),
        (
            _("Review"),
            {
                "fields": [
                    "lock_notice",
                    "flag_reasons",
                    "status",
                    "source",
                    "within_working_hours",
                    "is_late",
                    "late_reason",
                    "submitted_by",
                    "reviewed_by",
                    "reviewed_at",
                    "review_note",
                    "created_at",
                ]
            },
        ),
    ]
    readonly_fields = [f for _title, options in fieldsets for f in options["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(evidence_total=Count("evidence"))

    @admin.display(description=_("hours"))
    def hours(self, obj):
        return obj.hours

    @admin.display(description=_("flags"))
    def flag_count(self, obj):
        return len(obj.flags) or "—"

    @admin.display(description=_("photos"), ordering="evidence_total")
    def photo_count(self, obj):
        return obj.evidence_total

    @admin.display(description=_("flags"))
    def flag_reasons(self, obj):
        if not obj.flags:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((flag_reason(f),) for f in obj.flags)),
        )

    @admin.display(description=_("locked"))
    def lock_notice(self, obj):
        if obj.status == RecordStatus.APPROVED:
            return gettext(
                "This record is approved and locked: reopen it with a reason to have it corrected."
            )
        return "—"

    def has_review_permission(self, request):
        scope = get_user_scope(request.user)
        return scope.can_manage_any

    def _run_each(self, request, queryset, call, done):
        count = 0
        for record in queryset.select_related("volunteer"):
            try:
                call(record)
            except ValidationError as error:
                self.message_user(request, f"{record}: {' '.join(error.messages)}", messages.ERROR)
            except PermissionDenied as error:
                message = str(error) or gettext("You may not review this record.")
                self.message_user(request, f"{record}: {message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Approve the selected records"), permissions=["review"])
    def approve_selected(self, request, queryset):
        approved, refused = services.service_record_bulk_approve(
            actor=request.user, records=list(queryset.select_related("volunteer"))
        )
        for record, message in refused:
            self.message_user(request, f"{record}: {message}", messages.ERROR)
        if approved:
            self.message_user(
                request,
                gettext("%(count)d records approved.") % {"count": approved},
                messages.SUCCESS,
            )

    def _with_reason(self, request, queryset, service, done):
        reason = request.POST.get("reason", "")
        self._run_each(
            request,
            queryset,
            lambda record: service(actor=request.user, record=record, reason=reason),
            done,
        )

    @admin.action(
        description=_("Reject the selected records (give a reason)"), permissions=["review"]
    )
    def reject_selected(self, request, queryset):
        self._with_reason(
            request,
            queryset,
            services.service_record_reject,
            gettext("%(count)d records rejected."),
        )

    @admin.action(
        description=_("Reopen the selected approved records (give a reason)"),
        permissions=["review"],
    )
    def reopen_selected(self, request, queryset):
        self._with_reason(
            request,
            queryset,
            services.service_record_reopen,
            gettext("%(count)d records reopened."),
        )

    @admin.action(
        description=_("Revoke the selected records (give a reason)"), permissions=["review"]
    )
    def revoke_selected(self, request, queryset):
        self._with_reason(
            request, queryset, services.service_record_revoke, gettext("%(count)d records revoked.")
        )


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyScopedAdmin):
    list_display = ["thumbnail", "record", "phash", "width", "height", "uploaded_at"]
    list_select_related = ["record"]
    search_fields = ["phash", "record__activity_name"]
    fields = ["thumbnail", "record", "phash", "width", "height", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def thumbnail(self, obj):
        return _thumbnail(obj, size=80)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyScopedAdmin):
    list_display = ["record", "rater_kind", "stars", "created_at"]
    list_filter = ["rater_kind", "stars"]
    list_select_related = ["record"]
    search_fields = ["record__activity_name", "comment"]
    fields = ["record", "rater_kind", "stars", "comment", "rated_by", "created_at"]
    readonly_fields = fields
