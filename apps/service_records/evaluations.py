"""Evaluations by those served (MCA Order 67 Art. 10): 1–5 stars and a comment, once.

A resident rates through the link or QR code of one record, or of a whole activity (every
record of the activity at once); no account is needed. Community staff of the community where
the service happened may rate too, once more, as community staff.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.communities.models import CommunityStaff
from apps.core.services import audit_log

from .models import Evaluation, RaterKind, RecordStatus, ServiceRecord

MAX_COMMENT = 500
#: Only services that were recorded and stand may be rated.
RATEABLE_STATUSES = (RecordStatus.SUBMITTED, RecordStatus.APPROVED)


def _clean(stars, comment: str) -> tuple[int, str]:
    errors: dict[str, list[str]] = {}
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        errors["stars"] = [_("Choose between 1 and 5 stars.")]
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [
            _("The comment can be at most %(max)d characters.") % {"max": MAX_COMMENT}
        ]
    if errors:
        raise ValidationError(errors)
    return stars, comment


def is_community_staff_of(user, record: ServiceRecord) -> bool:
    """Whether ``user`` works for the community where the record's service happened."""
    if user is None or not user.is_authenticated or not record.community_id:
        return False
    return CommunityStaff.objects.active().filter(user=user, community=record.community_id).exists()


def rater_kind_for(user, record: ServiceRecord) -> str:
    return RaterKind.COMMUNITY_STAFF if is_community_staff_of(user, record) else RaterKind.RESIDENT


def _already_rated() -> ValidationError:
    return ValidationError(_("This service has already been rated."), code="already_rated")


@transaction.atomic
def evaluation_submit(
    *, record: ServiceRecord, stars, comment: str, rater_kind: str, rated_by=None
) -> Evaluation:
    """Rate one record, once per rater kind. Raises ValidationError with a clear message."""
    stars, comment = _clean(stars, comment)
    if rater_kind not in RaterKind.values:
        raise ValidationError(_("Unknown kind of rater."), code="bad_rater")
    if rated_by is not None and not rated_by.is_authenticated:
        rated_by = None
    if rater_kind == RaterKind.COMMUNITY_STAFF and not is_community_staff_of(rated_by, record):
        raise PermissionDenied(_("Only the community's staff rate as community staff."))
    # The lock makes two simultaneous ratings of one record wait for each other.
    stored = ServiceRecord.objects.select_for_update().get(pk=record.pk)
    if stored.status not in RATEABLE_STATUSES:
        raise ValidationError(
            _("This service record was %(status)s and cannot be rated.")
            % {"status": stored.get_status_display()},
            code="not_rateable",
        )
    if stored.volunteer_id and rated_by is not None and stored.volunteer_id == rated_by.pk:
        raise ValidationError(_("Nobody rates their own service."), code="own_record")
    if Evaluation.objects.filter(record=stored, rater_kind=rater_kind).exists():
        raise _already_rated()
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                record=stored,
                rater_kind=rater_kind,
                stars=stars,
                comment=comment,
                rated_by=rated_by,
            )
    except IntegrityError as error:
        raise _already_rated() from error
    audit_log(
        actor=rated_by,
        action="evaluation.submit",
        target=stored,
        details={"stars": stars, "rater_kind": rater_kind},
    )
    return evaluation


@transaction.atomic
def activity_evaluation_submit(*, activity, stars, comment: str, rated_by=None) -> int:
    """A resident rates the whole activity: every record of it not yet rated by a resident.

    Returns how many records were rated; raises ValidationError when none is left to rate.
    """
    stars, comment = _clean(stars, comment)
    if rated_by is not None and not rated_by.is_authenticated:
        rated_by = None
    records = list(
        ServiceRecord.objects.select_for_update()
        .filter(activity=activity, status__in=RATEABLE_STATUSES)
        .exclude(evaluations__rater_kind=RaterKind.RESIDENT)
        .order_by("pk")
    )
    if rated_by is not None:
        records = [r for r in records if r.volunteer_id != rated_by.pk]
    if not records:
        raise ValidationError(
            _("There is no service of this activity left to rate: it has already been rated.")
            if ServiceRecord.objects.filter(activity=activity).exists()
            else _("No service has been recorded for this activity yet."),
            code="nothing_to_rate",
        )
    try:
        with transaction.atomic():
            Evaluation.objects.bulk_create(
                Evaluation(
                    record=record,
                    rater_kind=RaterKind.RESIDENT,
                    stars=stars,
                    comment=comment,
                    rated_by=rated_by,
                )
                for record in records
            )
    except IntegrityError as error:
        raise _already_rated() from error
    audit_log(
        actor=rated_by,
        action="evaluation.submit_activity",
        target=activity,
        details={"stars": stars, "records": [r.pk for r in records]},
    )
    return len(records)
