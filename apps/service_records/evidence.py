"""Evidence photos of a service: checked (size, count, a real image), stored with their
perceptual hash and size, and run through the checks against formalism."""

from __future__ import annotations

from collections.abc import Iterable

import imagehash
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.core.services import audit_log

from .models import Evidence, ServiceRecord

#: What Pillow raises for files that are not images, are truncated or are decompression bombs.
_NOT_AN_IMAGE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


def _name(photo) -> str:
    return getattr(photo, "name", "") or _("the photo")


def validate_photos(photos: Iterable, *, already: int = 0) -> list:
    """The uploaded files, checked: at most EVIDENCE_MAX_PHOTOS per record (``already`` stored),
    each at most EVIDENCE_MAX_UPLOAD_MB and an image Pillow can open. Raises one
    ValidationError on ``photos`` with a message per problem."""
    photos = [photo for photo in (photos or ()) if photo]
    limit = settings.EVIDENCE_MAX_PHOTOS
    errors = []
    if already + len(photos) > limit:
        errors.append(
            _("A record can have at most %(limit)d photos; this one would have %(count)d.")
            % {"limit": limit, "count": already + len(photos)}
        )
    max_bytes = settings.EVIDENCE_MAX_UPLOAD_MB * 1024 * 1024
    for photo in photos:
        if photo.size > max_bytes:
            errors.append(
                _("“%(name)s” is %(size).1f MB; a photo may be at most %(limit)d MB.")
                % {
                    "name": _name(photo),
                    "size": photo.size / 1024 / 1024,
                    "limit": settings.EVIDENCE_MAX_UPLOAD_MB,
                }
            )
            continue
        try:
            photo.seek(0)
            with Image.open(photo) as image:
                image.verify()
        except _NOT_AN_IMAGE:
            errors.append(
                _("“%(name)s” is not a photo: upload JPEG or PNG images.") % {"name": _name(photo)}
            )
        finally:
            photo.seek(0)
    if errors:
        raise ValidationError({"photos": errors})
    return photos


def describe_image(photo) -> tuple[str, int, int]:
    """(phash as 16 hex digits, width, height) of an uploaded image, upright as shown."""
    photo.seek(0)
    with Image.open(photo) as image:
        upright = ImageOps.exif_transpose(image)
        width, height = upright.size
        phash = str(imagehash.phash(upright))
    photo.seek(0)
    return phash, width, height


def store_photos(*, actor, record: ServiceRecord, photos: Iterable) -> list[Evidence]:
    """Save checked photos for a record (inside the caller's transaction)."""
    stored = []
    for photo in photos:
        phash, width, height = describe_image(photo)
        evidence = Evidence(
            record=record,
            phash=phash,
            width=width,
            height=height,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
        )
        evidence.image.save(photo.name.rsplit("/", 1)[-1] or "photo.jpg", photo, save=False)
        evidence.save()
        stored.append(evidence)
    return stored


def may_add_evidence(actor, record: ServiceRecord) -> bool:
    return actor.is_authenticated and actor.pk in (record.volunteer_id, record.submitted_by_id)


@transaction.atomic
def evidence_add(*, actor, record: ServiceRecord, photos: Iterable) -> list[Evidence]:
    """The volunteer (or whoever entered the record) adds photos to a record not yet approved."""
    from .checks import refresh_flags
    from .services import lock_record, require_editable

    if not may_add_evidence(actor, record):
        raise PermissionDenied(_("Only the volunteer or whoever entered the record adds photos."))
    stored = lock_record(record)
    require_editable(stored)
    photos = validate_photos(photos, already=stored.evidence.count())
    if not photos:
        raise ValidationError({"photos": [_("Choose at least one photo.")]})
    added = store_photos(actor=actor, record=stored, photos=photos)
    audit_log(
        actor=actor,
        action="service_record.evidence_add",
        target=stored,
        details={"photos": len(added)},
    )
    refresh_flags(stored)
    record.flags = stored.flags
    return added
