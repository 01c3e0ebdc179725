from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin

from . import services
from .models import (
    Community,
    CommunityStaff,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ServicePoint,
    TeamPairing,
)


def _run_for_each(modeladmin, request, queryset, call, done_message):
    """Apply a service to each selected row the user may manage; report refusals one by one."""
    done = 0
    for obj in queryset.manageable_by(request.user):
        try:
            call(obj)
        except ValidationError as error:
            modeladmin.message_user(request, f"{obj}: {'; '.join(error.messages)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


class ServiceSavedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Saves go through the app's services; a refusal shows as a form error, nothing saved."""

    def save_form_through_service(self, request, form, obj, change):  # pragma: no cover
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        admin_ = self

        class ServiceForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                if self.errors:
                    return
                try:
                    admin_.validate_through_service(request, self, self.instance, change)
                except ValidationError as error:
                    self.add_error(None, error)

        return ServiceForm

    def validate_through_service(self, request, form, obj, change):
        """Run the service inside a savepoint that is rolled back: refusals become form errors."""
        from django.db import transaction

        class _Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                self.save_through_service(request, form, obj, change, dry_run=True)
                raise _Rollback
        except _Rollback:
            pass

    def save_model(self, request, obj, form, change):
        self.save_through_service(request, form, obj, change, dry_run=False)

    def save_through_service(self, request, form, obj, change, *, dry_run):
        raise NotImplementedError


def _fields(form, names):
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


@admin.register(Community)
class CommunityAdmin(ServiceSavedAdmin):
    list_display = ["name", "kind", "district", "street", "organization", "is_active"]
    list_filter = ["kind", "is_active", "district"]
    search_fields = ["name", "district", "street", "address"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request, obj)
        return Community.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    def save_through_service(self, request, form, obj, change, *, dry_run):
        data = _fields(form, services.COMMUNITY_FIELDS)
        if change:
            saved = services.community_update(actor=request.user, community=obj, **data)
        else:
            data.pop("is_active", None)
            saved = services.community_create(actor=request.user, **data)
        if not dry_run:
            obj.pk = saved.pk
        elif not change:
            obj.pk = None


@admin.register(CommunityStaff)
class CommunityStaffAdmin(ServiceSavedAdmin):
    delete_needs_city_admin = True
    list_display = ["community", "user", "started_on", "ended_on"]
    list_filter = [("ended_on", admin.EmptyFieldListFilter)]
    search_fields = ["user__real_name", "user__username", "community__name"]
    autocomplete_fields = ["user", "community"]
    list_select_related = ["user", "community"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "community", "started_on"] if obj is not None else ["ended_on"]

    def save_through_service(self, request, form, obj, change, *, dry_run):
        if change:
            stored = CommunityStaff.objects.get(pk=obj.pk)
            if obj.ended_on is not None and stored.ended_on is None:
                services.community_staff_end(
                    actor=request.user, staff=stored, ended_on=obj.ended_on
                )
            return
        saved = services.community_staff_appoint(
            actor=request.user, community=obj.community, user=obj.user, started_on=obj.started_on
        )
        obj.pk = None if dry_run else saved.pk


@admin.register(ServicePoint)
class ServicePointAdmin(ServiceSavedAdmin):
    list_display = ["name", "kind", "venue_type", "community", "opening_hours", "is_active"]
    list_filter = ["kind", "venue_type", "is_active"]
    search_fields = ["name", "address", "community__name"]
    autocomplete_fields = ["community"]
    list_select_related = ["community"]
    filter_horizontal = ["service_categories"]

    def get_readonly_fields(self, request, obj=None):
        return ["community"] if obj is not None else []

    def save_through_service(self, request, form, obj, change, *, dry_run):
        data = _fields(form, services.SERVICE_POINT_FIELDS)
        if change:
            services.service_point_update(actor=request.user, service_point=obj, **data)
            return
        saved = services.service_point_create(actor=request.user, community=obj.community, **data)
        obj.pk = None if dry_run else saved.pk


@admin.register(TeamPairing)
class TeamPairingAdmin(ServiceSavedAdmin):
    list_display = ["team", "community", "started_on", "ended_on", "created_by"]
    list_filter = [("ended_on", admin.EmptyFieldListFilter)]
    search_fields = ["team__name", "community__name"]
    autocomplete_fields = ["team", "community"]
    list_select_related = ["team", "community", "created_by"]
    date_hierarchy = "started_on"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["team", "community", "started_on", "agreement_note", "created_by"]
        return ["ended_on", "created_by"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            # Any active community may be paired with; the service explains inactive ones.
            kwargs["queryset"] = Community.objects.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_through_service(self, request, form, obj, change, *, dry_run):
        if change:
            stored = TeamPairing.objects.get(pk=obj.pk)
            if obj.ended_on is not None and stored.ended_on is None:
                services.team_pairing_end(actor=request.user, pairing=stored, ended_on=obj.ended_on)
            return
        saved = services.team_pairing_create(
            actor=request.user,
            team=obj.team,
            community=obj.community,
            started_on=obj.started_on,
            agreement_note=obj.agreement_note,
        )
        obj.pk = None if dry_run else saved.pk


class WorkflowAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Rows members create on the portal; staff decide through the actions, never by editing."""

    delete_needs_city_admin = True

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_change_permission(self, request, obj=None):
        # The change page is read-only; decisions are made with the list's actions.
        return super().has_change_permission(request, obj) if obj is None else False

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj)


@admin.register(ResidenceReport)
class ResidenceReportAdmin(WorkflowAdmin):
    list_display = ["number", "user", "community", "status", "submitted_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["number", "user__real_name", "user__username", "community__name"]
    list_select_related = ["user", "community", "reviewed_by"]
    date_hierarchy = "submitted_at"
    actions = ["confirm_reports"]
    # The home address is shown on the change page only, never in the list.
    fields = [
        "number",
        "user",
        "community",
        "home_address",
        "skills_offered",
        "status",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "return_reason",
        "ended_on",
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.action(description=_("Confirm the selected reports"))
    def confirm_reports(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            lambda report: services.residence_report_confirm(actor=request.user, report=report),
            _("%(count)d reports confirmed."),
        )


@admin.register(Post)
class PostAdmin(ServiceSavedAdmin):
    list_display = ["title", "community", "slots", "starts_on", "ends_on", "is_published"]
    list_filter = ["is_published", "service_category"]
    search_fields = ["title", "community__name"]
    autocomplete_fields = ["community"]
    list_select_related = ["community"]
    actions = ["close_posts"]

    def get_readonly_fields(self, request, obj=None):
        return ["community", "is_published"] if obj is not None else ["is_published"]

    def save_through_service(self, request, form, obj, change, *, dry_run):
        data = _fields(form, services.POST_FIELDS)
        if change:
            services.post_update(actor=request.user, post=obj, **data)
            return
        saved = services.post_publish(actor=request.user, community=obj.community, **data)
        obj.pk = None if dry_run else saved.pk

    @admin.action(description=_("Close the selected posts"))
    def close_posts(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            lambda post: services.post_close(actor=request.user, post=post),
            _("%(count)d posts closed."),
        )


@admin.register(PostClaim)
class PostClaimAdmin(WorkflowAdmin):
    list_display = ["post", "user", "status", "created_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["post__title", "user__real_name", "user__username"]
    list_select_related = ["post", "user", "reviewed_by"]
    actions = ["approve_claims"]

    @admin.action(description=_("Approve the selected claims"))
    def approve_claims(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            lambda claim: services.post_claim_approve(actor=request.user, claim=claim),
            _("%(count)d claims approved."),
        )


@admin.register(Pledge)
class PledgeAdmin(WorkflowAdmin):
    list_display = ["year", "user", "community", "target", "status", "confirmed_by"]
    list_filter = ["status", "year"]
    search_fields = ["user__real_name", "user__username", "community__name", "content"]
    list_select_related = ["user", "community", "confirmed_by"]
    actions = ["confirm_pledges"]

    @admin.action(description=_("Confirm the selected pledges as kept"))
    def confirm_pledges(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            lambda pledge: services.pledge_confirm(actor=request.user, pledge=pledge),
            _("%(count)d pledges confirmed as kept."),
        )
