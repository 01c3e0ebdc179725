"""Writes with rules on the organisation tree, memberships and roles.

Each service checks the acting user's scope, validates, writes inside one transaction and
leaves an audit entry.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.scoping import forget_user_scope, get_user_scope
from apps.core.services import audit_log

from .models import Membership, OrganizationRole, PartyOrganization

ORGANIZATION_FIELDS = ("name", "short_name", "code", "kind", "parent", "contact_phone", "address")


def _require_manageable(*, actor, organization: PartyOrganization | None, message: str) -> None:
    scope = get_user_scope(actor)
    if scope.is_city_admin:
        return
    if organization is None or not any(organization.path.startswith(p) for p in scope.manage_paths):
        raise ValidationError(message, code="outside_scope")


def _full_clean(instance) -> None:
    instance.full_clean()


@transaction.atomic
def organization_save(*, actor, organization: PartyOrganization) -> PartyOrganization:
    """Create or change an organisation; a changed parent moves the whole subtree with it."""
    is_new = organization.pk is None
    previous_parent_id = None
    if not is_new:
        stored = PartyOrganization.objects.select_for_update().get(pk=organization.pk)
        previous_parent_id = stored.parent_id
        _require_manageable(
            actor=actor,
            organization=stored,
            message=_("You can only change organisations you manage."),
        )
    if is_new or previous_parent_id != organization.parent_id:
        _require_manageable(
            actor=actor,
            organization=organization.parent,
            message=_(
                "You can only place organisations under your own organisation or the "
                "organisations below it."
            ),
        )
    _full_clean(organization)
    organization.save()
    details = {field: str(getattr(organization, field) or "") for field in ORGANIZATION_FIELDS}
    if not is_new and previous_parent_id != organization.parent_id:
        details["moved_from_parent_id"] = previous_parent_id
    audit_log(
        actor=actor,
        action="organization.create" if is_new else "organization.update",
        target=organization,
        details=details,
    )
    return organization


@transaction.atomic
def membership_add(
    *,
    actor,
    user,
    organization: PartyOrganization,
    category: str,
    employment: str,
    joined_party_on: datetime.date | None = None,
    started_on: datetime.date | None = None,
) -> Membership:
    _require_manageable(
        actor=actor,
        organization=organization,
        message=_("You can only add members to organisations you manage."),
    )
    membership = Membership(
        user=user,
        organization=organization,
        category=category,
        employment=employment,
        joined_party_on=joined_party_on,
        started_on=started_on or timezone.localdate(),
    )
    _full_clean(membership)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:
        # A concurrent request added an active membership between the check and the insert.
        raise ValidationError(
            _(
                "This person already has an active party membership. End it (transfer out) "
                "before adding another."
            ),
            code="membership_active_exists",
        ) from exc
    audit_log(actor=actor, action="membership.add", target=membership)
    forget_user_scope(user)
    return membership


@transaction.atomic
def membership_end(
    *, actor, membership: Membership, ended_on: datetime.date | None = None, reason: str = ""
) -> Membership:
    _require_manageable(
        actor=actor,
        organization=membership.organization,
        message=_("You can only end memberships in organisations you manage."),
    )
    if membership.ended_on is not None:
        raise ValidationError(_("This membership has already ended."), code="already_ended")
    membership.ended_on = ended_on or timezone.localdate()
    membership.end_reason = reason
    _full_clean(membership)
    membership.save(update_fields=["ended_on", "end_reason"])
    audit_log(actor=actor, action="membership.end", target=membership, details={"reason": reason})
    return membership


@transaction.atomic
def organization_role_grant(
    *, actor, user, organization: PartyOrganization, kind: str
) -> OrganizationRole:
    """Give someone a role on an organisation; nobody grants beyond the subtree they manage."""
    _require_manageable(
        actor=actor,
        organization=organization,
        message=_(
            "You can only grant roles on your own organisation and the organisations below it."
        ),
    )
    role = OrganizationRole(user=user, organization=organization, kind=kind, granted_by=actor)
    _full_clean(role)
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("This person already holds this role here."), code="role_exists"
        ) from exc
    audit_log(
        actor=actor,
        action="organization_role.grant",
        target=role,
        details={"user_id": user.pk, "organization_id": organization.pk, "kind": kind},
    )
    forget_user_scope(user)
    return role


@transaction.atomic
def organization_role_end(*, actor, role: OrganizationRole) -> OrganizationRole:
    _require_manageable(
        actor=actor,
        organization=role.organization,
        message=_("You can only end roles on organisations you manage."),
    )
    if role.ended_on is not None:
        raise ValidationError(_("This role has already ended."), code="already_ended")
    role.ended_on = timezone.localdate()
    role.save(update_fields=["ended_on"])
    audit_log(actor=actor, action="organization_role.end", target=role)
    forget_user_scope(role.user)
    return role


def require_can_manage(*, actor, organization: PartyOrganization) -> None:
    """Raise 403 for a user who sees the organisation but may not change it."""
    scope = get_user_scope(actor)
    if scope.is_city_admin:
        return
    if not any(organization.path.startswith(p) for p in scope.manage_paths):
        raise PermissionDenied


@transaction.atomic
def membership_update(*, actor, membership: Membership) -> Membership:
    stored = Membership.objects.select_related("organization").get(pk=membership.pk)
    for organization in {stored.organization, membership.organization}:
        _require_manageable(
            actor=actor,
            organization=organization,
            message=_("You can only change memberships in organisations you manage."),
        )
    _full_clean(membership)
    membership.save()
    audit_log(actor=actor, action="membership.update", target=membership)
    forget_user_scope(membership.user)
    return membership
