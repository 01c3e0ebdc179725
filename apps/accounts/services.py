"""Writes with rules on volunteer profiles, their review, changes to verified fields and training.

Each service checks who acts, validates, writes inside one transaction and leaves an audit entry.
Errors are Django ``ValidationError``s keyed by the field at fault where there is one, so forms
and the API can show them next to the field.
"""

import datetime
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import crypto
from apps.core.services import audit_log

from .choices import Gender
from .models import (
    AvailableTime,
    ChangeRequestStatus,
    ProfileChangeRequest,
    ServiceCategory,
    TrainingRecord,
    User,
    VolunteerProfile,
    VolunteerStatus,
)
from .validators import (
    id_number_birth_date,
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)

#: Identity fields checked against papers: a change to them goes through review.
VERIFIED_FIELDS = ("real_name", "gender", "id_number", "birth_date")
VOLUNTEER_NUMBER_ATTEMPTS = 20


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def volunteer_number_generate() -> str:
    """A random number "V" + 9 digits; never derived from anything about the person."""
    for _attempt in range(VOLUNTEER_NUMBER_ATTEMPTS):
        number = f"V{secrets.randbelow(10**9):09d}"
        if not VolunteerProfile.objects.filter(volunteer_number=number).exists():
            return number
    raise RuntimeError("could not find a free volunteer number")  # pragma: no cover


# --- validation helpers shared by registration and change requests -----------------------------


def _field_error(field: str, message, code: str | None) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _clean_real_name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _field_error("real_name", _("Enter your real name."), "required")
    if len(value) > 64:
        raise _field_error("real_name", _("A name has at most 64 characters."), "max_length")
    return value


def _clean_gender(value: str) -> str:
    if value not in Gender.values:
        raise _field_error("gender", _("Choose a gender."), "invalid_choice")
    return value


def _clean_id_number(value: str, *, user: User) -> str:
    value = normalize_id_number(value)
    try:
        validate_id_number(value)
    except ValidationError as error:
        raise _field_error("id_number", error.messages[0], error.code) from error
    if User.objects.with_id_number(value).exclude(pk=user.pk).exists():
        raise _field_error(
            "id_number",
            _("A volunteer with this ID number is already registered."),
            "id_number_taken",
        )
    return value


def _clean_birth_date(value, *, id_number: str) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime.date):
        raise _field_error("birth_date", _("Enter a valid date of birth."), "invalid")
    if value > timezone.localdate():
        raise _field_error(
            "birth_date", _("The date of birth cannot be in the future."), "birth_date_future"
        )
    if id_number and id_number_birth_date(id_number) != value:
        raise _field_error(
            "birth_date",
            _("The date of birth does not match the one in the ID number."),
            "birth_date_mismatch",
        )
    return value


def _clean_available_times(values) -> list[str]:
    values = list(dict.fromkeys(values or []))
    unknown = [value for value in values if value not in AvailableTime.values]
    if unknown:
        raise _field_error(
            "available_times", _("Choose the available times from the list."), "invalid_choice"
        )
    return values


def _clean_categories(ids) -> list[ServiceCategory]:
    ids = list(dict.fromkeys(ids or []))
    try:
        categories = list(ServiceCategory.objects.filter(is_active=True, pk__in=ids))
    except (TypeError, ValueError):
        categories = []
    if len(categories) != len(ids):
        raise _field_error(
            "service_category_ids",
            _("Choose the service categories from the list."),
            "invalid_choice",
        )
    return categories


def _clean_residence(*, residence_area: str, residence_community) -> str:
    residence_area = (residence_area or "").strip()
    if not residence_area:
        raise _field_error(
            "residence_area", _("Enter the district and street or town where you live."), "required"
        )
    if len(residence_area) > 128:
        raise _field_error(
            "residence_area", _("The residence area has at most 128 characters."), "max_length"
        )
    if residence_community is not None and not residence_community.is_active:
        raise _field_error(
            "residence_community",
            _("This community no longer takes registrations."),
            "community_inactive",
        )
    return residence_area


def _require_manager(*, actor, profile: VolunteerProfile) -> None:
    if not VolunteerProfile.objects.manageable_by(actor).filter(pk=profile.pk).exists():
        raise ValidationError(
            _("You can only review volunteers you are responsible for."), code="outside_scope"
        )


def _lock(profile: VolunteerProfile) -> VolunteerProfile:
    return VolunteerProfile.objects.select_for_update().get(pk=profile.pk)


# --- registration ------------------------------------------------------------------------------


@transaction.atomic
def volunteer_register(
    *,
    user: User,
    birth_date: datetime.date,
    residence_area: str,
    residence_community,
    skills: str,
    service_category_ids: list[int],
    available_times: list[str],
    consent: bool,
    gender: str,
    id_number: str,
    real_name: str,
    guardian_name: str = "",
    guardian_phone: str = "",
    guardian_relation: str = "",
    guardian_consent: bool = False,
) -> VolunteerProfile:
    """Register ``user`` as a volunteer (MCA Order 67 Art. 5); staff review the profile."""
    if VolunteerProfile.objects.filter(user=user).exists():
        raise ValidationError(
            _("You are already registered as a volunteer."), code="already_registered"
        )
    if not consent:
        raise _field_error(
            "consent",
            _("Registration needs your consent to the use of your data."),
            "consent_required",
        )
    real_name = _clean_real_name(real_name)
    gender = _clean_gender(gender)
    id_number = _clean_id_number(id_number, user=user)
    birth_date = _clean_birth_date(birth_date, id_number=id_number)
    residence_area = _clean_residence(
        residence_area=residence_area, residence_community=residence_community
    )
    categories = _clean_categories(service_category_ids)
    available_times = _clean_available_times(available_times)

    now = timezone.now()
    age = age_on(birth_date, timezone.localdate())
    if age < settings.VOLUNTEER_MINIMUM_AGE:
        raise _field_error(
            "birth_date",
            _("Volunteers must be at least %(age)d years old.")
            % {"age": settings.VOLUNTEER_MINIMUM_AGE},
            "too_young",
        )
    guardian_consent_at = None
    guardian_name = (guardian_name or "").strip()
    guardian_relation = (guardian_relation or "").strip()
    guardian_phone = normalize_phone(guardian_phone)
    if age < settings.VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE:
        errors = {}
        if not guardian_name:
            errors["guardian_name"] = _("Enter the guardian's name.")
        if not guardian_relation:
            errors["guardian_relation"] = _("Enter how the guardian is related to the volunteer.")
        if not guardian_phone:
            errors["guardian_phone"] = _("Enter the guardian's mobile phone.")
        if not guardian_consent:
            errors["guardian_consent"] = _(
                "A volunteer under %(age)d years needs the guardian's consent."
            ) % {"age": settings.VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE}
        if errors:
            raise ValidationError(errors, code="guardian_required")
        guardian_consent_at = now
    if guardian_phone:
        try:
            validate_phone(guardian_phone)
        except ValidationError as error:
            raise _field_error("guardian_phone", error.messages[0], error.code) from error

    user.real_name = real_name
    user.gender = gender
    user.id_number = id_number
    try:
        with transaction.atomic():
            user.save(update_fields=["real_name", "gender", "id_number"])
    except IntegrityError as exc:
        # Someone registered the same ID number between the check and the write.
        raise _field_error(
            "id_number",
            _("A volunteer with this ID number is already registered."),
            "id_number_taken",
        ) from exc

    profile = VolunteerProfile(
        user=user,
        birth_date=birth_date,
        residence_area=residence_area,
        residence_community=residence_community,
        skills=(skills or "").strip(),
        available_times=available_times,
        consent_at=now,
        guardian_name=guardian_name,
        guardian_phone=guardian_phone,
        guardian_relation=guardian_relation,
        guardian_consent_at=guardian_consent_at,
    )
    for _attempt in range(VOLUNTEER_NUMBER_ATTEMPTS):
        profile.volunteer_number = volunteer_number_generate()
        try:
            with transaction.atomic():
                profile.save()
            break
        except IntegrityError as exc:
            if VolunteerProfile.objects.filter(user=user).exists():
                raise ValidationError(
                    _("You are already registered as a volunteer."), code="already_registered"
                ) from exc
            # A concurrent registration took the same number: draw again.
    else:  # pragma: no cover
        raise RuntimeError("could not find a free volunteer number")
    profile.service_categories.set(categories)
    audit_log(
        actor=user,
        action="volunteer.register",
        target=profile,
        details={"minor_with_guardian": guardian_consent_at is not None},
    )
    return profile


# --- review and status -------------------------------------------------------------------------


def _transition(
    *,
    actor,
    profile: VolunteerProfile,
    allowed_from: tuple[str, ...],
    to: str,
    action: str,
    note: str = "",
    message: str,
) -> VolunteerProfile:
    _require_manager(actor=actor, profile=profile)
    stored = _lock(profile)
    if stored.status not in allowed_from:
        raise ValidationError(message, code="invalid_status")
    profile.status = to
    profile.reviewed_by = actor
    profile.reviewed_at = timezone.now()
    profile.review_note = note
    profile.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_log(actor=actor, action=action, target=profile, details={"note": note} if note else {})
    return profile


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("Give a reason."), "reason_required")
    if len(reason) > 255:
        raise _field_error("reason", _("A reason has at most 255 characters."), "max_length")
    return reason


@transaction.atomic
def volunteer_approve(*, actor, profile: VolunteerProfile) -> VolunteerProfile:
    return _transition(
        actor=actor,
        profile=profile,
        allowed_from=(VolunteerStatus.PENDING,),
        to=VolunteerStatus.ACTIVE,
        action="volunteer.approve",
        message=_("Only a registration awaiting review can be approved."),
    )


@transaction.atomic
def volunteer_reject(*, actor, profile: VolunteerProfile, reason: str) -> VolunteerProfile:
    reason = _require_reason(reason)
    return _transition(
        actor=actor,
        profile=profile,
        allowed_from=(VolunteerStatus.PENDING,),
        to=VolunteerStatus.REJECTED,
        action="volunteer.reject",
        note=reason,
        message=_("Only a registration awaiting review can be rejected."),
    )


@transaction.atomic
def volunteer_suspend(*, actor, profile: VolunteerProfile, reason: str) -> VolunteerProfile:
    reason = _require_reason(reason)
    return _transition(
        actor=actor,
        profile=profile,
        allowed_from=(VolunteerStatus.ACTIVE,),
        to=VolunteerStatus.SUSPENDED,
        action="volunteer.suspend",
        note=reason,
        message=_("Only an active volunteer can be suspended."),
    )


@transaction.atomic
def volunteer_reinstate(*, actor, profile: VolunteerProfile) -> VolunteerProfile:
    return _transition(
        actor=actor,
        profile=profile,
        allowed_from=(VolunteerStatus.SUSPENDED,),
        to=VolunteerStatus.ACTIVE,
        action="volunteer.reinstate",
        message=_("Only a suspended volunteer can be reinstated."),
    )


@transaction.atomic
def volunteer_withdraw(*, user: User) -> VolunteerProfile:
    """The volunteer leaves the programme; their records stay."""
    profile = VolunteerProfile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise ValidationError(_("You are not registered as a volunteer."), code="not_registered")
    if profile.status not in (
        VolunteerStatus.PENDING,
        VolunteerStatus.ACTIVE,
        VolunteerStatus.SUSPENDED,
    ):
        raise ValidationError(_("This registration has already ended."), code="invalid_status")
    profile.status = VolunteerStatus.WITHDRAWN
    profile.save(update_fields=["status"])
    audit_log(actor=user, action="volunteer.withdraw", target=profile)
    return profile


# --- the volunteer's own changes ---------------------------------------------------------------

_UNCHANGED = object()


def _own_profile(user: User) -> VolunteerProfile:
    profile = VolunteerProfile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise ValidationError(_("You are not registered as a volunteer."), code="not_registered")
    if profile.status in (VolunteerStatus.WITHDRAWN, VolunteerStatus.REJECTED):
        raise ValidationError(
            _("This registration has ended; it can no longer be changed."), code="invalid_status"
        )
    return profile


@transaction.atomic
def volunteer_profile_update(
    *,
    user: User,
    skills=_UNCHANGED,
    service_category_ids=_UNCHANGED,
    available_times=_UNCHANGED,
    residence_area=_UNCHANGED,
    residence_community=_UNCHANGED,
) -> VolunteerProfile:
    """Change the fields nobody verifies; they apply at once."""
    profile = _own_profile(user)
    changed = []
    if residence_area is not _UNCHANGED or residence_community is not _UNCHANGED:
        area = profile.residence_area if residence_area is _UNCHANGED else residence_area
        community = (
            profile.residence_community
            if residence_community is _UNCHANGED
            else residence_community
        )
        profile.residence_area = _clean_residence(
            residence_area=area, residence_community=community
        )
        profile.residence_community = community
        changed += ["residence_area", "residence_community"]
    if available_times is not _UNCHANGED:
        profile.available_times = _clean_available_times(available_times)
        changed.append("available_times")
    if skills is not _UNCHANGED:
        profile.skills = (skills or "").strip()
        changed.append("skills")
    categories = None
    if service_category_ids is not _UNCHANGED:
        categories = _clean_categories(service_category_ids)
    if changed:
        profile.save(update_fields=changed)
    if categories is not None:
        profile.service_categories.set(categories)
        changed.append("service_categories")
    audit_log(actor=user, action="volunteer.update", target=profile, details={"fields": changed})
    return profile


def _current_verified(profile: VolunteerProfile) -> dict:
    user = profile.user
    return {
        "real_name": user.real_name,
        "gender": user.gender,
        "id_number": user.id_number,
        "birth_date": profile.birth_date,
    }


def _clean_changes(*, profile: VolunteerProfile, changes: dict) -> dict:
    """Validated new values of the verified fields that really change."""
    unknown = set(changes) - set(VERIFIED_FIELDS)
    if unknown:
        raise ValidationError(
            _("Only name, gender, ID number and date of birth go through review."),
            code="unknown_field",
        )
    current = _current_verified(profile)
    cleaned = {}
    if "real_name" in changes:
        cleaned["real_name"] = _clean_real_name(changes["real_name"])
    if "gender" in changes:
        cleaned["gender"] = _clean_gender(changes["gender"])
    if "id_number" in changes:
        cleaned["id_number"] = _clean_id_number(changes["id_number"], user=profile.user)
    id_number = cleaned.get("id_number", current["id_number"])
    if "birth_date" in changes or "id_number" in cleaned:
        cleaned["birth_date"] = _clean_birth_date(
            changes.get("birth_date", current["birth_date"]), id_number=id_number
        )
    return {key: value for key, value in cleaned.items() if value != current[key]}


def _stored_changes(changes: dict) -> dict:
    """JSON for the request; the ID number is kept encrypted, like on the user."""
    stored = {}
    for key, value in changes.items():
        if key == "id_number":
            stored["id_number"] = crypto.encrypt(value)
            stored["id_number_masked"] = crypto.mask(value)
        elif key == "birth_date":
            stored[key] = value.isoformat()
        else:
            stored[key] = value
    return stored


def profile_change_request_values(request: ProfileChangeRequest) -> dict:
    """The requested values as Python objects, the ID number decrypted."""
    values = {}
    for key, value in request.changes.items():
        if key == "id_number":
            values[key] = crypto.decrypt(value)
        elif key == "birth_date":
            values[key] = datetime.date.fromisoformat(value)
        elif key in VERIFIED_FIELDS:
            values[key] = value
    return values


@transaction.atomic
def profile_change_request_submit(*, user: User, changes: dict) -> ProfileChangeRequest:
    """Ask for a change to verified identity fields; staff approve it before it applies."""
    profile = _own_profile(user)
    if ProfileChangeRequest.objects.pending().filter(profile=profile).exists():
        raise ValidationError(
            _("A change to this profile is already awaiting review."), code="change_pending"
        )
    cleaned = _clean_changes(profile=profile, changes=changes)
    if not cleaned:
        raise ValidationError(
            _("Nothing would change: the values are the ones on file."), code="no_change"
        )
    request = ProfileChangeRequest(profile=profile, changes=_stored_changes(cleaned))
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("A change to this profile is already awaiting review."), code="change_pending"
        ) from exc
    audit_log(
        actor=user,
        action="volunteer.change_request.submit",
        target=request,
        details={"fields": sorted(cleaned)},
    )
    return request


def _lock_pending_request(*, actor, request: ProfileChangeRequest) -> ProfileChangeRequest:
    _require_manager(actor=actor, profile=request.profile)
    stored = ProfileChangeRequest.objects.select_for_update().get(pk=request.pk)
    if stored.status != ChangeRequestStatus.PENDING:
        raise ValidationError(
            _("This change request has already been decided."), code="invalid_status"
        )
    return stored


@transaction.atomic
def profile_change_request_approve(
    *, actor, request: ProfileChangeRequest, reason: str = ""
) -> ProfileChangeRequest:
    _lock_pending_request(actor=actor, request=request)
    profile = request.profile
    user = profile.user
    # Checked again: another person may have registered the ID number since.
    values = _clean_changes(profile=profile, changes=profile_change_request_values(request))
    for key in ("real_name", "gender", "id_number"):
        if key in values:
            setattr(user, key, values[key])
    user_fields = [key for key in ("real_name", "gender", "id_number") if key in values]
    if user_fields:
        try:
            with transaction.atomic():
                user.save(update_fields=user_fields)
        except IntegrityError as exc:
            raise _field_error(
                "id_number",
                _("A volunteer with this ID number is already registered."),
                "id_number_taken",
            ) from exc
    if "birth_date" in values:
        profile.birth_date = values["birth_date"]
        profile.save(update_fields=["birth_date"])
    request.status = ChangeRequestStatus.APPROVED
    request.reviewed_by = actor
    request.reviewed_at = timezone.now()
    request.review_note = (reason or "").strip()[:255]
    request.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_log(
        actor=actor,
        action="volunteer.change_request.approve",
        target=request,
        details={"fields": sorted(values)},
    )
    return request


@transaction.atomic
def profile_change_request_reject(
    *, actor, request: ProfileChangeRequest, reason: str
) -> ProfileChangeRequest:
    reason = _require_reason(reason)
    _lock_pending_request(actor=actor, request=request)
    request.status = ChangeRequestStatus.REJECTED
    request.reviewed_by = actor
    request.reviewed_at = timezone.now()
    request.review_note = reason
    request.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_log(
        actor=actor,
        action="volunteer.change_request.reject",
        target=request,
        details={"note": reason},
    )
    return request


# --- training ----------------------------------------------------------------------------------


def training_record_check(*, actor, user: User, held_on: datetime.date | None) -> None:
    """The rules a training record must pass before its fields are checked (forms use it too)."""
    if not VolunteerProfile.objects.manageable_by(actor).filter(user=user).exists():
        raise _field_error(
            "user",
            _("You can only record training for volunteers you are responsible for."),
            "outside_scope",
        )
    if held_on is not None and held_on > timezone.localdate():
        raise _field_error(
            "held_on", _("Training cannot be recorded before it has taken place."), "held_on_future"
        )


@transaction.atomic
def training_record_add(
    *,
    actor,
    user: User,
    name: str,
    content: str,
    hours: Decimal,
    organizer: str,
    held_on: datetime.date,
) -> TrainingRecord:
    training_record_check(actor=actor, user=user, held_on=held_on)
    record = TrainingRecord(
        user=user,
        name=(name or "").strip(),
        content=(content or "").strip(),
        hours=hours,
        organizer=(organizer or "").strip(),
        held_on=held_on,
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    audit_log(
        actor=actor,
        action="training_record.add",
        target=record,
        details={"hours": str(record.hours), "held_on": held_on.isoformat()},
    )
    return record


def user_language_set(*, user: User, language: str) -> bool:
    """Remember the language a signed-in user chose, for what is sent to them later
    (notifications). Unknown languages are ignored; returns whether it changed."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True
