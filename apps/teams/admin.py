from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.admin import ScopedAdminMixin

from . import services
from .models import FamilyGroup, Team, TeamMembership, TeamMembershipStatus
from .selectors import team_list


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    fields = ["user", "role", "status", "joined_on", "family_group", "guardian"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("members")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .active()
            .select_related("user", "family_group", "guardian")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Team)
class TeamAdmin(ScopedAdminMixin, admin.ModelAdmin):
    delete_needs_city_admin = True
    list_display = [
        "name",
        "organization",
        "kind",
        "brand_name",
        "member_count",
        "pairing_count",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "brand_name", "organization__name"]
    autocomplete_fields = ["organization"]
    filter_horizontal = ["service_categories"]
    list_select_related = ["organization"]
    readonly_fields = ["is_active", "created_at"]
    inlines = [TeamMembershipInline]
    fieldsets = [
        (None, {"fields": ["organization", "name", "kind", "brand_name", "is_active"]}),
        (
            _("Details"),
            {"fields": ["service_categories", "description", "founded_on", "contact_phone"]},
        ),
        (_("Record"), {"fields": ["created_at"]}),
    ]

    def get_queryset(self, request):
        queryset = team_list(user=request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    @admin.display(description=_("members"), ordering="active_member_count")
    def member_count(self, obj):
        return obj.active_member_count

    @admin.display(description=_("pairings"), ordering="pairing_count")
    def pairing_count(self, obj):
        return obj.pairing_count

    def save_model(self, request, obj, form, change):
        data = {
            field: form.cleaned_data[field]
            for field in services.TEAM_FIELDS
            if field in form.cleaned_data
        }
        categories = form.cleaned_data.get("service_categories")
        if change:
            services.team_update(
                actor=request.user, team=obj, data=data, service_categories=categories
            )
        else:
            team = services.team_create(
                actor=request.user, service_categories=categories or (), **data
            )
            obj.pk = team.pk
            form.instance = team

    def save_related(self, request, form, formsets, change):
        # The categories were saved by the service; the members inline is read only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Deactivate the selected teams"))
    def deactivate(self, request, queryset):
        for team in queryset.filter(is_active=True):
            services.team_deactivate(actor=request.user, team=team)

    actions = ["deactivate"]


@admin.register(TeamMembership)
class TeamMembershipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Memberships change through the portal's workflows; here they are looked at and decided."""

    delete_needs_city_admin = True
    list_display = ["team", "user", "role", "status", "created_at", "joined_on", "left_on"]
    list_filter = ["status", "role"]
    search_fields = ["user__real_name", "user__username", "user__phone", "team__name"]
    list_select_related = ["team", "user"]
    readonly_fields = [
        "team",
        "user",
        "role",
        "status",
        "message",
        "created_at",
        "decided_by",
        "joined_on",
        "left_on",
        "decline_reason",
        "family_group",
        "guardian",
    ]
    actions = ["approve"]

    def has_add_permission(self, request):
        # Joining happens by application or invitation on the portal.
        return False

    @admin.action(description=_("Approve the selected applications"))
    def approve(self, request, queryset):
        for membership in queryset.filter(status=TeamMembershipStatus.APPLIED):
            services.team_membership_approve(actor=request.user, membership=membership)

    def save_model(self, request, obj, form, change):  # pragma: no cover - every field is read only
        pass


class FamilyGroupForm(forms.ModelForm):
    class Meta:
        model = FamilyGroup
        fields = ["team", "name", "head"]

    def __init__(self, *args, actor=None, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("team") and cleaned.get("head"):
            try:
                services.family_group_check(
                    actor=self.actor, team=cleaned["team"], head=cleaned["head"]
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(FamilyGroup)
class FamilyGroupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = FamilyGroupForm
    list_display = ["name", "team", "head"]
    search_fields = ["name", "team__name", "head__real_name"]
    list_select_related = ["team", "head"]
    autocomplete_fields = ["team"]

    def get_readonly_fields(self, request, obj=None):
        return ["team", "head"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "head":
            # The head is an active member of a team the user manages (the service checks which).
            kwargs["queryset"] = User.objects.filter(
                team_memberships__status=TeamMembershipStatus.ACTIVE,
                team_memberships__team__in=Team.objects.manageable_by(request.user).values("pk"),
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class ActorForm(form_class):
            def __init__(self, *args, **inner_kwargs):
                super().__init__(*args, actor=request.user, **inner_kwargs)

        return ActorForm

    def save_model(self, request, obj, form, change):
        if change:
            services.family_group_rename(actor=request.user, group=obj, name=obj.name)
            return
        group = services.family_group_create(
            actor=request.user, team=obj.team, name=obj.name, head=obj.head
        )
        obj.pk = group.pk
        form.instance = group
