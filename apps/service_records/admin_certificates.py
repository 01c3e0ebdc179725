"""Admin for certificates and issuers.

Certificates change only through their services: the change page is for reading (the printed
facts are a snapshot), and issuing, refusing and revoking are actions on the list; refusing
and revoking ask for a reason first. A bulk-issue page issues certificates to every member of a
branch with approved hours in a period. Certificates are kept on file: nobody deletes one.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log
from apps.organizations.models import PartyOrganization

from . import certificates as services
from .models import Certificate, CertificateStatus, IssuerProfile

SEAL_MAX_BYTES = 2 * 1024 * 1024


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea({"rows": 3, "cols": 60})
    )


class BulkIssueForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Branch"), queryset=PartyOrganization.objects.none()
    )
    period_start = forms.DateField(label=_("From"), widget=AdminDateWidget)
    period_end = forms.DateField(label=_("Until"), widget=AdminDateWidget)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            PartyOrganization.objects.manageable_by(user).filter(is_active=True).order_by("path")
        )


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


@admin.register(Certificate)
class CertificateAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "number_or_request",
        "volunteer",
        "issuer",
        "period_start",
        "period_end",
        "status",
        "hours",
        "issued_on",
        "pdf_link",
    ]
    list_filter = ["status", "issued_on"]
    list_select_related = ["volunteer", "issuer"]
    search_fields = ["number", "volunteer_name", "volunteer__real_name", "issuer__name"]
    date_hierarchy = "requested_at"
    actions = ["issue_selected", "reject_selected", "revoke_selected"]
    change_list_template = "service_records/admin/certificate_change_list.html"
    fields = [
        "number",
        "status",
        "volunteer",
        "issuer",
        "period_start",
        "period_end",
        "purpose",
        "requested_by",
        "requested_at",
        "volunteer_name",
        "id_type",
        "id_number_masked",
        "volunteer_number",
        "hours",
        "record_count",
        "content",
        "issuer_name",
        "person_in_charge",
        "handler_name",
        "contact",
        "issued_on",
        "decided_by",
        "decided_at",
        "rejection_reason",
        "revoked_at",
        "revoke_reason",
        "pdf_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("certificate number"), ordering="number")
    def number_or_request(self, obj):
        return str(obj)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.status != CertificateStatus.ISSUED:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("portal:certificate-pdf", args=[obj.pk]),
            gettext("Download PDF"),
        )

    def has_add_permission(self, request):
        # Volunteers ask on the portal; staff issue in bulk from the list's button.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):  # pragma: no cover - every field is read-only
        raise PermissionDenied

    # Actions -------------------------------------------------------------------------------

    def _apply(self, request, queryset, call, *, done):
        done_count = 0
        for certificate in queryset.select_related("issuer"):
            try:
                call(certificate)
            except ValidationError as error:
                self.message_user(request, f"{certificate}: {_messages(error)}", messages.ERROR)
            except PermissionDenied as error:
                self.message_user(request, f"{certificate}: {error}", messages.ERROR)
            else:
                done_count += 1
        if done_count:
            self.message_user(request, done % {"count": done_count}, messages.SUCCESS)

    @admin.action(description=_("Issue the selected certificates"), permissions=["change"])
    def issue_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda c: services.certificate_issue(actor=request.user, certificate=c),
            done=gettext("%(count)s certificates issued."),
        )

    def _with_reason(self, request, queryset, *, action, title, service, done):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply(
                request,
                queryset,
                lambda c: service(actor=request.user, certificate=c, reason=reason),
                done=done,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "service_records/admin/certificate_reason.html", context)

    @admin.action(description=_("Refuse the selected requests…"), permissions=["change"])
    def reject_selected(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="reject_selected",
            title=gettext("Refuse certificate requests"),
            service=services.certificate_reject,
            done=gettext("%(count)s requests refused."),
        )

    @admin.action(description=_("Revoke the selected certificates…"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="revoke_selected",
            title=gettext("Revoke certificates"),
            service=services.certificate_revoke,
            done=gettext("%(count)s certificates revoked."),
        )

    # Bulk issue ----------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "bulk-issue/",
                self.admin_site.admin_view(self.bulk_issue_view),
                name="service_records_certificate_bulk_issue",
            ),
            *super().get_urls(),
        ]

    def bulk_issue_view(self, request):
        if not get_user_scope(request.user).can_manage_any:
            raise PermissionDenied
        form = BulkIssueForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                issued = services.certificate_bulk_issue(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("%(count)s certificates issued.") % {"count": len(issued)},
                    messages.SUCCESS,
                )
                return redirect("admin:service_records_certificate_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Issue certificates to a branch"),
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request, "service_records/admin/certificate_bulk_issue.html", context
        )


class IssuerProfileForm(forms.ModelForm):
    class Meta:
        model = IssuerProfile
        fields = ["organization", "person_in_charge", "contact", "seal_image"]

    def clean_seal_image(self):
        image = self.cleaned_data.get("seal_image")
        if image and getattr(image, "size", 0) > SEAL_MAX_BYTES:
            raise ValidationError(_("The seal image may be at most 2 MB."), code="seal_too_large")
        return image


@admin.register(IssuerProfile)
class IssuerProfileAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = IssuerProfileForm
    list_display = ["organization", "person_in_charge", "contact", "has_seal"]
    list_select_related = ["organization"]
    search_fields = ["organization__name", "person_in_charge"]

    @admin.display(description=_("seal image"), boolean=True)
    def has_seal(self, obj):
        return bool(obj.seal_image)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log(
                actor=request.user,
                action="issuer_profile.update" if change else "issuer_profile.create",
                target=obj,
                details={"fields": sorted(form.changed_data), "via": "admin"},
            )
