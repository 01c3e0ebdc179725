"""Checks against formalism (形式主义): what makes a record look repeated, staged or implausible.

``record_flags(record)`` returns ``[{"code", "reason", "params"}]``; the services store it on
``record.flags`` after every submit, correction and photo. Flags never block a record: they are
shown to the reviewer, who decides. ``reason`` is a sentence in the language active when the
check ran; ``flag_reason(flag)`` renders it again in the current language from its params.
Thresholds come from ``settings.FORMALISM_CHECKS``.
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import json
import logging
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .models import Evidence, QueuedCheck, RecordStatus, ServiceRecord

logger = logging.getLogger(__name__)

#: Records that count for the checks (a rejected or revoked record is no longer a claim).
LIVE_STATUSES = (RecordStatus.SUBMITTED, RecordStatus.APPROVED)
SAME_CONTENT_WINDOW_DAYS = 30
#: The 64-bit photo hash is split into four 16-bit bands; two photos within the distance
#: threshold usually share one band exactly (always, up to 3 differing bits), so candidates are
#: found by equality on a band instead of comparing every stored hash.
PHASH_BANDS = 4
PHASH_CANDIDATES = 200
#: How many waiting records one transaction of the sweep checks.
SWEEP_BATCH = 200


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
    same_day = Q(service_date=record.service_date)
    overlap = Q(started_at__lt=record.ended_at, ended_at__gt=record.started_at)
    # One read: the person's records that day, and who served them at overlapping times.
    found = ServiceRecord.objects.filter(
        same_day | overlap, care_recipient_id=record.care_recipient_id, status__in=LIVE_STATUSES
    ).aggregate(
        per_day=Count("pk", filter=same_day),
        concurrent=Count("volunteer_id", distinct=True, filter=overlap),
    )
    per_day = found["per_day"]
    limit = _threshold("recipient_per_day")
    if per_day > limit:
        flags.append(
            _flag(
                "recipient_per_day",
                {"count": per_day, "day": record.service_date.isoformat(), "limit": limit},
            )
        )
    concurrent = found["concurrent"]
    limit = _threshold("recipient_concurrent_volunteers")
    if concurrent > limit:
        flags.append(_flag("recipient_concurrent", {"count": concurrent, "limit": limit}))
    return flags


def _photos_by_record(records: Sequence[ServiceRecord]) -> dict[int, list[str]]:
    found = defaultdict(list)
    rows = Evidence.objects.filter(record_id__in=[r.pk for r in records]).values_list(
        "record_id", "phash"
    )
    for record_id, phash in rows:
        found[record_id].append(phash)
    return found


def _photo_flags(record: ServiceRecord, phashes: list[str]) -> list[dict]:
    others: dict[int, ServiceRecord] = {}
    for phash in phashes:
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


def _content_occasions(records: Sequence[ServiceRecord]) -> dict[int, int]:
    """For each record with a description: on how many occasions (distinct start times) live
    records with the same description took place within the window around its date.

    One grouped read for the whole batch: occasions per description and day, for the batch's
    descriptions over the days any of its windows covers (one list and one range, however many
    descriptions: a batch of honest records has as many descriptions as records). A start time
    belongs to one day (``service_date`` is its local date), so a window's occasions are the
    sum of its days', and the days outside a record's own window are not counted for it.
    """
    window = datetime.timedelta(days=SAME_CONTENT_WINDOW_DAYS)
    by_print: dict[str, list[ServiceRecord]] = defaultdict(list)
    for record in records:
        if record.content_fingerprint:
            by_print[record.content_fingerprint].append(record)
    if not by_print:
        return {}
    dates = [record.service_date for group in by_print.values() for record in group]
    rows = (
        ServiceRecord.objects.filter(
            content_fingerprint__in=list(by_print),
            service_date__range=(min(dates) - window, max(dates) + window),
            status__in=LIVE_STATUSES,
        )
        .values_list("content_fingerprint", "service_date")
        .annotate(occasions=Count("started_at", distinct=True))
        .order_by("content_fingerprint", "service_date")
    )
    days: dict[str, list[datetime.date]] = defaultdict(list)
    running: dict[str, list[int]] = defaultdict(lambda: [0])  # running[fp][i]: days before i
    for fingerprint, day, occasions in rows:
        days[fingerprint].append(day)
        running[fingerprint].append(running[fingerprint][-1] + occasions)
    found = {}
    for fingerprint, group in by_print.items():
        for record in group:
            low = bisect.bisect_left(days[fingerprint], record.service_date - window)
            high = bisect.bisect_right(days[fingerprint], record.service_date + window)
            found[record.pk] = running[fingerprint][high] - running[fingerprint][low]
    return found


def _content_flags(occasions: int | None) -> list[dict]:
    # One leader entering one activity for many volunteers writes one description once: count
    # distinct occasions (start times), not records.
    limit = _threshold("same_content_records")
    if occasions is not None and occasions > limit:
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


def _month(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def _team_months(records: Sequence[ServiceRecord]) -> dict[tuple, dict[int, int]]:
    """Minutes per volunteer of each team and month the records fall in, live records only:
    ``{(team_id, first day of the month): {volunteer_id: minutes}}``, in one grouped read."""
    months = {(r.team_id, _month(r.service_date)) for r in records if r.team_id}
    if not months:
        return {}
    rows = (
        ServiceRecord.objects.filter(
            reduce(or_, (Q(team_id=team, service_date__range=span) for team, span in months)),
            status__in=LIVE_STATUSES,
        )
        .annotate(month=TruncMonth("service_date"))
        .values_list("team_id", "month", "volunteer_id")
        .annotate(minutes=Sum("duration_minutes"))
        .order_by()
    )
    totals: dict[tuple, dict[int, int]] = defaultdict(dict)
    for team_id, month, volunteer_id, minutes in rows:
        if isinstance(month, datetime.datetime):  # some backends truncate to a datetime
            month = month.date()
        totals[(team_id, month)][volunteer_id] = minutes
    return totals


def _peer_flags(record: ServiceRecord, team_months: dict[tuple, dict[int, int]]) -> list[dict]:
    if not record.team_id:
        return []
    day = record.service_date
    totals = dict(team_months.get((record.team_id, day.replace(day=1)), {}))
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


def records_flags(records: Sequence[ServiceRecord]) -> dict[int, list[dict]]:
    """Every check's flags for saved records, by record id: ``{pk: [{"code", "reason",
    "params"}]}``. The checks that compare a record with others read them once for the
    whole batch (photos, descriptions, the team's month), so checking many records at once
    costs a few queries more than checking one."""
    photos = _photos_by_record(records)
    occasions = _content_occasions(records)
    team_months = _team_months(records)
    found = {}
    for record in records:
        found[record.pk] = [
            *_recipient_flags(record),
            *_photo_flags(record, photos.get(record.pk, [])),
            *_content_flags(occasions.get(record.pk)),
            *_checkin_flags(record),
            *_peer_flags(record, team_months),
        ]
    return found


def record_flags(record: ServiceRecord) -> list[dict]:
    """Every check's flags for a saved record: ``[{"code", "reason", "params"}]``."""
    return records_flags([record])[record.pk]


def _shared_photo_ids(flags: list[dict]) -> set[int]:
    return {pk for flag in flags if flag["code"] == "same_photo" for pk in flag["params"]["ids"]}


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
        _refresh_others(_shared_photo_ids(flags))
    return flags


def _refresh_others(ids: set[int]) -> None:
    for other in ServiceRecord.objects.filter(pk__in=ids, status=RecordStatus.SUBMITTED):
        refresh_flags(other, related=False)


# Records waiting for their checks -------------------------------------------------------------


def _store_checked(records: list[ServiceRecord], flags: dict[int, list[dict]]) -> None:
    # Only the records whose flags changed are written (most have none, before and after), in
    # one UPDATE per distinct set of flags (a batch has few: records alike are flagged alike).
    groups: dict[str, list[int]] = defaultdict(list)
    for record in records:
        if flags[record.pk] != record.flags:
            record.flags = flags[record.pk]
            groups[json.dumps(record.flags, sort_keys=True)].append(record.pk)
    for key, ids in groups.items():
        ServiceRecord.objects.filter(pk__in=ids).update(flags=json.loads(key))
    _dequeue(records)
    # Both halves of a shared photo show the flag.
    batch = {record.pk for record in records}
    _refresh_others(set().union(*map(_shared_photo_ids, flags.values())) - batch)


def _dequeue(records: list[ServiceRecord]) -> None:
    QueuedCheck.objects.filter(record_id__in=[record.pk for record in records]).delete()


def _check_batch(records: list[ServiceRecord]) -> None:
    try:
        with transaction.atomic():
            _store_checked(records, records_flags(records))
        return
    except Exception:
        if len(records) == 1:
            # Checked no further, so that one record cannot hold up every later sweep.
            logger.exception("checks against formalism failed on record %s", records[0].pk)
            _dequeue(records)
            return
    for record in records:  # find the record that fails, check the others
        _check_batch([record])


def _waiting_batch(batch: int) -> list[ServiceRecord]:
    """Up to ``batch`` records waiting for their checks, locked with their queue rows; those
    locked elsewhere (by another sweep, or a correction being saved) are skipped."""
    queued = list(
        QueuedCheck.objects.select_for_update(skip_locked=True)
        .order_by("record_id")
        .values_list("record_id", flat=True)[:batch]
    )
    if not queued:
        return []
    return list(
        ServiceRecord.objects.filter(pk__in=queued)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("signup__activity")
        .order_by("pk")
    )


def check_waiting_records(*, batch: int = SWEEP_BATCH) -> int:
    """Run the checks on every record waiting for them (a ``QueuedCheck``), a batch at a
    time, and store the flags; returns how many records were checked.

    A batch is locked while it is checked, skipping records locked elsewhere: two sweeps at
    once share the work, and a correction being saved (which checks its record itself) is
    never overwritten by flags from before it; a skipped record stays queued for the next
    sweep.
    """
    checked = 0
    while True:
        with transaction.atomic():
            records = _waiting_batch(batch)
            if records:
                _check_batch(records)
        checked += len(records)
        if len(records) < batch:
            return checked
