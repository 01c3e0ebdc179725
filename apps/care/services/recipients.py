"""Writes with rules on households (四清), their pairings with volunteers and visits.

Every write checks the actor, validates, runs in one transaction and leaves an audit entry;
so does every whole view or export of a household's personal fields.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import VolunteerProfile, VolunteerStatus
from apps.communities.models import Community, CommunityStaff
from apps.core.scoping import get_user_scope, user_can_manage
from apps.core.services import audit_log

from ..models import CareCategory, CareRecipient, RecipientPairing, Visit, VisitKind
from ..selectors.recipients import sensitive_fields_for

__all__ = [
    "FACTS",
    "care_recipient_create",
    "care_recipient_deactivate",
    "care_recipient_reveal",
    "care_recipient_update",
    "care_recipient_verify_fact",
    "care_sensitive_export_log",
    "recipient_pairing_create",
    "recipient_pairing_end",
    "recipient_pairing_handover",
    "visit_record",
]

#: fact name → the field holding the date it was last verified
FACTS = dict(CareRecipient.FOUR_FACTS)
_VERIFIED_FIELDS = tuple(FACTS.values())
_EDITABLE = (
    "name",
    "family_situation",
    "health",
    "address",
    "contact",
    "correction_status",
    *_VERIFIED_FIELDS,
)


def _require_manages(*, actor, obj, message: str) -> None:
    if not user_can_manage(actor, obj):
        raise PermissionDenied(message)


def _check_verified_dates(values: dict) -> None:
    today = timezone.localdate()
    errors = {
        field: ValidationError(
            _("A fact cannot be verified on a date in the future."), code="verified_in_future"
        )
        for field in _VERIFIED_FIELDS
        if values.get(field) is not None and values[field] > today
    }
    if errors:
        raise ValidationError(errors)


def _check_community(*, actor, community: Community) -> None:
    if not Community.objects.manageable_by(actor).filter(pk=community.pk).exists():
        raise ValidationError(
            {
                "community": ValidationError(
                    _("You can only add households to communities you work for."),
                    code="outside_scope",
                )
            }
        )


def _may_see_correction(*, actor, community: Community) -> bool:
    return (
        get_user_scope(actor).is_city_admin
        or CommunityStaff.objects.active().filter(user=actor, community=community).exists()
    )


def _clean_name(values: dict) -> None:
    if "name" in values and not (values["name"] or "").strip():
        raise ValidationError(
            {"name": ValidationError(_("Enter the name of the person."), code="required")}
        )


@transaction.atomic
def care_recipient_create(
    *,
    actor,
    community: Community,
    name: str,
    categories: list[CareCategory] | tuple = (),
    family_situation: str = "",
    family_verified_on: datetime.date | None = None,
    health: str = "",
    health_verified_on: datetime.date | None = None,
    address: str = "",
    address_verified_on: datetime.date | None = None,
    contact: str = "",
    contact_verified_on: datetime.date | None = None,
    correction_status: str = "",
) -> CareRecipient:
    """Add a household; the community's staff and the organisations above it may."""
    values = {
        "name": name,
        "family_situation": family_situation,
        "family_verified_on": family_verified_on,
        "health": health,
        "health_verified_on": health_verified_on,
        "address": address,
        "address_verified_on": address_verified_on,
        "contact": contact,
        "contact_verified_on": contact_verified_on,
        "correction_status": correction_status,
    }
    _check_community(actor=actor, community=community)
    if correction_status and not _may_see_correction(actor=actor, community=community):
        raise ValidationError(
            {
                "correction_status": ValidationError(
                    _("Only the community's staff and the city's staff may change this."),
                    code="not_entitled",
                )
            }
        )
    _clean_name(values)
    _check_verified_dates(values)
    recipient = CareRecipient(community=community, created_by=actor, **values)
    recipient.name = recipient.name.strip()
    recipient.full_clean()
    recipient.save()
    recipient.categories.set(categories)
    # Only which facts were given is logged, never their values.
    audit_log(
        actor=actor,
        action="care.recipient_create",
        target=recipient,
        details={"community_id": community.pk, "facts": sorted(f for f in FACTS if values[f])},
    )
    return recipient


@transaction.atomic
def care_recipient_update(
    *, actor, recipient: CareRecipient, categories=None, community=None, **changes
) -> CareRecipient:
    """Change a household's facts (only fields named in ``changes``)."""
    _require_manages(
        actor=actor, obj=recipient, message=_("You can only change households you manage.")
    )
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if "correction_status" in changes and "correction_status" not in sensitive_fields_for(
        user=actor, recipient=recipient
    ):
        raise ValidationError(
            {
                "correction_status": ValidationError(
                    _("Only the community's staff and the city's staff may change this."),
                    code="not_entitled",
                )
            }
        )
    if community is not None and community.pk != recipient.community_id:
        _check_community(actor=actor, community=community)
        recipient.community = community
        changes["community_id"] = community.pk
    _clean_name(changes)
    _check_verified_dates(changes)
    for field, value in changes.items():
        if field in _EDITABLE:
            setattr(recipient, field, value.strip() if field == "name" else value)
    recipient.full_clean()
    recipient.save()
    if categories is not None:
        recipient.categories.set(categories)
    audit_log(
        actor=actor,
        action="care.recipient_update",
        target=recipient,
        details={
            "fields": sorted(f for f in changes if f != "community_id")
            + (["categories"] if categories is not None else [])
            + (["community"] if "community_id" in changes else [])
        },
    )
    return recipient


@transaction.atomic
def care_recipient_verify_fact(*, actor, recipient: CareRecipient, fact: str) -> CareRecipient:
    """Record that one of the four facts was checked today."""
    _require_manages(
        actor=actor, obj=recipient, message=_("You can only change households you manage.")
    )
    if fact not in FACTS:
        raise ValidationError(
            {"fact": ValidationError(_("Choose one of the four facts."), code="invalid_fact")}
        )
    if not getattr(recipient, fact):
        raise ValidationError(
            {
                "fact": ValidationError(
                    _("Enter the fact before marking it verified."), code="fact_missing"
                )
            }
        )
    setattr(recipient, FACTS[fact], timezone.localdate())
    recipient.save(update_fields=[FACTS[fact]])
    audit_log(actor=actor, action="care.recipient_verify", target=recipient, details={"fact": fact})
    return recipient


@transaction.atomic
def care_recipient_deactivate(*, actor, recipient: CareRecipient, reason: str) -> CareRecipient:
    """Take a household off the lists (moved away, no longer in difficulty); pairings end."""
    _require_manages(
        actor=actor, obj=recipient, message=_("You can only change households you manage.")
    )
    if not recipient.is_active:
        raise ValidationError(_("This household is already inactive."), code="already_inactive")
    if not reason.strip():
        raise ValidationError(
            {"reason": ValidationError(_("Say why the household leaves."), code="required")}
        )
    today = timezone.localdate()
    ended = list(recipient.pairings.active().select_for_update())
    for pairing in ended:
        pairing.ended_on = max(today, pairing.started_on)
        pairing.end_reason = reason.strip()[:255]
        pairing.save(update_fields=["ended_on", "end_reason"])
    recipient.is_active = False
    recipient.save(update_fields=["is_active"])
    audit_log(
        actor=actor,
        action="care.recipient_deactivate",
        target=recipient,
        details={"reason": reason.strip(), "ended_pairing_ids": [p.pk for p in ended]},
    )
    return recipient


@transaction.atomic
def care_recipient_reveal(*, user, recipient: CareRecipient, via: str) -> frozenset[str]:
    """Open a household's whole fields: refused (403) without entitlement, logged otherwise."""
    fields = sensitive_fields_for(user=user, recipient=recipient)
    if not fields:
        raise PermissionDenied(_("You may not see this household's personal details."))
    audit_log(
        actor=user,
        action="care.sensitive_view",
        target=recipient,
        details={"fields": sorted(fields), "via": via},
    )
    return fields


@transaction.atomic
def care_sensitive_export_log(*, user, recipient_ids: list[int], fields: list[str], fmt: str):
    """Log an export of households' whole fields (one entry per export)."""
    return audit_log(
        actor=user,
        action="care.sensitive_export",
        details={
            "fields": sorted(fields),
            "via": "export",
            "format": fmt,
            "recipient_ids": recipient_ids,
        },
    )


# Pairings ------------------------------------------------------------------------------------


def _check_volunteer(volunteer) -> None:
    if not VolunteerProfile.objects.filter(
        user=volunteer, status=VolunteerStatus.ACTIVE, user__is_active=True
    ).exists():
        raise ValidationError(
            {
                "volunteer": ValidationError(
                    _("Only a registered, active volunteer can be paired with a household."),
                    code="not_active_volunteer",
                )
            }
        )


def _second_pairing_error():
    return ValidationError(
        {
            "volunteer": ValidationError(
                _(
                    "This volunteer is already paired with a household. A party member has one "
                    "household at a time: end or hand over that pairing first."
                ),
                code="already_paired",
            )
        }
    )


def _create_pairing(*, actor, volunteer, recipient, visit_every_days, started_on):
    _check_volunteer(volunteer)
    if not recipient.is_active:
        raise ValidationError(
            _("This household is inactive; it cannot be paired."), code="inactive_recipient"
        )
    if RecipientPairing.objects.active().filter(volunteer=volunteer).exists():
        raise _second_pairing_error()
    pairing = RecipientPairing(
        volunteer=volunteer,
        recipient=recipient,
        visit_every_days=visit_every_days,
        started_on=started_on,
        created_by=actor,
    )
    pairing.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            pairing.save()
    except IntegrityError as exc:  # a concurrent request paired the volunteer meanwhile
        raise _second_pairing_error() from exc
    return pairing


@transaction.atomic
def recipient_pairing_create(
    *, actor, volunteer, recipient: CareRecipient, visit_every_days: int = 30
) -> RecipientPairing:
    """Pair a volunteer with a household; the household's community decides."""
    _require_manages(
        actor=actor,
        obj=recipient,
        message=_("Only the household's community and its party organisations pair volunteers."),
    )
    pairing = _create_pairing(
        actor=actor,
        volunteer=volunteer,
        recipient=recipient,
        visit_every_days=visit_every_days,
        started_on=timezone.localdate(),
    )
    audit_log(
        actor=actor,
        action="care.pairing_create",
        target=pairing,
        details={"volunteer_id": volunteer.pk, "recipient_id": recipient.pk},
    )
    return pairing


def _end(*, pairing: RecipientPairing, reason: str, ended_on: datetime.date | None):
    if pairing.ended_on is not None:
        raise ValidationError(_("This pairing has already ended."), code="already_ended")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": ValidationError(_("Say why the pairing ends."), code="required")}
        )
    ended_on = ended_on or timezone.localdate()
    if ended_on > timezone.localdate():
        raise ValidationError(
            {"ended_on": ValidationError(_("A pairing cannot end in the future."), code="future")}
        )
    if ended_on < pairing.started_on:
        raise ValidationError(
            {
                "ended_on": ValidationError(
                    _("A pairing cannot end before it starts."), code="before_start"
                )
            }
        )
    pairing.ended_on = ended_on
    pairing.end_reason = reason[:255]
    pairing.save(update_fields=["ended_on", "end_reason"])


@transaction.atomic
def recipient_pairing_end(
    *, actor, pairing: RecipientPairing, reason: str, ended_on: datetime.date | None = None
) -> RecipientPairing:
    _require_manages(actor=actor, obj=pairing, message=_("You can only end pairings you manage."))
    pairing = RecipientPairing.objects.select_for_update().get(pk=pairing.pk)
    _end(pairing=pairing, reason=reason, ended_on=ended_on)
    audit_log(
        actor=actor,
        action="care.pairing_end",
        target=pairing,
        details={"reason": pairing.end_reason, "ended_on": pairing.ended_on.isoformat()},
    )
    return pairing


@transaction.atomic
def recipient_pairing_handover(
    *, actor, pairing: RecipientPairing, new_volunteer, reason: str
) -> RecipientPairing:
    """End a pairing and give the household to another volunteer, in one transaction."""
    _require_manages(
        actor=actor, obj=pairing, message=_("You can only hand over pairings you manage.")
    )
    pairing = (
        RecipientPairing.objects.select_for_update().select_related("recipient").get(pk=pairing.pk)
    )
    if new_volunteer.pk == pairing.volunteer_id:
        raise ValidationError(
            {
                "new_volunteer": ValidationError(
                    _("Choose another volunteer to take the household over."), code="same"
                )
            }
        )
    _end(pairing=pairing, reason=reason, ended_on=None)
    try:
        successor = _create_pairing(
            actor=actor,
            volunteer=new_volunteer,
            recipient=pairing.recipient,
            visit_every_days=pairing.visit_every_days,
            started_on=timezone.localdate(),
        )
    except ValidationError as error:
        if hasattr(error, "error_dict") and "volunteer" in error.error_dict:
            raise ValidationError({"new_volunteer": error.error_dict["volunteer"]}) from error
        raise
    audit_log(
        actor=actor,
        action="care.pairing_handover",
        target=successor,
        details={
            "reason": pairing.end_reason,
            "previous_pairing_id": pairing.pk,
            "previous_volunteer_id": pairing.volunteer_id,
            "volunteer_id": new_volunteer.pk,
        },
    )
    return successor


# Visits --------------------------------------------------------------------------------------


@transaction.atomic
def visit_record(
    *,
    user,
    pairing: RecipientPairing,
    visited_on: datetime.date,
    duration_minutes: int,
    kind: str = VisitKind.VISIT,
    notes: str = "",
) -> Visit:
    """Record a visit, call or errand: the paired volunteer, or staff who manage the pairing."""
    if pairing.volunteer_id != user.pk and not user_can_manage(user, pairing):
        raise ValidationError(
            {
                "pairing": ValidationError(
                    _("You can only record visits for your own pairing."), code="not_your_pairing"
                )
            }
        )
    if pairing.ended_on is not None:
        raise ValidationError(
            {
                "pairing": ValidationError(
                    _("This pairing has ended; visits can no longer be recorded."),
                    code="pairing_ended",
                )
            }
        )
    errors = {}
    if visited_on > timezone.localdate():
        errors["visited_on"] = ValidationError(
            _("A visit cannot be dated in the future."), code="future"
        )
    elif visited_on < pairing.started_on:
        errors["visited_on"] = ValidationError(
            _("A visit cannot be dated before the pairing started."), code="before_start"
        )
    if kind not in VisitKind.values:
        errors["kind"] = ValidationError(_("Choose a kind of visit."), code="invalid_choice")
    if errors:
        raise ValidationError(errors)
    visit = Visit(
        pairing=pairing,
        visited_on=visited_on,
        duration_minutes=duration_minutes,
        kind=kind,
        notes=(notes or "").strip(),
        created_by=user,
    )
    visit.full_clean()
    visit.save()
    audit_log(
        actor=user,
        action="care.visit_record",
        target=visit,
        details={"pairing_id": pairing.pk, "visited_on": visited_on.isoformat()},
    )
    return visit
