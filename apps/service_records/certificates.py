"""Volunteer service certificates (志愿服务证明, 民发〔2015〕149号): request, issue, refuse, revoke.

Whoever recorded the service certifies it (谁记录谁证明): an organisation certifies only the
approved records whose organising unit or team lies in its subtree. Issuing copies the printed
facts onto the certificate, so a later change to the person or the records leaves a certificate
already handed out as it was. Numbers run ``PREFIX-YYYY-NNNNNN`` per year of issue.

The reads for the pages, the API and the admin live here too (``*_list``, ``*_choices``).
"""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.services import audit_log
from apps.organizations.models import Membership, PartyOrganization

from .models import (
    Certificate,
    CertificateStatus,
    IssuerProfile,
    ServiceRecord,
)

#: The language the certificate itself is printed in, whatever the staff member's language.
CERTIFICATE_LANGUAGE = "zh-hans"
MAIN_ACTIVITIES = 5
NUMBER_ATTEMPTS = 10


# Reads -------------------------------------------------------------------------------------


def recorded_by_q(issuer: PartyOrganization, *, prefix: str = "") -> Q:
    """Records an organisation recorded: organising unit or team organisation in its subtree."""
    return Q(**{f"{prefix}organization__path__startswith": issuer.path}) | Q(
        **{f"{prefix}team__organization__path__startswith": issuer.path}
    )


def certified_records(*, volunteer, issuer, period_start, period_end):
    """The approved records of ``volunteer`` in the period that ``issuer`` may certify."""
    return (
        ServiceRecord.objects.approved()
        .filter(volunteer=volunteer, service_date__gte=period_start, service_date__lte=period_end)
        .filter(recorded_by_q(issuer))
    )


def certificate_issuer_choices(*, volunteer):
    """Organisations that recorded approved service of the volunteer (organising unit or team)."""
    records = ServiceRecord.objects.approved().filter(volunteer=volunteer)
    return PartyOrganization.objects.filter(
        Q(pk__in=records.values("organization_id"))
        | Q(pk__in=records.values("team__organization_id"))
    ).order_by("path")


def certificate_list(*, user):
    """Certificates the user sees (their own, and those of issuers in their subtree)."""
    return (
        Certificate.objects.visible_to(user)
        .select_related("issuer", "volunteer")
        .order_by("-requested_at", "-pk")
    )


def my_certificates(*, user):
    return Certificate.objects.filter(volunteer=user).select_related("issuer")


def certificate_for_token(*, token: str) -> Certificate | None:
    """The certificate a verification QR code points at, if it was ever issued."""
    if not token or len(token) > 64:
        return None
    return (
        Certificate.objects.filter(
            verification_token=token,
            status__in=[CertificateStatus.ISSUED, CertificateStatus.REVOKED],
        )
        .exclude(number=None)
        .first()
    )


def mask_name(name: str) -> str:
    """王秀英 → 王*英, 李明 → 李*: enough to recognise, not enough to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


# Checks ------------------------------------------------------------------------------------


def _check_period(period_start, period_end, *, today: datetime.date) -> None:
    if period_start is None or period_end is None:
        raise ValidationError(_("Give the period: a start and an end date."), code="period_missing")
    if period_end < period_start:
        raise ValidationError(
            {"period_end": _("The period cannot end before it starts.")}, code="period_reversed"
        )
    if period_end > today:
        raise ValidationError(
            {"period_end": _("The period cannot end in the future.")}, code="period_future"
        )


def _require_manager(actor, certificate: Certificate) -> None:
    if certificate.volunteer_id == actor.pk:
        raise ValidationError(
            _("Nobody issues, refuses or revokes their own certificate."), code="own_certificate"
        )
    if not Certificate.objects.manageable_by(actor).filter(pk=certificate.pk).exists():
        raise PermissionDenied(_("Only the issuing organisation decides on this certificate."))


def _lock(certificate: Certificate) -> Certificate:
    return Certificate.objects.select_for_update().select_related("issuer").get(pk=certificate.pk)


def _refresh(target: Certificate, source: Certificate) -> Certificate:
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def issuer_profile_for(issuer: PartyOrganization) -> IssuerProfile:
    profile = IssuerProfile.objects.filter(organization=issuer).first()
    if profile is None:
        raise ValidationError(
            _(
                "%(issuer)s has no certificate issuer details (person in charge and contact). "
                "Ask its staff to fill them in under Administration → Certificate issuers."
            )
            % {"issuer": issuer.name},
            code="no_issuer_profile",
        )
    return profile


# Writes ------------------------------------------------------------------------------------


@transaction.atomic
def certificate_request(
    *,
    volunteer,
    issuer: PartyOrganization,
    period_start: datetime.date,
    period_end: datetime.date,
    purpose: str = "",
    requested_by=None,
    today: datetime.date | None = None,
) -> Certificate:
    """A volunteer asks an organisation that recorded their service for a certificate."""
    today = today or timezone.localdate()
    if issuer is None:
        raise ValidationError(
            {"issuer": _("Choose the organisation that recorded your service.")},
            code="issuer_missing",
        )
    _check_period(period_start, period_end, today=today)
    # One request at a time per person: two clicks cannot both pass the duplicate check.
    get_user_model().objects.select_for_update().filter(pk=volunteer.pk).first()
    if not certified_records(
        volunteer=volunteer, issuer=issuer, period_start=period_start, period_end=period_end
    ).exists():
        raise ValidationError(
            {
                "issuer": _(
                    "%(issuer)s has no approved service of yours recorded in this period. "
                    "A certificate comes from the organisation that recorded the service."
                )
                % {"issuer": issuer.name}
            },
            code="no_records",
        )
    same = Certificate.objects.filter(
        volunteer=volunteer, issuer=issuer, period_start=period_start, period_end=period_end
    )
    if same.filter(status=CertificateStatus.REQUESTED).exists():
        raise ValidationError(
            _("You have already asked %(issuer)s for a certificate for this period.")
            % {"issuer": issuer.name},
            code="duplicate_request",
        )
    if same.filter(status=CertificateStatus.ISSUED).exists():
        raise ValidationError(
            _(
                "%(issuer)s has already issued a certificate for this period: download it "
                "from My certificates."
            )
            % {"issuer": issuer.name},
            code="already_issued",
        )
    certificate = Certificate.objects.create(
        volunteer=volunteer,
        issuer=issuer,
        period_start=period_start,
        period_end=period_end,
        purpose=(purpose or "").strip()[:128],
        requested_by=requested_by or volunteer,
    )
    audit_log(
        actor=requested_by or volunteer,
        action="certificate.request",
        target=certificate,
        details={"issuer": issuer.pk, "from": str(period_start), "until": str(period_end)},
    )
    return certificate


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _content_summary(records) -> str:
    """Categories and the main activities, by time served, in the certificate's language."""
    categories: Counter = Counter()
    activities: Counter = Counter()
    for name, activity, minutes in records.values_list(
        "category__name", "activity_name", "duration_minutes"
    ):
        categories[name] += minutes
        activities[activity] += minutes
    separator = "、"
    main = [name for name, _minutes in activities.most_common(MAIN_ACTIVITIES)]
    summary = _("Service categories: %(categories)s. Main activities: %(activities)s.") % {
        "categories": separator.join(name for name, _minutes in categories.most_common()),
        "activities": separator.join(main),
    }
    if len(activities) > MAIN_ACTIVITIES:
        summary += " " + _("And %(count)s other activities.") % {
            "count": len(activities) - MAIN_ACTIVITIES
        }
    return summary


def _next_number(year: int, *, prefix: str) -> str:
    stem = f"{prefix}-{year}-"
    last = (
        Certificate.objects.filter(number__startswith=stem)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(stem) :]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


def _assign_number(certificate: Certificate, *, year: int) -> None:
    """Take the next number of the year; a clash with a concurrent issue takes the one after.

    On PostgreSQL the second of two concurrent inserts of one number waits for the first to
    commit and then fails on the unique index; the savepoint lets it read the new maximum.
    """
    prefix = settings.CERTIFICATE_NUMBER_PREFIX
    for _attempt in range(NUMBER_ATTEMPTS):
        certificate.number = _next_number(year, prefix=prefix)
        try:
            with transaction.atomic():
                Certificate.objects.filter(pk=certificate.pk).update(number=certificate.number)
            return
        except IntegrityError:
            continue
    raise ValidationError(
        _("No certificate number could be assigned just now; please try again."),
        code="number_busy",
    )


@transaction.atomic
def certificate_issue(
    *,
    actor,
    certificate: Certificate,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Certificate:
    """Issue a requested certificate: copy in the printed facts, give it a number."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    _require_manager(actor, certificate)
    locked = _lock(certificate)
    if locked.status != CertificateStatus.REQUESTED:
        raise ValidationError(
            _("Only a requested certificate can be issued; this one is %(status)s.")
            % {"status": locked.get_status_display()},
            code="not_requested",
        )
    issuer = locked.issuer
    profile = issuer_profile_for(issuer)
    volunteer = (
        get_user_model().objects.select_related("volunteer_profile").get(pk=locked.volunteer_id)
    )
    records = certified_records(
        volunteer=volunteer,
        issuer=issuer,
        period_start=locked.period_start,
        period_end=locked.period_end,
    )
    totals = records.aggregate(minutes=Sum("duration_minutes"), count=Count("pk"))
    if not totals["count"]:
        raise ValidationError(
            _("%(issuer)s has no approved service of this volunteer in the period any more.")
            % {"issuer": issuer.name},
            code="no_records",
        )
    profile_number = getattr(getattr(volunteer, "volunteer_profile", None), "volunteer_number", "")
    with translation.override(CERTIFICATE_LANGUAGE):
        locked.volunteer_name = volunteer.get_full_name()[:64]
        locked.id_type = _("Resident identity card") if volunteer.id_number else ""
        locked.id_number_masked = volunteer.id_number_masked[:32]
        locked.volunteer_number = profile_number or ""
        locked.hours = _hours(totals["minutes"] or 0)
        locked.record_count = totals["count"]
        locked.content = _content_summary(records)
    locked.issuer_name = issuer.name[:128]
    locked.person_in_charge = profile.person_in_charge
    locked.contact = profile.contact
    locked.handler_name = actor.get_full_name()[:64]
    locked.issued_on = today
    locked.decided_by = actor
    locked.decided_at = now
    locked.status = CertificateStatus.ISSUED
    locked.save()
    _assign_number(locked, year=today.year)
    audit_log(
        actor=actor,
        action="certificate.issue",
        target=locked,
        details={"number": locked.number, "hours": str(locked.hours)},
    )
    return _refresh(certificate, locked)


def _reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message}, code="reason_required")
    return reason


@transaction.atomic
def certificate_reject(
    *, actor, certificate: Certificate, reason: str, now: datetime.datetime | None = None
) -> Certificate:
    """Refuse a request, with the reason the volunteer will read."""
    _require_manager(actor, certificate)
    reason = _reason(reason, _("Give a reason for refusing."))
    locked = _lock(certificate)
    if locked.status != CertificateStatus.REQUESTED:
        raise ValidationError(
            _("Only a requested certificate can be refused; this one is %(status)s.")
            % {"status": locked.get_status_display()},
            code="not_requested",
        )
    locked.status = CertificateStatus.REJECTED
    locked.rejection_reason = reason
    locked.decided_by = actor
    locked.decided_at = now or timezone.now()
    locked.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at"])
    audit_log(actor=actor, action="certificate.reject", target=locked, details={"reason": reason})
    return _refresh(certificate, locked)


@transaction.atomic
def certificate_revoke(
    *, actor, certificate: Certificate, reason: str, now: datetime.datetime | None = None
) -> Certificate:
    """Withdraw an issued certificate: its verification page says so from now on."""
    _require_manager(actor, certificate)
    reason = _reason(reason, _("Give a reason for revoking."))
    locked = _lock(certificate)
    if locked.status != CertificateStatus.ISSUED:
        raise ValidationError(
            _("Only an issued certificate can be revoked; this one is %(status)s.")
            % {"status": locked.get_status_display()},
            code="not_issued",
        )
    locked.status = CertificateStatus.REVOKED
    locked.revoked_at = now or timezone.now()
    locked.revoke_reason = reason
    locked.save(update_fields=["status", "revoked_at", "revoke_reason"])
    audit_log(
        actor=actor,
        action="certificate.revoke",
        target=locked,
        details={"number": locked.number, "reason": reason},
    )
    return _refresh(certificate, locked)


@transaction.atomic
def certificate_bulk_issue(
    *,
    actor,
    organization: PartyOrganization,
    period_start: datetime.date,
    period_end: datetime.date,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> list[Certificate]:
    """Issue a certificate to every active member of a branch with approved hours it recorded.

    All or nothing. Members who already hold an issued certificate for exactly this period are
    skipped; an open request for it is issued; the actor's own certificate is left to others.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if not PartyOrganization.objects.manageable_by(actor).filter(pk=organization.pk).exists():
        raise PermissionDenied(_("You do not manage this organisation."))
    _check_period(period_start, period_end, today=today)
    issuer_profile_for(organization)
    members = Membership.objects.active().filter(organization=organization).exclude(user=actor)
    with_hours = set(
        ServiceRecord.objects.approved()
        .filter(volunteer__in=members.values("user_id"))
        .filter(service_date__gte=period_start, service_date__lte=period_end)
        .filter(recorded_by_q(organization))
        .values_list("volunteer_id", flat=True)
        .distinct()
    )
    if not with_hours:
        raise ValidationError(
            _("No member of %(organization)s has approved service it recorded in this period.")
            % {"organization": organization.name},
            code="no_records",
        )
    existing = {
        (c.volunteer_id, c.status): c
        for c in Certificate.objects.filter(
            issuer=organization,
            period_start=period_start,
            period_end=period_end,
            volunteer_id__in=with_hours,
            status__in=[CertificateStatus.REQUESTED, CertificateStatus.ISSUED],
        )
    }
    volunteers = get_user_model().objects.filter(pk__in=with_hours).order_by("real_name", "pk")
    issued = []
    for volunteer in volunteers:
        if (volunteer.pk, CertificateStatus.ISSUED) in existing:
            continue
        certificate = existing.get((volunteer.pk, CertificateStatus.REQUESTED))
        if certificate is None:
            certificate = Certificate.objects.create(
                volunteer=volunteer,
                issuer=organization,
                period_start=period_start,
                period_end=period_end,
                requested_by=actor,
                requested_at=now,
            )
        issued.append(certificate_issue(actor=actor, certificate=certificate, today=today, now=now))
    if not issued:
        raise ValidationError(
            _("Every member with service in this period already holds a certificate for it."),
            code="all_issued",
        )
    audit_log(
        actor=actor,
        action="certificate.bulk_issue",
        target=organization,
        details={
            "from": str(period_start),
            "until": str(period_end),
            "numbers": [c.number for c in issued],
        },
    )
    return issued


def certificate_log_download(*, actor, certificate: Certificate, via: str = "portal") -> None:
    """Who printed which certificate, and through which door."""
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="certificate.download",
            target=certificate,
            details={"number": certificate.number, "via": via},
        )
