"""Residents' requests and micro-wishes: 点单→审单→派单→接单→评单.

Every transition checks who acts and from which status, writes the new status, a
``RequestEvent`` for the request's timeline and an audit entry, inside one transaction.
"""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import ServiceCategory, VolunteerProfile, VolunteerStatus
from apps.accounts.validators import normalize_phone, validate_phone
from apps.communities.models import Community, TeamPairing
from apps.core.crypto import blind_index
from apps.core.services import audit_log
from apps.teams.models import LEADING_ROLES, Team, TeamMembership, TeamMembershipStatus

from ..models import (
    CareRecipient,
    RequestChannel,
    RequestDeadline,
    RequestEvent,
    RequestEvidence,
    RequestKind,
    RequestStatus,
    ServiceRequest,
)

__all__ = [
    "PUBLIC_CHANNELS",
    "STAFF_CHANNELS",
    "MAX_EVIDENCE_PHOTOS",
    "MAX_EVIDENCE_BYTES",
    "service_request_submit_public",
    "service_request_enter",
    "service_request_accept",
    "service_request_decline",
    "service_request_dispatch",
    "service_request_open_for_claim",
    "service_request_team_accept",
    "service_request_team_decline",
    "service_request_claim",
    "service_request_complete",
    "service_request_rate",
    "service_request_close",
]

PUBLIC_CHANNELS = (RequestChannel.WEB, RequestChannel.QR)
STAFF_CHANNELS = (RequestChannel.STATION, RequestChannel.HOTLINE, RequestChannel.ON_BEHALF)
MAX_EVIDENCE_PHOTOS = 3
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
RATE_WINDOW = datetime.timedelta(seconds=60)


# Helpers -------------------------------------------------------------------------------------


def _tracking_number() -> str:
    prefix = "XY" + timezone.localdate().strftime("%Y%m%d")
    while True:
        number = f"{prefix}{secrets.randbelow(10**6):06d}"
        if not ServiceRequest.objects.filter(tracking_number=number).exists():
            return number


def _rating_token() -> str:
    return secrets.token_urlsafe(32)


def _event(*, request: ServiceRequest, actor, note: str = "") -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        actor=actor if actor is not None and actor.is_authenticated else None,
        status=request.status,
        note=note[:255],
    )


def _audit(*, actor, action: str, request: ServiceRequest, **details) -> None:
    audit_log(
        actor=actor,
        action=f"service_request.{action}",
        target=request,
        details={"status": request.status, **details},
    )


def _lock(request: ServiceRequest) -> ServiceRequest:
    """Re-read the request under a row lock, so two people cannot move it at once."""
    return ServiceRequest.objects.select_for_update().get(pk=request.pk)


def _copy_back(target: ServiceRequest, source: ServiceRequest) -> None:
    """Bring the caller's instance up to date with the locked, saved copy."""
    if target is not source:
        for model_field in source._meta.concrete_fields:
            setattr(target, model_field.attname, getattr(source, model_field.attname))
        target._state.fields_cache = dict(source._state.fields_cache)


def _field_error(field: str, message, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _require_status(request: ServiceRequest, *allowed: str, message: str) -> None:
    if request.status not in allowed:
        raise ValidationError(message, code="wrong_status")


def _require_manager(*, actor, request: ServiceRequest) -> None:
    if not ServiceRequest.objects.manageable_by(actor).filter(pk=request.pk).exists():
        raise ValidationError(
            _("Only the community's staff and the party organisations above it handle this."),
            code="outside_scope",
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("Give a reason."), "reason_required")
    if len(reason) > 255:
        raise _field_error("reason", _("Keep the reason under 255 characters."), "reason_too_long")
    return reason


def _clean_phone(phone: str, *, field: str = "requester_phone") -> str:
    phone = normalize_phone(phone or "")
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as error:
            raise ValidationError({field: error.messages}, code="phone_format") from error
    return phone


def _check_texts(*, kind: str, title: str, description: str) -> None:
    errors = {}
    if kind not in RequestKind.values:
        errors["kind"] = _("Choose whether this is a need or a micro-wish.")
    if not (title or "").strip():
        errors["title"] = _("Say what is needed.")
    elif len(title) > 128:
        errors["title"] = _("Keep the title under 128 characters.")
    if len(description or "") > 2000:
        errors["description"] = _("Keep the details under 2000 characters.")
    if errors:
        raise ValidationError(errors)


def _new_request(**fields) -> ServiceRequest:
    request = ServiceRequest(
        tracking_number=_tracking_number(), rating_token=_rating_token(), **fields
    )
    phone = fields.get("requester_phone") or ""
    request.requester_phone_hash = blind_index(phone) if phone else ""
    request.save()
    return request


# Intake --------------------------------------------------------------------------------------


@transaction.atomic
def service_request_submit_public(
    *,
    community: Community,
    channel: str,
    kind: str,
    title: str,
    description: str = "",
    requester_name: str = "",
    requester_phone: str = "",
    requester_address: str = "",
    ip: str = "",
) -> ServiceRequest:
    """A resident without an account asks for help on the web or through a community's QR code."""
    if channel not in PUBLIC_CHANNELS:
        raise ValidationError(_("Unknown channel."), code="channel")
    if community is None or not community.is_active:
        raise ValidationError(
            _("This community does not take requests on the platform."), code="community_inactive"
        )
    _check_texts(kind=kind, title=title, description=description)
    phone = _clean_phone(requester_phone)
    if not phone:
        raise _field_error(
            "requester_phone",
            _("Leave a mobile number: without a way to contact you the community cannot help."),
            "no_contact",
        )
    limit = settings.CARE_REQUEST_RATE_LIMIT_PER_MINUTE
    since = timezone.now() - RATE_WINDOW
    phone_hash = blind_index(phone)
    ip_hash = blind_index(ip) if ip else ""
    recent = ServiceRequest.objects.filter(created_at__gte=since)
    too_many = recent.filter(requester_phone_hash=phone_hash).count() >= limit or (
        ip_hash and recent.filter(submitted_ip_hash=ip_hash).count() >= limit
    )
    if too_many:
        raise ValidationError(
            _("Too many requests in a short time. Please wait a minute and try again."),
            code="rate_limited",
        )
    request = _new_request(
        channel=channel,
        kind=kind,
        community=community,
        title=title.strip(),
        description=(description or "").strip(),
        requester_name=(requester_name or "").strip()[:64],
        requester_phone=phone,
        requester_address=(requester_address or "").strip()[:255],
        submitted_ip_hash=ip_hash,
    )
    _event(request=request, actor=None)
    _audit(actor=None, action="submit", request=request, channel=channel)
    return request


@transaction.atomic
def service_request_enter(
    *,
    actor,
    community: Community,
    channel: str,
    kind: str = RequestKind.NEED,
    title: str,
    description: str = "",
    requester_name: str = "",
    requester_phone: str = "",
    requester_address: str = "",
    called_at: datetime.datetime | None = None,
    care_recipient: CareRecipient | None = None,
    service_category: ServiceCategory | None = None,
) -> ServiceRequest:
    """Staff enter a request at a station, log a hotline call, or ask on behalf of a household."""
    if not Community.objects.manageable_by(actor).filter(pk=community.pk).exists():
        raise _field_error(
            "community",
            _("You can only enter requests for communities you serve."),
            "outside_scope",
        )
    if channel not in STAFF_CHANNELS:
        raise _field_error("channel", _("Choose station, hotline or on behalf."), "channel")
    _check_texts(kind=kind, title=title, description=description)
    phone = _clean_phone(requester_phone)
    name = (requester_name or "").strip()
    errors = {}
    if channel == RequestChannel.HOTLINE:
        if called_at is None:
            errors["called_at"] = _("Enter when the call came in.")
        elif called_at > timezone.now():
            errors["called_at"] = _("The call cannot come in the future.")
        if not phone and not name:
            errors["requester_phone"] = _("Enter the caller's phone number or name.")
    if channel == RequestChannel.ON_BEHALF:
        if care_recipient is None:
            errors["care_recipient"] = _("Choose the household this request is for.")
        elif care_recipient.community_id != community.pk:
            errors["care_recipient"] = _("This household does not live in this community.")
    elif channel == RequestChannel.STATION and not phone and not name:
        errors["requester_phone"] = _(
            "Enter the requester's phone number or name: a request needs a way to reach them."
        )
    if errors:
        raise ValidationError(errors, code="invalid")
    request = _new_request(
        channel=channel,
        kind=kind,
        community=community,
        title=title.strip(),
        description=(description or "").strip(),
        requester_name=name[:64],
        requester_phone=phone,
        requester_address=(requester_address or "").strip()[:255],
        called_at=called_at if channel == RequestChannel.HOTLINE else None,
        care_recipient=care_recipient if channel == RequestChannel.ON_BEHALF else None,
        service_category=service_category,
        created_by=actor,
    )
    _event(request=request, actor=actor)
    _audit(actor=actor, action="enter", request=request, channel=channel)
    return request


# Review and dispatch -------------------------------------------------------------------------


def _deadline_days(category: ServiceCategory | None) -> int:
    if category is not None:
        days = (
            RequestDeadline.objects.filter(service_category=category)
            .values_list("days", flat=True)
            .first()
        )
        if days:
            return days
    return settings.CARE_REQUEST_DEFAULT_DEADLINE_DAYS


@transaction.atomic
def service_request_accept(
    *, actor, request: ServiceRequest, service_category: ServiceCategory | None = None
) -> ServiceRequest:
    _require_manager(actor=actor, request=request)
    stored = _lock(request)
    _require_status(
        stored, RequestStatus.SUBMITTED, message=_("Only a submitted request can be accepted.")
    )
    if service_category is not None:
        stored.service_category = service_category
    stored.deadline = timezone.localdate() + datetime.timedelta(
        days=_deadline_days(stored.service_category)
    )
    stored.status = RequestStatus.ACCEPTED
    stored.save(update_fields=["service_category", "deadline", "status"])
    _event(request=stored, actor=actor)
    _audit(actor=actor, action="accept", request=stored, deadline=str(stored.deadline))
    _copy_back(request, stored)
    return request


@transaction.atomic
def service_request_decline(*, actor, request: ServiceRequest, reason: str) -> ServiceRequest:
    _require_manager(actor=actor, request=request)
    reason = _require_reason(reason)
    stored = _lock(request)
    _require_status(
        stored,
        RequestStatus.SUBMITTED,
        RequestStatus.ACCEPTED,
        message=_("Only a request that is not yet dispatched can be declined."),
    )
    stored.status = RequestStatus.DECLINED
    stored.decline_reason = reason
    stored.save(update_fields=["status", "decline_reason"])
    _event(request=stored, actor=actor, note=reason)
    _audit(actor=actor, action="decline", request=stored, reason=reason)
    _copy_back(request, stored)
    return request


@transaction.atomic
def service_request_dispatch(*, actor, request: ServiceRequest, team: Team) -> ServiceRequest:
    """Send an accepted request to a team paired with the request's community (队社结对)."""
    _require_manager(actor=actor, request=request)
    stored = _lock(request)
    _require_status(
        stored, RequestStatus.ACCEPTED, message=_("Only an accepted request can be dispatched.")
    )
    if team is None or not team.is_active:
        raise _field_error("team", _("This team is not active."), "team_inactive")
    if (
        not TeamPairing.objects.active()
        .filter(team=team, community_id=stored.community_id)
        .exists()
    ):
        raise _field_error(
            "team", _("This team is not paired with the request's community."), "team_not_paired"
        )
    stored.status = RequestStatus.DISPATCHED
    stored.dispatched_team = team
    stored.save(update_fields=["status", "dispatched_team"])
    _event(request=stored, actor=actor, note=team.name)
    _audit(actor=actor, action="dispatch", request=stored, team_id=team.pk)
    _copy_back(request, stored)
    return request


@transaction.atomic
def service_request_open_for_claim(*, actor, request: ServiceRequest) -> ServiceRequest:
    _require_manager(actor=actor, request=request)
    stored = _lock(request)
    _require_status(
        stored,
        RequestStatus.ACCEPTED,
        message=_("Only an accepted request can be opened for volunteers."),
    )
    stored.status = RequestStatus.OPEN
    stored.save(update_fields=["status"])
    _event(request=stored, actor=actor)
    _audit(actor=actor, action="open", request=stored)
    _copy_back(request, stored)
    return request


# The team ------------------------------------------------------------------------------------


def _require_team_leader(*, actor, stored: ServiceRequest) -> None:
    _require_status(
        stored,
        RequestStatus.DISPATCHED,
        message=_("This request is not waiting for a team to accept it."),
    )
    leads = TeamMembership.objects.filter(
        team_id=stored.dispatched_team_id,
        user=actor,
        status=TeamMembershipStatus.ACTIVE,
        role__in=LEADING_ROLES,
    ).exists()
    if not leads:
        raise ValidationError(
            _("Only the leader or a deputy of the team it was dispatched to can answer it."),
            code="not_team_leader",
        )


@transaction.atomic
def service_request_team_accept(
    *, actor, request: ServiceRequest, volunteer=None
) -> ServiceRequest:
    stored = _lock(request)
    _require_team_leader(actor=actor, stored=stored)
    volunteer = volunteer or actor
    is_member = TeamMembership.objects.filter(
        team_id=stored.dispatched_team_id, user=volunteer, status=TeamMembershipStatus.ACTIVE
    ).exists()
    if not is_member:
        raise _field_error(
            "volunteer", _("Choose an active member of the team."), "not_team_member"
        )
    stored.status = RequestStatus.IN_PROGRESS
    stored.assigned_volunteer = volunteer
    stored.save(update_fields=["status", "assigned_volunteer"])
    _event(request=stored, actor=actor, note=volunteer.get_full_name() or volunteer.username)
    _audit(actor=actor, action="team_accept", request=stored, volunteer_id=volunteer.pk)
    _copy_back(request, stored)
    return request


@transaction.atomic
def service_request_team_decline(*, actor, request: ServiceRequest, reason: str) -> ServiceRequest:
    """The team cannot take it: back to accepted, ready to be dispatched again."""
    reason = _require_reason(reason)
    stored = _lock(request)
    _require_team_leader(actor=actor, stored=stored)
    team_id = stored.dispatched_team_id
    stored.status = RequestStatus.ACCEPTED
    stored.dispatched_team = None
    stored.save(update_fields=["status", "dispatched_team"])
    _event(request=stored, actor=actor, note=reason)
    _audit(actor=actor, action="team_decline", request=stored, team_id=team_id, reason=reason)
    _copy_back(request, stored)
    return request


# Volunteers ----------------------------------------------------------------------------------


@transaction.atomic
def service_request_claim(*, user, request: ServiceRequest) -> ServiceRequest:
    """A registered volunteer takes an open request; the row lock makes the first claim win."""
    stored = _lock(request)
    _require_status(
        stored, RequestStatus.OPEN, message=_("This request is no longer open to claim.")
    )
    if not VolunteerProfile.objects.filter(user=user, status=VolunteerStatus.ACTIVE).exists():
        raise ValidationError(
            _("Only registered, active volunteers can claim requests."), code="not_volunteer"
        )
    stored.status = RequestStatus.IN_PROGRESS
    stored.assigned_volunteer = user
    stored.save(update_fields=["status", "assigned_volunteer"])
    _event(request=stored, actor=user)
    _audit(actor=user, action="claim", request=stored)
    _copy_back(request, stored)
    return request


def _check_photos(photos) -> list:
    from PIL import Image, UnidentifiedImageError

    photos = list(photos or [])
    if len(photos) > MAX_EVIDENCE_PHOTOS:
        raise _field_error(
            "photos",
            _("Upload at most %(count)d photos.") % {"count": MAX_EVIDENCE_PHOTOS},
            "too_many_photos",
        )
    for photo in photos:
        if photo.size > MAX_EVIDENCE_BYTES:
            raise _field_error(
                "photos", _("Each photo must be smaller than 5 MB."), "photo_too_large"
            )
        try:
            photo.seek(0)
            with Image.open(photo) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise _field_error(
                "photos", _("Upload photos as JPEG or PNG images."), "not_an_image"
            ) from error
        photo.seek(0)
    return photos


@transaction.atomic
def service_request_complete(
    *, user, request: ServiceRequest, note: str, photos=()
) -> ServiceRequest:
    stored = _lock(request)
    if stored.assigned_volunteer_id != user.pk:
        raise ValidationError(
            _("This request was not dispatched to you: only its volunteer can complete it."),
            code="not_assigned",
        )
    _require_status(
        stored, RequestStatus.IN_PROGRESS, message=_("This request is not in progress.")
    )
    note = (note or "").strip()
    if not note:
        raise _field_error("note", _("Say what was done."), "note_required")
    if len(note) > 2000:
        raise _field_error("note", _("Keep the note under 2000 characters."), "note_too_long")
    photos = _check_photos(photos)
    for photo in photos:
        RequestEvidence.objects.create(request=stored, photo=photo, uploaded_by=user)
    stored.status = RequestStatus.DONE
    stored.completion_note = note
    stored.completed_at = timezone.now()
    stored.save(update_fields=["status", "completion_note", "completed_at"])
    _event(request=stored, actor=user)
    _audit(actor=user, action="complete", request=stored, photos=len(photos))
    _copy_back(request, stored)
    return request


# Rating and closing --------------------------------------------------------------------------


@transaction.atomic
def service_request_rate(*, token: str, stars, comment: str = "") -> ServiceRequest:
    """The requester rates the service by the link they were given, once; that closes it."""
    stored = ServiceRequest.objects.select_for_update().filter(rating_token=token or "-").first()
    if stored is None:
        raise ValidationError(_("This rating link is not valid."), code="invalid_token")
    if stored.rating_stars is not None:
        raise ValidationError(_("This request has already been rated."), code="rated_twice")
    if stored.status != RequestStatus.DONE:
        raise ValidationError(
            _("This request is not done yet: it can be rated once it is done."), code="not_done"
        )
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        raise _field_error("stars", _("Give 1 to 5 stars."), "stars")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise _field_error(
            "comment", _("Keep the comment under 500 characters."), "comment_too_long"
        )
    stored.rating_stars = stars
    stored.rating_comment = comment
    stored.rated_at = timezone.now()
    stored.status = RequestStatus.CLOSED
    stored.save(update_fields=["rating_stars", "rating_comment", "rated_at", "status"])
    _event(request=stored, actor=None, note="★" * stars)
    _audit(actor=None, action="rate", request=stored, stars=stars)
    return stored


@transaction.atomic
def service_request_close(*, actor, request: ServiceRequest) -> ServiceRequest:
    """Staff close a done request, e.g. when the resident has not rated it in time."""
    _require_manager(actor=actor, request=request)
    stored = _lock(request)
    _require_status(stored, RequestStatus.DONE, message=_("Only a done request can be closed."))
    stored.status = RequestStatus.CLOSED
    stored.save(update_fields=["status"])
    _event(request=stored, actor=actor)
    _audit(actor=actor, action="close", request=stored)
    _copy_back(request, stored)
    return request
