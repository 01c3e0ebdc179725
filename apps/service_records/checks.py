"""Checks against formalism (形式主义): what makes a record look repeated, staged or implausible.

``record_flags(record)`` returns ``[{"code", "reason", "params"}]``; the services store it on
``record.flags`` after every submit, correction and photo. Flags never block a record: they are
shown to the reviewer, who decides. ``reason`` is a sentence in the language active when the
check ran; ``flag_reason(flag)`` renders it again in the current language from its params.
Thresholds come from ``settings.FORMALISM_CHECKS``.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import statistics
import unicodedata

from django.conf import settings
from django.db.models import Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .models import Evidence, RecordStatus, ServiceRecord

#: Records that count for the checks (a rejected or revoked record is no longer a claim).
LIVE_STATUSES = (RecordStatus.SUBMITTED, RecordStatus.APPROVED)
SAME_CONTENT_WINDOW_DAYS = 30
#: The 64-bit photo hash is split into four 16-bit bands; two photos within the distance
#: threshold usually share one band exactly (always, up to 3 differing bits), so candidates are
#: found by equality on a band instead of comparing every stored hash.
PHASH_BANDS = 4
PHASH_CANDIDATES = 200


def _threshold(name: str):
    return settings.FORMALISM_CHECKS[name]


# Content fingerprints ------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def normalise_content(text: str) -> str:
    """Text with case, width, spaces, punctuation and numbers taken out: "为3位老人理发。" and
    "为 5 位老人理发" normalise alike."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _DIGITS.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LM")


def content_fingerprint(text: str) -> str:
    normalised = normalise_content(text)
    if not normalised:
        return ""
    return hashlib.sha1(normalised.encode(), usedforsecurity=False).hexdigest()


# Photo hashes --------------------------------------------------------------------------------


def hamming(first: str, second: str) -> int:
    return (int(first, 16) ^ int(second, 16)).bit_count()


def _band_q(phash: str) -> Q:
    width = len(phash) // PHASH_BANDS
    # The first band is a prefix: PostgreSQL answers it from the varchar_pattern_ops index.
    q = Q(phash=phash) | Q(phash__startswith=phash[:width])
    for band in range(1, PHASH_BANDS):
        q |= Q(**{f"band{band}": phash[band * width : (band + 1) * width]})
    return q


def similar_evidence(phash: str, *, exclude_record_id: int | None = None):
    """Stored photos whose hash lies within the threshold of ``phash``: ``[(evidence, bits)]``."""
    if not phash or len(phash) != 16:
        return []
    width = len(phash) // PHASH_BANDS
    candidates = Evidence.objects.annotate(
        **{
            f"band{band}": Substr("phash", band * width + 1, width)
            for band in range(1, PHASH_BANDS)
        }
    ).filter(_band_q(phash))
    if exclude_record_id:
        candidates = candidates.exclude(record_id=exclude_record_id)
    limit = _threshold("photo_hash_distance")
    found = []
    rows = candidates.select_related("record", "record__volunteer").order_by("-pk")
    for evidence in rows[:PHASH_CANDIDATES]:
        bits = hamming(phash, evidence.phash)
        if bits <= limit:
            found.append((evidence, bits))
    return found


# The checks ----------------------------------------------------------------------------------


def _flag(code: str, params: dict) -> dict:
    flag = {"code": code, "params": params}
    flag["reason"] = flag_reason(flag)
    return flag


def flag_reason(flag: dict) -> str:
    """The human sentence for a stored flag, in the current language."""
    params = flag.get("params") or {}
    code = flag.get("code")
    try:
        if code == "recipient_per_day":
            return (
                gettext(
                    "The same person served has %(count)d records on %(day)s; more than "
                    "%(limit)d a day is unusual."
                )
                % params
            )
        if code == "recipient_concurrent":
            return (
                gettext(
                    "%(count)d volunteers recorded service for the same person at overlapping "
                    "times; more than %(limit)d at once is unusual."
                )
                % params
            )
        if code == "same_photo":
            return (
                ngettext(
                    "The same photo is in %(count)d other record: %(records)s.",
                    "The same photo is in %(count)d other records: %(records)s.",
                    params["count"],
                )
                % params
            )
        if code == "same_content":
            return (
                gettext(
                    "The same description was used for %(count)d services within %(days)d days; "
                    "more than %(limit)d is unusual."
                )
                % params
            )
        if code == "checkin_offset" and params.get("direction") == "out":
            return (
                gettext(
                    "Checked out at %(time)s, %(minutes)d minutes outside the activity's time "
                    "(%(start)s–%(end)s)."
                )
                % params
            )
        if code == "checkin_offset":
            return (
                gettext(
                    "Checked in at %(time)s, %(minutes)d minutes outside the activity's time "
                    "(%(start)s–%(end)s)."
                )
                % params
            )
        if code == "peer_hours":
            return (
                gettext(
                    "%(hours)s hours in %(month)s, more than %(factor)s times the median of the "
                    "team's volunteers (%(median)s hours)."
                )
                % params
            )
    except (KeyError, TypeError, ValueError):
        pass
    return flag.get("reason", "")


def _short(value: datetime.datetime, fmt="%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt)


def _recipient_flags(record: ServiceRecord) -> list[dict]:
    if not record.care_recipient_id:
        return []
    flags = []
    same_person = ServiceRecord.objects.filter(
        care_recipient_id=record.care_recipient_id, status__in=LIVE_STATUSES
    )
    per_day = same_person.filter(service_date=record.service_date).count()
    limit = _threshold("recipient_per_day")
    if per_day > limit:
        flags.append(
            _flag(
                "recipient_per_day",
                {"count": per_day, "day": record.service_date.isoformat(), "limit": limit},
            )
        )
    concurrent = (
        same_person.filter(started_at__lt=record.ended_at, ended_at__gt=record.started_at)
        .values("volunteer_id")
        .distinct()
        .count()
    )
    limit = _threshold("recipient_concurrent_volunteers")
    if concurrent > limit:
        flags.append(_flag("recipient_concurrent", {"count": concurrent, "limit": limit}))
    return flags


def _photo_flags(record: ServiceRecord) -> list[dict]:
    others: dict[int, ServiceRecord] = {}
    for phash in record.evidence.values_list("phash", flat=True):
        for evidence, _bits in similar_evidence(phash, exclude_record_id=record.pk):
            others.setdefault(evidence.record_id, evidence.record)
    if not others:
        return []
    shown = sorted(others.values(), key=lambda r: r.pk)[:5]
    records = "、".join(
        f"#{other.pk} {other.volunteer.get_full_name() or other.volunteer.username} "
        f"{other.service_date:%Y-%m-%d}"
        for other in shown
    )
    return [
        _flag(
            "same_photo",
            {"count": len(others), "records": records, "ids": sorted(others)},
        )
    ]


def _content_flags(record: ServiceRecord) -> list[dict]:
    if not record.content_fingerprint:
        return []
    window = datetime.timedelta(days=SAME_CONTENT_WINDOW_DAYS)
    # One leader entering one activity for many volunteers writes one description once: count
    # distinct occasions (start times), not records.
    occasions = (
        ServiceRecord.objects.filter(
            content_fingerprint=record.content_fingerprint,
            status__in=LIVE_STATUSES,
            service_date__range=(record.service_date - window, record.service_date + window),
        )
        .values("started_at")
        .distinct()
        .count()
    )
    limit = _threshold("same_content_records")
    if occasions > limit:
        return [
            _flag(
                "same_content",
                {"count": occasions, "days": SAME_CONTENT_WINDOW_DAYS, "limit": limit},
            )
        ]
    return []


def _checkin_flags(record: ServiceRecord) -> list[dict]:
    signup = record.signup
    if signup is None:
        return []
    activity = signup.activity
    offset = datetime.timedelta(minutes=_threshold("checkin_offset_minutes"))
    flags = []
    for direction, moment in (("in", signup.checked_in_at), ("out", signup.checked_out_at)):
        if moment is None:
            continue
        if moment < activity.starts_at - offset:
            minutes = (activity.starts_at - moment).total_seconds() // 60
        elif moment > activity.ends_at + offset:
            minutes = (moment - activity.ends_at).total_seconds() // 60
        else:
            continue
        flags.append(
            _flag(
                "checkin_offset",
                {
                    "direction": direction,
                    "time": _short(moment),
                    "minutes": int(minutes),
                    "start": _short(activity.starts_at),
                    "end": _short(activity.ends_at, "%H:%M"),
                },
            )
        )
    return flags


def _peer_flags(record: ServiceRecord) -> list[dict]:
    if not record.team_id:
        return []
    day = record.service_date
    totals = dict(
        ServiceRecord.objects.filter(
            team_id=record.team_id,
            status__in=LIVE_STATUSES,
            service_date__year=day.year,
            service_date__month=day.month,
        )
        .values("volunteer_id")
        .annotate(minutes=Sum("duration_minutes"))
        .values_list("volunteer_id", "minutes")
    )
    mine = totals.pop(record.volunteer_id, 0)
    if len(totals) < 2:
        return []
    median = statistics.median(totals.values())
    factor = _threshold("peer_hours_factor")
    if median and mine > factor * median:
        return [
            _flag(
                "peer_hours",
                {
                    "hours": f"{mine / 60:.1f}",
                    "month": f"{day:%Y-%m}",
                    "factor": f"{factor:g}",
                    "median": f"{median / 60:.1f}",
                },
            )
        ]
    return []


def record_flags(record: ServiceRecord) -> list[dict]:
    """Every check's flags for a saved record: ``[{"code", "reason", "params"}]``."""
    flags = []
    for check in (_recipient_flags, _photo_flags, _content_flags, _checkin_flags, _peer_flags):
        flags.extend(check(record))
    return flags


def refresh_flags(record: ServiceRecord, *, related: bool = True) -> list[dict]:
    """Run the checks and store the result on the record (one UPDATE when it changed).

    With ``related``, records awaiting review that share a photo with this one are checked
    again too, so both halves of a pair show the flag.
    """
    flags = record_flags(record)
    if flags != record.flags:
        record.flags = flags
        ServiceRecord.objects.filter(pk=record.pk).update(flags=flags)
    if related:
        shared = {
            pk for flag in flags if flag["code"] == "same_photo" for pk in flag["params"]["ids"]
        }
        for other in ServiceRecord.objects.filter(pk__in=shared, status=RecordStatus.SUBMITTED):
            refresh_flags(other, related=False)
    return flags
