from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ScopedAdminMixin
from apps.core.scoping import user_can_manage

from . import services
from .models import Membership, OrganizationRole, PartyOrganization
from .selectors import organization_list


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "category", "employment", "started_on", "ended_on"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("members")

    def get_queryset(self, request):
        return super().get_queryset(request).active().select_related("user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["indented_name", "code", "kind", "parent", "member_count", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "code"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    readonly_fields = ["path", "depth", "created_at", "updated_at"]
    inlines = [MembershipInline]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["name", "short_name", "code", "kind", "parent", "is_active"]}),
        (_("Contact"), {"fields": ["contact_phone", "address"]}),
        (_("Record"), {"fields": ["path", "depth", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        queryset = organization_list(user=request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Someone who manages only this subtree may edit its root but not move it elsewhere.
        if obj is not None and obj.parent_id and not user_can_manage(request.user, obj.parent):
            fields.append("parent")
        return fields

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return f"{'　' * (obj.depth - 1)}{obj.name}"

    @admin.display(description=_("members"), ordering="active_member_count")
    def member_count(self, obj):
        return obj.active_member_count

    def save_model(self, request, obj, form, change):
        services.organization_save(actor=request.user, organization=obj)


@admin.register(Membership)
class MembershipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    list_display = [
        "user",
        "organization",
        "category",
        "employment",
        "joined_party_on",
        "started_on",
        "ended_on",
    ]
    list_filter = ["category", "employment", ("ended_on", admin.EmptyFieldListFilter)]
    search_fields = ["user__real_name", "user__username", "user__phone", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]
    date_hierarchy = "started_on"

    def save_model(self, request, obj, form, change):
        if change:
            services.membership_update(actor=request.user, membership=obj)
        else:
            form.instance = services.membership_add(
                actor=request.user,
                user=obj.user,
                organization=obj.organization,
                category=obj.category,
                employment=obj.employment,
                joined_party_on=obj.joined_party_on,
                started_on=obj.started_on,
            )
            obj.pk = form.instance.pk


class OrganizationRoleForm(forms.ModelForm):
    class Meta:
        model = OrganizationRole
        fields = ["user", "organization", "kind", "started_on", "ended_on"]

    def __init__(self, *args, actor=None, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is not None and self.instance.pk is None:
            try:
                services._require_manageable(
                    actor=self.actor,
                    organization=organization,
                    message=_(
                        "You can only grant roles on your own organisation and the "
                        "organisations below it."
                    ),
                )
            except ValidationError as error:
                self.add_error("organization", error)
        return cleaned


@admin.register(OrganizationRole)
class OrganizationRoleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    form = OrganizationRoleForm
    list_display = ["organization", "kind", "user", "started_on", "ended_on", "granted_by"]
    list_filter = ["kind", ("ended_on", admin.EmptyFieldListFilter)]
    search_fields = ["user__real_name", "user__username", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization", "granted_by"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class ActorForm(form_class):
            def __init__(self, *args, **inner_kwargs):
                super().__init__(*args, actor=request.user, **inner_kwargs)

        return ActorForm

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["user", "organization", "kind", "started_on", "granted_by"]
        return ["granted_by"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Organisations the user can see are offered, so choosing one they only look at gets
        # a message saying why, rather than a bare "invalid choice".
        if db_field.name == "organization":
            kwargs["queryset"] = PartyOrganization.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            if obj.ended_on is not None:
                stored = OrganizationRole.objects.get(pk=obj.pk)
                if stored.ended_on is None:
                    services.organization_role_end(actor=request.user, role=stored)
            return
        role = services.organization_role_grant(
            actor=request.user, user=obj.user, organization=obj.organization, kind=obj.kind
        )
        obj.pk = role.pk
