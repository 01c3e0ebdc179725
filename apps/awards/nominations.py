"""The awards workflow (评选表彰): nominate → publicity (公示) and objections → decision → the
award on the volunteer's record (Order 67 Art. 9).

Every write has its service here; pages, the API and the admin call them. Refusals are
``ValidationError`` with a translated message (nothing saved) or ``PermissionDenied``.
Notifications are not sent from here: the notifications app, a layer above, listens to the
``Award`` rows being saved.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core.scoping import get_user_scope
from apps.core.services import audit_log
from apps.organizations.models import Membership, PartyOrganization

from .eligibility import _path_quotas, _uses, as_assessment_year, candidate_check
from .models import (
    Award,
    AwardKind,
    Nomination,
    NominationStatus,
    Objection,
    ObjectionStatus,
    TeamYearSummary,
    VolunteerYearSummary,
)

OBJECTION_MIN_LENGTH = 10
OBJECTION_MAX_LENGTH = 2000
CONTACT_MAX_LENGTH = 64
AWARD_TEXT_MAX_LENGTH = 128


def _require_city_admin(actor) -> None:
    if not get_user_scope(actor).is_city_admin:
        raise PermissionDenied(_("Only the city's administrators may do this."))


def _require_manager(actor, organization) -> None:
    if not PartyOrganization.objects.manageable_by(actor).filter(pk=organization.pk).exists():
        raise PermissionDenied(
            _("You do not manage %(organization)s.") % {"organization": organization.name}
        )


def _today(today) -> datetime.date:
    return today or timezone.localdate()


def _candidate_organization(*, volunteer, team) -> PartyOrganization:
    if (volunteer is None) == (team is None):
        raise ValidationError(_("Choose either a volunteer or a team."), code="candidate")
    if team is not None:
        return team.organization
    membership = (
        Membership.objects.active().filter(user=volunteer).select_related("organization").first()
    )
    if membership is None:
        raise ValidationError(
            _("%(name)s is not an active party member: no organisation can nominate them.")
            % {"name": volunteer.real_name or volunteer.username},
            code="no_organization",
        )
    return membership.organization


def _check_quotas(*, assessment_year, category, organization) -> None:
    """Lock the quotas on the way up (nearest first, a fixed order: no deadlock) and refuse
    when one is full. A second nomination waits here until the first commits, then counts it."""
    quotas = list(
        _path_quotas(assessment_year=assessment_year, category=category, organization=organization)
        .select_for_update(of=("self",))
        .select_related("organization")
        .order_by("pk")
    )
    for use in _uses(quotas, assessment_year=assessment_year, category=category):
        if use.full:
            raise ValidationError(
                ngettext(
                    "%(organization)s has used its %(places)s place for “%(category)s” in "
                    "%(year)s.",
                    "%(organization)s has used all its %(places)s places for “%(category)s” in "
                    "%(year)s.",
                    use.quota.places,
                )
                % {
                    "organization": use.quota.organization.name,
                    "places": use.quota.places,
                    "category": category.name,
                    "year": assessment_year.year,
                },
                code="quota_full",
            )


def _snapshot(*, assessment_year, volunteer, team) -> dict:
    if team is not None:
        summary = TeamYearSummary.objects.filter(assessment_year=assessment_year, team=team).first()
        return {"hours": summary.hours if summary else 0, "points": 0}
    summary = VolunteerYearSummary.objects.filter(
        assessment_year=assessment_year, volunteer=volunteer
    ).first()
    return {
        "hours": summary.hours if summary else 0,
        "points": summary.points if summary else 0,
    }


@transaction.atomic
def nomination_create(
    *, actor, assessment_year, category, deeds, volunteer=None, team=None
) -> Nomination:
    """Put a volunteer or team forward; the nominating organisation is the volunteer's branch
    (or the team's owner), which the actor must manage."""
    assessment_year = as_assessment_year(assessment_year)
    organization = _candidate_organization(volunteer=volunteer, team=team)
    _require_manager(actor, organization)
    if not category.active:
        raise ValidationError(
            _("“%(category)s” is no longer awarded.") % {"category": category.name},
            code="inactive",
        )
    if team is None and category.kind == AwardKind.TEAM:
        raise ValidationError(
            _("“%(category)s” is awarded to teams: nominate a team.") % {"category": category.name},
            code="wrong_kind",
        )
    if team is not None and category.kind == AwardKind.VOLUNTEER:
        raise ValidationError(
            _("“%(category)s” is awarded to volunteers: nominate a volunteer.")
            % {"category": category.name},
            code="wrong_kind",
        )
    deeds = (deeds or "").strip()
    if not deeds:
        raise ValidationError(_("Describe the candidate's main deeds."), code="deeds")
    round_ = Nomination.objects.filter(assessment_year=assessment_year, category=category)
    if round_.filter(publicity_starts_on__isnull=False).exists():
        raise ValidationError(
            _("The publicity of “%(category)s” for %(year)s has started: nominations are closed.")
            % {"category": category.name, "year": assessment_year.year},
            code="closed",
        )
    reasons = candidate_check(
        assessment_year=assessment_year, category=category, volunteer=volunteer, team=team
    )
    if reasons:
        raise ValidationError(reasons, code="ineligible")
    candidate = {"team": team} if team is not None else {"volunteer": volunteer}
    already = _("Already nominated for “%(category)s” in %(year)s.") % {
        "category": category.name,
        "year": assessment_year.year,
    }
    if round_.live().filter(**candidate).exists():
        raise ValidationError(already, code="already_nominated")
    _check_quotas(assessment_year=assessment_year, category=category, organization=organization)
    nomination = Nomination(
        assessment_year=assessment_year,
        category=category,
        organization=organization,
        deeds=deeds,
        nominated_by=actor,
        **candidate,
        **_snapshot(assessment_year=assessment_year, volunteer=volunteer, team=team),
    )
    try:
        with transaction.atomic():
            nomination.save()
    except IntegrityError:
        # Someone nominated the same candidate at the same moment.
        raise ValidationError(already, code="already_nominated") from None
    audit_log(
        actor=actor,
        action="nomination.create",
        target=nomination,
        details={"category": category.pk, "year": assessment_year.year},
    )
    return nomination


@transaction.atomic
def nomination_withdraw(*, actor, nomination, reason) -> Nomination:
    nomination = Nomination.objects.select_for_update(of=("self",)).get(pk=nomination.pk)
    if not Nomination.objects.manageable_by(actor).filter(pk=nomination.pk).exists():
        raise PermissionDenied(_("You may not withdraw this nomination."))
    if nomination.status not in (NominationStatus.NOMINATED, NominationStatus.PUBLICITY):
        raise ValidationError(
            _("A nomination that is %(status)s cannot be withdrawn.")
            % {"status": nomination.get_status_display()},
            code="status",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for withdrawing."), code="reason")
    nomination.status = NominationStatus.WITHDRAWN
    nomination.decision_note = reason
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    audit_log(actor=actor, action="nomination.withdraw", target=nomination)
    return nomination


@transaction.atomic
def publicity_start(
    *, actor, assessment_year, category, starts_on=None, days=None, today=None
) -> int:
    """Put every nomination of the category and year into publicity; returns how many."""
    _require_city_admin(actor)
    assessment_year = as_assessment_year(assessment_year)
    days = category.publicity_days if days is None else days
    if not 1 <= days <= 60:
        raise ValidationError(
            _("The publicity period lasts from 1 to 60 days."), code="publicity_days"
        )
    starts_on = starts_on or _today(today)
    ends_on = starts_on + datetime.timedelta(days=days - 1)
    nominations = list(
        Nomination.objects.select_for_update(of=("self",)).filter(
            assessment_year=assessment_year,
            category=category,
            status=NominationStatus.NOMINATED,
        )
    )
    if not nominations:
        raise ValidationError(
            _("Nobody is nominated for “%(category)s” in %(year)s.")
            % {"category": category.name, "year": assessment_year.year},
            code="nothing_nominated",
        )
    count = Nomination.objects.filter(pk__in=[n.pk for n in nominations]).update(
        status=NominationStatus.PUBLICITY, publicity_starts_on=starts_on, publicity_ends_on=ends_on
    )
    audit_log(
        actor=actor,
        action="nomination.publicity_start",
        target=category,
        details={
            "year": assessment_year.year,
            "nominations": [n.pk for n in nominations],
            "from": starts_on.isoformat(),
            "until": ends_on.isoformat(),
        },
    )
    return count


@transaction.atomic
def objection_create(*, actor, nomination, text, contact="", today=None) -> Objection:
    """Anyone signed in may object while the nomination is publicised."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied
    today = _today(today)
    nomination = Nomination.objects.select_for_update(of=("self",)).get(pk=nomination.pk)
    if nomination.status != NominationStatus.PUBLICITY or not (
        nomination.publicity_starts_on <= today <= nomination.publicity_ends_on
    ):
        raise ValidationError(
            _("Objections are taken only during the publicity period."), code="not_in_publicity"
        )
    text, contact = (text or "").strip(), (contact or "").strip()
    if len(text) < OBJECTION_MIN_LENGTH:
        raise ValidationError(
            _("Describe the objection in at least %(count)s characters.")
            % {"count": OBJECTION_MIN_LENGTH},
            code="too_short",
        )
    if len(text) > OBJECTION_MAX_LENGTH:
        raise ValidationError(
            _("Keep the objection within %(count)s characters.") % {"count": OBJECTION_MAX_LENGTH},
            code="too_long",
        )
    if len(contact) > CONTACT_MAX_LENGTH:
        raise ValidationError(
            _("Keep the contact within %(count)s characters.") % {"count": CONTACT_MAX_LENGTH},
            code="contact_too_long",
        )
    objection = Objection.objects.create(
        nomination=nomination, submitted_by=actor, text=text, contact=contact
    )
    audit_log(
        actor=actor,
        action="objection.create",
        target=objection,
        details={"nomination": nomination.pk},
    )
    return objection


@transaction.atomic
def objection_resolve(*, actor, objection, upheld: bool, resolution) -> Objection:
    _require_city_admin(actor)
    objection = Objection.objects.select_for_update(of=("self",)).get(pk=objection.pk)
    if objection.status != ObjectionStatus.OPEN:
        raise ValidationError(_("This objection has already been resolved."), code="resolved")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError(_("Write down the finding."), code="resolution")
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
    objection.resolution = resolution
    objection.resolved_by = actor
    objection.resolved_at = timezone.now()
    objection.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    audit_log(
        actor=actor,
        action="objection.resolve",
        target=objection,
        details={"upheld": bool(upheld), "nomination": objection.nomination_id},
    )
    return objection


@transaction.atomic
def nomination_decide(
    *, actor, nomination, awarded: bool, note="", today=None, now=None
) -> Nomination:
    """After the publicity: award (writing the ``Award``) or not (with a reason)."""
    _require_city_admin(actor)
    today = _today(today)
    nomination = (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("category", "assessment_year")
        .get(pk=nomination.pk)
    )
    if nomination.status != NominationStatus.PUBLICITY:
        raise ValidationError(
            _("Only a nomination in publicity can be decided; this one is %(status)s.")
            % {"status": nomination.get_status_display()},
            code="status",
        )
    if not nomination.publicity_over(today):
        raise ValidationError(
            _("The publicity runs until %(date)s: decide after it has ended.")
            % {"date": nomination.publicity_ends_on.isoformat()},
            code="publicity_running",
        )
    objections = nomination.objections.all()
    if objections.filter(status=ObjectionStatus.OPEN).exists():
        raise ValidationError(
            _("Resolve the open objections before deciding."), code="open_objections"
        )
    note = (note or "").strip()
    if awarded and objections.filter(status=ObjectionStatus.UPHELD).exists():
        raise ValidationError(
            _("An objection to this nomination was upheld: it cannot be awarded."),
            code="objection_upheld",
        )
    if not awarded and not note:
        raise ValidationError(_("Give the reason for not awarding."), code="note")
    nomination.status = NominationStatus.AWARDED if awarded else NominationStatus.NOT_AWARDED
    nomination.decided_by = actor
    nomination.decided_at = now or timezone.now()
    nomination.decision_note = note
    nomination.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if awarded:
        category = nomination.category
        Award.objects.create(
            volunteer_id=nomination.volunteer_id,
            team_id=nomination.team_id,
            name=category.name,
            awarded_on=today,
            awarding_unit=category.awarding_unit,
            category=category,
            assessment_year=nomination.assessment_year,
            nomination=nomination,
            created_by=actor,
        )
    audit_log(
        actor=actor,
        action="nomination.decide",
        target=nomination,
        details={"awarded": bool(awarded)},
    )
    return nomination


def award_check(*, name, awarded_on, awarding_unit, volunteer=None, team=None, today=None):
    """The checks of :func:`award_create`, for forms that show them next to the fields."""
    if (volunteer is None) == (team is None):
        raise ValidationError(_("Choose either a volunteer or a team."), code="candidate")
    name, awarding_unit = (name or "").strip(), (awarding_unit or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Enter the name of the award.")
    elif len(name) > AWARD_TEXT_MAX_LENGTH:
        errors["name"] = _("Keep it within %(count)s characters.") % {
            "count": AWARD_TEXT_MAX_LENGTH
        }
    if not awarding_unit:
        errors["awarding_unit"] = _("Enter the awarding unit.")
    elif len(awarding_unit) > AWARD_TEXT_MAX_LENGTH:
        errors["awarding_unit"] = _("Keep it within %(count)s characters.") % {
            "count": AWARD_TEXT_MAX_LENGTH
        }
    if awarded_on is None:
        errors["awarded_on"] = _("Enter the date of the award.")
    elif awarded_on > _today(today):
        errors["awarded_on"] = _("The date of the award cannot be in the future.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def award_create(
    *, actor, name, awarded_on, awarding_unit, volunteer=None, team=None, note="", today=None
) -> Award:
    """An award from elsewhere (a district's, a province's), entered by the city's staff."""
    _require_city_admin(actor)
    award_check(
        name=name,
        awarded_on=awarded_on,
        awarding_unit=awarding_unit,
        volunteer=volunteer,
        team=team,
        today=today,
    )
    award = Award.objects.create(
        volunteer=volunteer,
        team=team,
        name=name.strip(),
        awarded_on=awarded_on,
        awarding_unit=awarding_unit.strip(),
        note=(note or "").strip(),
        created_by=actor,
    )
    audit_log(actor=actor, action="award.create", target=award, details={"via": "manual"})
    return award
