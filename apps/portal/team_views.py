"""The portal's team pages: the directory, a team's page, my teams, and the leader's desk.

Every write goes through ``apps.teams.services``; a refused write re-renders its page with the
service's message (status 200), a successful one redirects.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import ServiceCategory, User
from apps.accounts.validators import normalize_phone
from apps.communities.models import TeamPairing
from apps.core.scoping import get_object_for_user, user_can_manage
from apps.teams import selectors, services
from apps.teams.models import (
    FamilyGroup,
    Team,
    TeamMembership,
    TeamMembershipStatus,
    TeamRole,
)

PAGE_SIZE = 20


# --- Forms ------------------------------------------------------------------------------------


class ApplyForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("A few words to the team leader"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255)


class LeaveForm(forms.Form):
    left_on = forms.DateField(
        label=gettext_lazy("Date of leaving"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class InviteForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Mobile number of the volunteer"), max_length=32)

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data["phone"])
        user = User.objects.filter(phone=phone, is_active=True).first()
        if user is None:
            raise ValidationError(
                _("Nobody is registered with this mobile number."), code="unknown_phone"
            )
        return user


def _member_users(team):
    return User.objects.filter(
        team_memberships__team=team, team_memberships__status=TeamMembershipStatus.ACTIVE
    ).order_by("real_name")


class FamilyGroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Family name"), max_length=64)
    head = forms.ModelChoiceField(
        label=gettext_lazy("Head of the family"), queryset=User.objects.none()
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["head"].queryset = _member_users(team)


class FamilyMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("Member"), queryset=User.objects.none())
    guardian = forms.ModelChoiceField(
        label=gettext_lazy("Guardian"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("Required for young children: an adult member of the team."),
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _member_users(team)
        self.fields["guardian"].queryset = _member_users(team)


def _add_service_error(form, error: ValidationError) -> None:
    form.add_error(None, error)


# --- Directory and team page ---------------------------------------------------------------


@require_GET
def team_list(request):
    search = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    teams = selectors.team_directory(search=search, category=category)
    page = Paginator(teams, PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "portal/teams/fragments/team_cards.html" if request.htmx else "portal/teams/list.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "search": search,
            "category": category,
            "categories": ServiceCategory.objects.filter(is_active=True),
        },
    )


def _public_team(request, pk):
    try:
        return selectors.team_detail(user=request.user, pk=pk)
    except Team.DoesNotExist:
        raise Http404 from None


def _detail_context(request, team, apply_form=None):
    pairings = (
        TeamPairing.objects.active()
        .filter(team=team)
        .select_related("community")
        .order_by("community__name")
    )
    own = (
        TeamMembership.objects.filter(
            team=team,
            user=request.user,
            status__in=[
                TeamMembershipStatus.ACTIVE,
                TeamMembershipStatus.APPLIED,
                TeamMembershipStatus.INVITED,
            ],
        )
        .order_by("-pk")
        .first()
    )
    return {
        "team": team,
        "leaders": selectors.team_leaders(team=team),
        "pairings": pairings,
        "own_membership": own,
        "apply_form": apply_form or ApplyForm(),
        "can_manage": user_can_manage(request.user, team)
        or selectors.user_can_view_team_admin(user=request.user, team=team),
    }


@require_GET
def team_detail(request, pk):
    team = _public_team(request, pk)
    return render(request, "portal/teams/detail.html", _detail_context(request, team))


@require_POST
def team_apply(request, pk):
    team = _public_team(request, pk)
    form = ApplyForm(request.POST)
    if form.is_valid():
        try:
            services.team_membership_apply(
                user=request.user, team=team, message=form.cleaned_data["message"]
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            messages.success(request, _("Your application has been sent to the team leader."))
            return redirect("portal:my-teams")
    return render(
        request, "portal/teams/detail.html", _detail_context(request, team, apply_form=form)
    )


# --- My teams ---------------------------------------------------------------------------------


def _my_teams_context(request, error=None):
    return {"memberships": selectors.volunteer_teams(user=request.user), "error": error}


@require_GET
def my_teams(request):
    return render(request, "portal/teams/my_teams.html", _my_teams_context(request))


def _own_membership(request, pk) -> TeamMembership:
    membership = get_object_for_user(
        TeamMembership.objects.select_related("team"), request.user, pk=pk
    )
    if membership.user_id != request.user.pk:
        raise PermissionDenied
    return membership


def _self_action(request, pk, service, success_message, **kwargs):
    membership = _own_membership(request, pk)
    try:
        service(user=request.user, membership=membership, **kwargs)
    except ValidationError as error:
        return render(
            request,
            "portal/teams/my_teams.html",
            _my_teams_context(request, error=" ".join(error.messages)),
        )
    messages.success(request, success_message)
    return redirect("portal:my-teams")


@require_POST
def invitation_accept(request, pk):
    return _self_action(request, pk, services.team_invitation_accept, _("Welcome to the team!"))


@require_POST
def invitation_decline(request, pk):
    return _self_action(
        request, pk, services.team_invitation_decline, _("You declined the invitation.")
    )


@require_POST
def membership_leave(request, pk):
    membership = _own_membership(request, pk)
    form = LeaveForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "portal/teams/my_teams.html",
            _my_teams_context(request, error=" ".join(form.errors["left_on"])),
        )
    return _self_action(
        request,
        membership.pk,
        services.team_membership_leave,
        _("You have left the team."),
        left_on=form.cleaned_data["left_on"],
    )


# --- The leader's desk ---------------------------------------------------------------------


def _manage_team(request, pk, *, change: bool) -> Team:
    """404 outside scope; 403 for members and for read-only roles that try to change."""
    team = get_object_for_user(Team.objects.select_related("organization"), request.user, pk=pk)
    can_change = user_can_manage(request.user, team)
    if change and not can_change:
        raise PermissionDenied
    if not can_change and not selectors.user_can_view_team_admin(user=request.user, team=team):
        raise PermissionDenied
    team.can_change = can_change
    return team


def _manage_context(request, team, **forms_):
    roster = list(selectors.team_roster(team=team))
    is_leader = any(m.user_id == request.user.pk and m.role == TeamRole.LEADER for m in roster)
    return {
        "team": team,
        "can_change": team.can_change,
        "can_appoint": team.can_change
        and (is_leader or services._manages_organization(request.user, team.organization)),
        "roster": roster,
        "applications": selectors.team_pending_applications(team=team),
        "invitations": selectors.team_open_invitations(team=team),
        "family_groups": selectors.team_family_groups(team=team),
        "decline_form": forms_.get("decline_form") or ReasonForm(),
        "remove_form": forms_.get("remove_form") or ReasonForm(),
        "invite_form": forms_.get("invite_form") or InviteForm(),
        "family_group_form": forms_.get("family_group_form") or FamilyGroupForm(team=team),
        "family_member_form": forms_.get("family_member_form") or FamilyMemberForm(team=team),
        "failed_membership": forms_.get("failed_membership"),
        "error": forms_.get("error"),
    }


def _render_manage(request, team, **forms_):
    return render(request, "portal/teams/manage.html", _manage_context(request, team, **forms_))


@require_GET
def team_manage(request, pk):
    team = _manage_team(request, pk, change=False)
    return _render_manage(request, team)


def _done(request, team, message):
    messages.success(request, message)
    return redirect("portal:team-manage", pk=team.pk)


@require_POST
def team_invite(request, pk):
    team = _manage_team(request, pk, change=True)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.team_membership_invite(
                actor=request.user, team=team, user=form.cleaned_data["phone"]
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            return _done(request, team, _("The invitation has been sent."))
    return _render_manage(request, team, invite_form=form)


@require_POST
def family_group_create(request, pk):
    team = _manage_team(request, pk, change=True)
    form = FamilyGroupForm(request.POST, team=team)
    if form.is_valid():
        try:
            services.family_group_create(
                actor=request.user,
                team=team,
                name=form.cleaned_data["name"],
                head=form.cleaned_data["head"],
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            return _done(request, team, _("The family group has been created."))
    return _render_manage(request, team, family_group_form=form)


@require_POST
def family_member_add(request, pk):
    group = get_object_for_user(
        FamilyGroup.objects.select_related("team"), request.user, change=True, pk=pk
    )
    team = _manage_team(request, group.team_id, change=True)
    form = FamilyMemberForm(request.POST, team=team)
    if form.is_valid():
        try:
            services.family_member_add(
                actor=request.user,
                group=group,
                user=form.cleaned_data["user"],
                guardian=form.cleaned_data["guardian"],
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            return _done(request, team, _("The member has joined the family group."))
    return _render_manage(request, team, family_member_form=form)


def _managed_membership(request, pk) -> tuple[TeamMembership, Team]:
    membership = get_object_for_user(
        TeamMembership.objects.select_related("team", "user"), request.user, change=True, pk=pk
    )
    return membership, _manage_team(request, membership.team_id, change=True)


def _manager_action(request, pk, call, success_message, *, form_name=None):
    membership, team = _managed_membership(request, pk)
    form = ReasonForm(request.POST) if form_name else None
    if form is not None and not form.is_valid():
        return _render_manage(
            request, team, **{form_name: form, "failed_membership": membership.pk}
        )
    try:
        call(membership, form.cleaned_data["reason"] if form is not None else None)
    except ValidationError as error:
        if form is None:
            return _render_manage(request, team, error=" ".join(error.messages))
        _add_service_error(form, error)
        return _render_manage(
            request, team, **{form_name: form, "failed_membership": membership.pk}
        )
    return _done(request, team, success_message)


@require_POST
def membership_approve(request, pk):
    return _manager_action(
        request,
        pk,
        lambda m, _r: services.team_membership_approve(actor=request.user, membership=m),
        _("The application has been approved."),
    )


@require_POST
def membership_decline(request, pk):
    return _manager_action(
        request,
        pk,
        lambda m, r: services.team_membership_decline(actor=request.user, membership=m, reason=r),
        _("The application has been declined."),
        form_name="decline_form",
    )


@require_POST
def membership_remove(request, pk):
    return _manager_action(
        request,
        pk,
        lambda m, r: services.team_membership_remove(actor=request.user, membership=m, reason=r),
        _("The member has been removed from the team."),
        form_name="remove_form",
    )


@require_POST
def deputy_appoint(request, pk):
    return _manager_action(
        request,
        pk,
        lambda m, _r: services.team_deputy_appoint(actor=request.user, membership=m),
        _("The deputy leader has been appointed."),
    )


@require_POST
def deputy_revoke(request, pk):
    return _manager_action(
        request,
        pk,
        lambda m, _r: services.team_deputy_revoke(actor=request.user, membership=m),
        _("The deputy leader is a member again."),
    )
