"""Writes with rules on teams, their memberships and family groups.

Each service checks the acting user's reach, validates, writes inside one transaction and
leaves an audit entry. A team is managed by its leader and deputies and by the secretaries of
the organisations above it; its leader is appointed by the organisation alone.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.services import audit_log
from apps.organizations.models import PartyOrganization

from .models import (
    OPEN_STATUSES,
    FamilyGroup,
    Team,
    TeamMembership,
    TeamMembershipStatus,
    TeamRole,
)

#: Fields of a team that ``team_update`` changes; the owning organisation needs the org's reach.
TEAM_FIELDS = (
    "name",
    "kind",
    "brand_name",
    "description",
    "founded_on",
    "contact_phone",
    "organization",
)


def _manages_organization(actor, organization: PartyOrganization) -> bool:
    return PartyOrganization.objects.manageable_by(actor).filter(pk=organization.pk).exists()


def _require_organization(*, actor, organization: PartyOrganization | None, message: str) -> None:
    if organization is None or not _manages_organization(actor, organization):
        raise ValidationError(message, code="outside_scope")


def _require_team_manager(*, actor, team: Team) -> None:
    """The team's leader or a deputy, or a secretary of an organisation above the team."""
    if not Team.objects.manageable_by(actor).filter(pk=team.pk).exists():
        raise ValidationError(
            _("You can only manage the teams you lead or whose organisation you manage."),
            code="outside_scope",
        )


def _is_leader(user, team: Team) -> bool:
    return TeamMembership.objects.filter(
        team=team, user=user, status=TeamMembershipStatus.ACTIVE, role=TeamRole.LEADER
    ).exists()


def _require_leader_or_organization(*, actor, team: Team, message: str | None = None) -> None:
    if _is_leader(actor, team) or _manages_organization(actor, team.organization):
        return
    raise ValidationError(
        message
        or _("Only the team leader or the owning organisation can appoint or revoke deputies."),
        code="not_leader",
    )


def _require_active_volunteer(user, *, message: str) -> None:
    profile = getattr(user, "volunteer_profile", None)
    if profile is None or profile.status != "active":
        raise ValidationError(message, code="not_active_volunteer")


def _require_active_team(team: Team) -> None:
    if not team.is_active:
        raise ValidationError(
            _("This team is no longer active and does not take new members."),
            code="team_inactive",
        )


def _require_no_open_membership(*, team: Team, user, message: str) -> None:
    if TeamMembership.objects.filter(team=team, user=user, status__in=OPEN_STATUSES).exists():
        raise ValidationError(message, code="already_open")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give a reason."), code="reason_required")
    if len(reason) > 255:
        raise ValidationError(
            _("The reason can be at most 255 characters long."), code="reason_too_long"
        )
    return reason


def _require_status(membership: TeamMembership, status: str, message: str) -> None:
    if membership.status != status:
        raise ValidationError(message, code="wrong_status")


def _lock(membership: TeamMembership) -> TeamMembership:
    """Re-read the membership under a row lock, so two deciders cannot both decide."""
    return (
        TeamMembership.objects.select_for_update()
        .select_related("team", "team__organization", "user")
        .get(pk=membership.pk)
    )


def _save_new_membership(membership: TeamMembership, *, duplicate_message: str) -> None:
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:
        # Another request opened a membership between our check and the insert.
        raise ValidationError(duplicate_message, code="already_open") from exc


def _age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _full_clean_team(team: Team) -> None:
    team.full_clean(exclude=["service_categories"])


# --- Teams ------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    actor,
    organization: PartyOrganization,
    name: str,
    kind: str,
    service_categories: Iterable = (),
    brand_name: str = "",
    description: str = "",
    founded_on: datetime.date | None = None,
    contact_phone: str = "",
) -> Team:
    _require_organization(
        actor=actor,
        organization=organization,
        message=_("You can only create teams for organisations you manage."),
    )
    if not organization.is_active:
        raise ValidationError(
            _("This organisation is no longer active."), code="organization_inactive"
        )
    team = Team(
        organization=organization,
        name=(name or "").strip(),
        kind=kind,
        brand_name=brand_name,
        description=description,
        founded_on=founded_on or timezone.localdate(),
        contact_phone=contact_phone,
    )
    _full_clean_team(team)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("This organisation already has a team with this name."), code="team_name_taken"
        ) from exc
    team.service_categories.set(service_categories)
    audit_log(
        actor=actor,
        action="team.create",
        target=team,
        details={"organization_id": organization.pk, "name": team.name, "kind": kind},
    )
    return team


@transaction.atomic
def team_update(
    *, actor, team: Team, data: dict[str, Any], service_categories: Iterable | None = None
) -> Team:
    """Change a team's details. Its leader may edit it; moving it needs both organisations."""
    stored = Team.objects.select_for_update().select_related("organization").get(pk=team.pk)
    _require_team_manager(actor=actor, team=stored)
    unknown = set(data) - set(TEAM_FIELDS)
    if unknown:
        raise ValueError(f"team_update cannot change {sorted(unknown)}")
    new_organization = data.get("organization", stored.organization)
    if new_organization.pk != stored.organization_id:
        for organization in (stored.organization, new_organization):
            _require_organization(
                actor=actor,
                organization=organization,
                message=_("Only the organisations concerned can move a team to another one."),
            )
    changed = {}
    for field, value in data.items():
        if getattr(stored, field) != value:
            changed[field] = str(value)
        setattr(stored, field, value)
    if "name" in data:
        stored.name = (stored.name or "").strip()
    _full_clean_team(stored)
    try:
        with transaction.atomic():
            stored.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("This organisation already has a team with this name."), code="team_name_taken"
        ) from exc
    if service_categories is not None:
        stored.service_categories.set(service_categories)
        changed["service_categories"] = sorted(str(c.pk) for c in service_categories)
    audit_log(actor=actor, action="team.update", target=stored, details=changed)
    return stored


@transaction.atomic
def team_deactivate(*, actor, team: Team, reason: str = "") -> Team:
    """Stop a team: it leaves the directory, and its open applications and invitations end."""
    stored = Team.objects.select_for_update().select_related("organization").get(pk=team.pk)
    _require_organization(
        actor=actor,
        organization=stored.organization,
        message=_("Only the owning organisation can deactivate a team."),
    )
    if not stored.is_active:
        raise ValidationError(_("This team is already inactive."), code="team_inactive")
    stored.is_active = False
    stored.save(update_fields=["is_active"])
    closed = stored.memberships.filter(
        status__in=[TeamMembershipStatus.APPLIED, TeamMembershipStatus.INVITED]
    ).update(
        status=TeamMembershipStatus.DECLINED,
        decided_by=actor,
        decline_reason=(reason or _("The team was deactivated."))[:255],
    )
    audit_log(
        actor=actor,
        action="team.deactivate",
        target=stored,
        details={"reason": reason, "closed_requests": closed},
    )
    return stored


# --- Leaders and deputies ---------------------------------------------------------------


@transaction.atomic
def team_leader_appoint(*, actor, team: Team, user) -> TeamMembership:
    """The owning organisation appoints the leader; the previous leader stays as a member."""
    team = Team.objects.select_for_update().select_related("organization").get(pk=team.pk)
    _require_organization(
        actor=actor,
        organization=team.organization,
        message=_("Only the owning organisation can appoint a team's leader."),
    )
    _require_active_team(team)
    if not user.is_active:
        raise ValidationError(_("This account is disabled."), code="user_inactive")
    previous = (
        TeamMembership.objects.select_for_update()
        .filter(team=team, status=TeamMembershipStatus.ACTIVE, role=TeamRole.LEADER)
        .first()
    )
    if previous is not None and previous.user_id == user.pk:
        raise ValidationError(_("This person already leads the team."), code="already_leader")
    if previous is not None:
        previous.role = TeamRole.MEMBER
        previous.save(update_fields=["role"])
    membership = (
        TeamMembership.objects.select_for_update()
        .filter(team=team, user=user, status__in=OPEN_STATUSES)
        .first()
    )
    today = timezone.localdate()
    if membership is None:
        membership = TeamMembership(team=team, user=user, status=TeamMembershipStatus.ACTIVE)
    if membership.status != TeamMembershipStatus.ACTIVE:
        membership.status = TeamMembershipStatus.ACTIVE
    membership.joined_on = membership.joined_on or today
    membership.role = TeamRole.LEADER
    membership.decided_by = actor
    _save_new_membership(membership, duplicate_message=_("This team already has a leader."))
    audit_log(
        actor=actor,
        action="team.leader_appoint",
        target=membership,
        details={
            "team_id": team.pk,
            "user_id": user.pk,
            "previous_leader_id": previous.user_id if previous else None,
        },
    )
    return membership


@transaction.atomic
def team_deputy_appoint(*, actor, membership: TeamMembership) -> TeamMembership:
    membership = _lock(membership)
    _require_leader_or_organization(actor=actor, team=membership.team)
    _require_status(
        membership,
        TeamMembershipStatus.ACTIVE,
        _("Only an active member of the team can be a deputy leader."),
    )
    if membership.role != TeamRole.MEMBER:
        raise ValidationError(
            _("This person already leads or deputises for the team."), code="already_leading"
        )
    membership.role = TeamRole.DEPUTY
    membership.save(update_fields=["role"])
    audit_log(actor=actor, action="team.deputy_appoint", target=membership)
    return membership


@transaction.atomic
def team_deputy_revoke(*, actor, membership: TeamMembership) -> TeamMembership:
    membership = _lock(membership)
    _require_leader_or_organization(actor=actor, team=membership.team)
    if membership.status != TeamMembershipStatus.ACTIVE or membership.role != TeamRole.DEPUTY:
        raise ValidationError(
            _("This person is not a deputy leader of the team."), code="not_deputy"
        )
    membership.role = TeamRole.MEMBER
    membership.save(update_fields=["role"])
    audit_log(actor=actor, action="team.deputy_revoke", target=membership)
    return membership


# --- Joining: applications and invitations ---------------------------------------------


@transaction.atomic
def team_membership_apply(*, user, team: Team, message: str = "") -> TeamMembership:
    _require_active_volunteer(
        user,
        message=_(
            "Only registered volunteers whose registration has been approved can apply to "
            "join a team."
        ),
    )
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_active_team(team)
    duplicate = _("You already belong to this team or have a pending application or invitation.")
    _require_no_open_membership(team=team, user=user, message=duplicate)
    message = (message or "").strip()
    if len(message) > 255:
        raise ValidationError(
            _("The message can be at most 255 characters long."), code="message_too_long"
        )
    membership = TeamMembership(
        team=team, user=user, status=TeamMembershipStatus.APPLIED, message=message
    )
    _save_new_membership(membership, duplicate_message=duplicate)
    audit_log(actor=user, action="team_membership.apply", target=membership)
    return membership


@transaction.atomic
def team_membership_approve(*, actor, membership: TeamMembership) -> TeamMembership:
    membership = _lock(membership)
    _require_team_manager(actor=actor, team=membership.team)
    _require_status(
        membership, TeamMembershipStatus.APPLIED, _("This application is no longer pending.")
    )
    _require_active_team(membership.team)
    _require_active_volunteer(
        membership.user,
        message=_("The applicant's volunteer registration is not active any more."),
    )
    membership.status = TeamMembershipStatus.ACTIVE
    membership.joined_on = timezone.localdate()
    membership.decided_by = actor
    membership.save(update_fields=["status", "joined_on", "decided_by"])
    audit_log(actor=actor, action="team_membership.approve", target=membership)
    return membership


@transaction.atomic
def team_membership_decline(*, actor, membership: TeamMembership, reason: str) -> TeamMembership:
    membership = _lock(membership)
    _require_team_manager(actor=actor, team=membership.team)
    reason = _require_reason(reason)
    _require_status(
        membership, TeamMembershipStatus.APPLIED, _("This application is no longer pending.")
    )
    membership.status = TeamMembershipStatus.DECLINED
    membership.decline_reason = reason
    membership.decided_by = actor
    membership.save(update_fields=["status", "decline_reason", "decided_by"])
    audit_log(
        actor=actor,
        action="team_membership.decline",
        target=membership,
        details={"reason": reason},
    )
    return membership


@transaction.atomic
def team_membership_invite(*, actor, team: Team, user) -> TeamMembership:
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_team_manager(actor=actor, team=team)
    _require_active_team(team)
    _require_active_volunteer(
        user,
        message=_(
            "Only registered volunteers whose registration has been approved can be invited."
        ),
    )
    duplicate = _(
        "This person already belongs to this team or has a pending application or invitation."
    )
    _require_no_open_membership(team=team, user=user, message=duplicate)
    membership = TeamMembership(
        team=team, user=user, status=TeamMembershipStatus.INVITED, decided_by=actor
    )
    _save_new_membership(membership, duplicate_message=duplicate)
    audit_log(actor=actor, action="team_membership.invite", target=membership)
    return membership


def _require_own(user, membership: TeamMembership) -> None:
    if membership.user_id != user.pk:
        raise ValidationError(
            _("You can only answer your own invitations and memberships."), code="not_own"
        )


@transaction.atomic
def team_invitation_accept(*, user, membership: TeamMembership) -> TeamMembership:
    membership = _lock(membership)
    _require_own(user, membership)
    _require_status(
        membership, TeamMembershipStatus.INVITED, _("This invitation is no longer open.")
    )
    _require_active_team(membership.team)
    _require_active_volunteer(
        user, message=_("Your volunteer registration must be active to join a team.")
    )
    membership.status = TeamMembershipStatus.ACTIVE
    membership.joined_on = timezone.localdate()
    membership.save(update_fields=["status", "joined_on"])
    audit_log(actor=user, action="team_membership.accept", target=membership)
    return membership


@transaction.atomic
def team_invitation_decline(*, user, membership: TeamMembership) -> TeamMembership:
    membership = _lock(membership)
    _require_own(user, membership)
    _require_status(
        membership, TeamMembershipStatus.INVITED, _("This invitation is no longer open.")
    )
    membership.status = TeamMembershipStatus.DECLINED
    membership.save(update_fields=["status"])
    audit_log(actor=user, action="team_membership.decline_invitation", target=membership)
    return membership


# --- Leaving ------------------------------------------------------------------------------


def _require_not_leader(membership: TeamMembership, message: str) -> None:
    if membership.role == TeamRole.LEADER:
        raise ValidationError(message, code="leader_cannot_leave")


def _require_left_on(membership: TeamMembership, left_on: datetime.date) -> None:
    today = timezone.localdate()
    if left_on > today:
        raise ValidationError(_("The date of leaving cannot be in the future."), code="future")
    if membership.joined_on and left_on < membership.joined_on:
        raise ValidationError(
            _("The date of leaving cannot be before the date of joining."), code="before_joining"
        )


@transaction.atomic
def team_membership_leave(
    *, user, membership: TeamMembership, left_on: datetime.date | None = None
) -> TeamMembership:
    membership = _lock(membership)
    _require_own(user, membership)
    _require_status(
        membership, TeamMembershipStatus.ACTIVE, _("You are not an active member of this team.")
    )
    _require_not_leader(
        membership,
        _(
            "The team leader cannot leave the team. Ask the owning organisation to appoint "
            "another leader first."
        ),
    )
    left_on = left_on or timezone.localdate()
    _require_left_on(membership, left_on)
    membership.status = TeamMembershipStatus.LEFT
    membership.left_on = left_on
    membership.save(update_fields=["status", "left_on"])
    audit_log(
        actor=user,
        action="team_membership.leave",
        target=membership,
        details={"left_on": left_on.isoformat()},
    )
    return membership


@transaction.atomic
def team_membership_remove(*, actor, membership: TeamMembership, reason: str) -> TeamMembership:
    membership = _lock(membership)
    _require_team_manager(actor=actor, team=membership.team)
    reason = _require_reason(reason)
    _require_status(
        membership, TeamMembershipStatus.ACTIVE, _("This person is not an active member.")
    )
    _require_not_leader(
        membership,
        _("The team leader cannot be removed. Appoint another leader first."),
    )
    if membership.user_id == actor.pk:
        raise ValidationError(
            _("You cannot remove yourself; leave the team instead."), code="remove_self"
        )
    if membership.role == TeamRole.DEPUTY:
        _require_leader_or_organization(
            actor=actor,
            team=membership.team,
            message=_("Only the team leader or the owning organisation can remove a deputy."),
        )
    membership.status = TeamMembershipStatus.LEFT
    membership.left_on = timezone.localdate()
    membership.decline_reason = reason
    membership.decided_by = actor
    membership.save(update_fields=["status", "left_on", "decline_reason", "decided_by"])
    audit_log(
        actor=actor,
        action="team_membership.remove",
        target=membership,
        details={"reason": reason},
    )
    return membership


# --- Family groups ---------------------------------------------------------------------------


def _active_membership(team: Team, user) -> TeamMembership | None:
    return TeamMembership.objects.filter(
        team=team, user=user, status=TeamMembershipStatus.ACTIVE
    ).first()


def _clean_family_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Please give the family a name."), code="name_required")
    if len(name) > 64:
        raise ValidationError(
            _("The family name can be at most 64 characters long."), code="name_too_long"
        )
    return name


def family_group_check(*, actor, team: Team, head) -> TeamMembership:
    """Whether ``actor`` may start a family group in ``team`` headed by ``head``."""
    _require_team_manager(actor=actor, team=team)
    _require_active_team(team)
    head_membership = _active_membership(team, head)
    if head_membership is None:
        raise ValidationError(
            _("The head of the family must be an active member of the team."),
            code="head_not_member",
        )
    if head_membership.family_group_id is not None:
        raise ValidationError(
            _("This person already belongs to a family group in this team."),
            code="already_in_family",
        )
    return head_membership


@transaction.atomic
def family_group_create(*, actor, team: Team, name: str, head) -> FamilyGroup:
    name = _clean_family_name(name)
    head_membership = family_group_check(actor=actor, team=team, head=head)
    group = FamilyGroup.objects.create(team=team, name=name, head=head)
    head_membership.family_group = group
    head_membership.save(update_fields=["family_group"])
    audit_log(
        actor=actor,
        action="family_group.create",
        target=group,
        details={"team_id": team.pk, "head_id": head.pk},
    )
    return group


@transaction.atomic
def family_group_rename(*, actor, group: FamilyGroup, name: str) -> FamilyGroup:
    _require_team_manager(actor=actor, team=group.team)
    group.name = _clean_family_name(name)
    group.save(update_fields=["name"])
    audit_log(actor=actor, action="family_group.rename", target=group, details={"name": name})
    return group


@transaction.atomic
def family_member_add(*, actor, group: FamilyGroup, user, guardian=None) -> TeamMembership:
    """Put a team member into a family group; a young child needs a guardian in the team."""
    team = group.team
    _require_team_manager(actor=actor, team=team)
    membership = _active_membership(team, user)
    if membership is None:
        raise ValidationError(
            _("Only active members of the team can be added to one of its family groups."),
            code="not_member",
        )
    if membership.family_group_id is not None:
        raise ValidationError(
            _("This person already belongs to a family group in this team."),
            code="already_in_family",
        )
    profile = getattr(user, "volunteer_profile", None)
    below = settings.VOLUNTEER_GUARDIAN_PRESENT_BELOW_AGE
    is_young = profile is not None and _age_on(profile.birth_date, timezone.localdate()) < below
    if guardian is not None:
        if guardian.pk == user.pk:
            raise ValidationError(
                _("A volunteer cannot be their own guardian."), code="guardian_self"
            )
        if _active_membership(team, guardian) is None:
            raise ValidationError(
                _("The guardian must be an active member of the same team."),
                code="guardian_not_member",
            )
    elif is_young:
        raise ValidationError(
            _(
                "Volunteers younger than %(age)d must serve with a guardian who is an active "
                "member of the same team."
            )
            % {"age": below},
            code="guardian_required",
        )
    membership.family_group = group
    membership.guardian = guardian
    membership.save(update_fields=["family_group", "guardian"])
    audit_log(
        actor=actor,
        action="family_group.add_member",
        target=membership,
        details={
            "family_group_id": group.pk,
            "guardian_id": guardian.pk if guardian else None,
        },
    )
    return membership
