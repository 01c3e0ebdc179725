"""The recording rules every service record obeys, however it arrives (MCA Order 67).

``check_record`` raises one ``ValidationError`` with a message per field that is wrong, and
returns whether the record is a late entry (补录). It reads the volunteer's other records, so
call it inside the transaction that holds the volunteer's row lock (``services._lock_volunteer``).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import prepared
from apps.core.workdays import overlaps_working_hours, working_days_after

from .models import RECORD_MAX_SPAN, RecordStatus, ServiceRecord

#: Records that hold time in a volunteer's day (rejected and revoked ones do not).
LIVE_STATUSES = (RecordStatus.SUBMITTED, RecordStatus.APPROVED)
#: Clocks on phones drift: an end this close to now is not "in the future".
FUTURE_GRACE = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class RuleResult:
    is_late: bool
    working_days_since: int
    within_working_hours: bool


def span_error(started_at: datetime.datetime, ended_at: datetime.datetime) -> str | None:
    """The refusal of a record longer than a day from start to end, if it is one."""
    if ended_at - started_at > RECORD_MAX_SPAN:
        return _(
            "One record covers at most %(hours)d hours from start to end: record longer "
            "service day by day."
        ) % {"hours": RECORD_MAX_SPAN // datetime.timedelta(hours=1)}
    return None


def non_volunteer_keyword(*texts: str) -> str | None:
    """The first keyword marking a non-volunteer activity (meeting, dinner …) in the texts."""
    for keyword in settings.NON_VOLUNTEER_KEYWORDS:
        keyword = keyword.strip()
        if keyword and any(keyword in (text or "") for text in texts):
            return keyword
    return None


@functools.cache
def _day_and_overlaps_sql(vendor: str, *, excluding: bool, also: str = "") -> str:
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in ServiceRecord._meta.concrete_fields}
    overlap = f"{column['started_at']} < %s AND {column['ended_at']} > %s"
    # No record spans more than RECORD_MAX_SPAN (a constraint), so one that overlaps the new
    # span ends before the new end plus that: the index on (volunteer, ended_at) is read
    # over about a day, whatever the order the records came in.
    bounded = f"{overlap} AND {column['ended_at']} < %s"
    return (
        f"SELECT SUM(CASE WHEN {column['service_date']} = %s "
        f"THEN {column['duration_minutes']} ELSE 0 END), "
        f"SUM(CASE WHEN {overlap} THEN 1 ELSE 0 END)"
        + (f", ({also})" if also else "")
        + f" FROM {quote(ServiceRecord._meta.db_table)} "
        f"WHERE {column['volunteer']} = %s AND {column['status']} IN (%s, %s) "
        + (f"AND {column['id']} <> %s " if excluding else "")
        + f"AND ({column['service_date']} = %s OR ({bounded}))"
    )


def day_and_overlaps_statement(
    *,
    volunteer_id: int,
    day: datetime.date,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    exclude_pk: int | None = None,
    also: tuple[str, list] | None = None,
) -> tuple[str, list]:
    """The statement of ``day_and_overlaps`` (SQL and parameters), for a caller that sends it
    with another; ``also`` (SQL and parameters of a one-value query) adds a third column."""
    ops = connection.ops
    day_value = ops.adapt_datefield_value(day)
    span = [ops.adapt_datetimefield_value(ended_at), ops.adapt_datetimefield_value(started_at)]
    also_sql, also_params = also or ("", [])
    params = [day_value, *span, *also_params, volunteer_id, *LIVE_STATUSES]
    if exclude_pk:
        params.append(exclude_pk)
    params += [day_value, *span, ops.adapt_datetimefield_value(ended_at + RECORD_MAX_SPAN)]
    sql = _day_and_overlaps_sql(connection.vendor, excluding=bool(exclude_pk), also=also_sql)
    return sql, params


def found_in(row) -> dict[str, int]:
    """``{"already", "overlaps"}`` from the first two columns of the read's row."""
    return {"already": row[0] or 0, "overlaps": row[1] or 0}


def day_and_overlaps(
    *,
    volunteer_id: int,
    day: datetime.date,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    exclude_pk: int | None = None,
) -> dict[str, int]:
    """The minutes a volunteer's live records already hold on ``day`` and how many of them
    overlap the span: ``{"already", "overlaps"}``.

    One statement on every submit: written out, because compiling it through the ORM cost
    several times what running it does (``test_rules`` holds it to the ORM's answer). It
    looks for overlaps among the records that end less than ``RECORD_MAX_SPAN`` after the new
    one ends: no record spans longer, so no other can overlap.
    """
    sql, params = day_and_overlaps_statement(
        volunteer_id=volunteer_id,
        day=day,
        started_at=started_at,
        ended_at=ended_at,
        exclude_pk=exclude_pk,
    )
    with connection.cursor() as cursor:
        prepared.execute(cursor, connection, sql, params)
        return found_in(cursor.fetchone())


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def check_record(
    *,
    volunteer,
    activity_name: str,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    duration_minutes: int,
    late_reason: str = "",
    exclude_pk: int | None = None,
    now: datetime.datetime | None = None,
    recorded_at: datetime.datetime | None = None,
    read: Callable[..., dict] | None = None,
) -> RuleResult:
    """``recorded_at`` is when the record counts as recorded for the deadline (a correction
    keeps its first submission's moment); it defaults to ``now``.

    ``read`` stands in for ``day_and_overlaps`` (same arguments, same answer): the submit
    sends the volunteer's lock with the read, in one round trip. It runs only once the checks
    that need no database have passed."""
    now = now or timezone.now()
    recorded_at = recorded_at or now
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if started_at is None:
        add("started_at", _("Give the start time."))
    if ended_at is None:
        add("ended_at", _("Give the end time."))
    if errors:
        raise ValidationError(errors)

    keyword = non_volunteer_keyword(activity_name)
    if keyword:
        add(
            "activity_name",
            _(
                "“%(keyword)s” is not volunteer service: meetings, dinners, team-building, "
                "rehearsals and commercial events are not recorded (MCA Order 67 Art. 17)."
            )
            % {"keyword": keyword},
        )
    if ended_at <= started_at:
        add("ended_at", _("The end must be after the start."))
    if duration_minutes is None or duration_minutes <= 0:
        add("duration_minutes", _("The service time must be more than zero."))
    elif ended_at > started_at:
        span = (ended_at - started_at).total_seconds() / 60
        if duration_minutes > span + 0.5:
            add(
                "duration_minutes",
                _(
                    "The service time (%(minutes)d minutes) cannot be longer than the time "
                    "from start to end (%(span)d minutes)."
                )
                % {"minutes": duration_minutes, "span": span},
            )
    if started_at > now + FUTURE_GRACE or ended_at > now + FUTURE_GRACE:
        add("ended_at", _("Service can only be recorded once it has ended, not in advance."))
    if errors:
        raise ValidationError(errors)

    limit_minutes = settings.SERVICE_RECORD_MAX_HOURS_PER_DAY * 60
    zone = timezone.get_current_timezone()
    service_day = timezone.localtime(started_at, zone).date()
    # One read answers both rules: the day's minutes and whether anything overlaps; the
    # overlapping record itself is read only to name it in the refusal.
    found = (read or day_and_overlaps)(
        volunteer_id=volunteer.pk,
        day=service_day,
        started_at=started_at,
        ended_at=ended_at,
        exclude_pk=exclude_pk,
    )
    if too_long := span_error(started_at, ended_at):
        add("ended_at", too_long)
    if found["overlaps"]:
        others = ServiceRecord.objects.filter(volunteer=volunteer, status__in=LIVE_STATUSES)
        if exclude_pk:
            others = others.exclude(pk=exclude_pk)
        overlap = Q(
            started_at__lt=ended_at,
            ended_at__gt=started_at,
            ended_at__lt=ended_at + RECORD_MAX_SPAN,
        )
        overlapping = others.filter(overlap).order_by("started_at").first()
        add(
            "started_at",
            _(
                "This overlaps the record “%(name)s” from %(start)s to %(end)s: one person "
                "cannot serve twice at the same time."
            )
            % {
                "name": overlapping.activity_name,
                "start": _local(overlapping.started_at),
                "end": _local(overlapping.ended_at),
            },
        )
    if duration_minutes > limit_minutes:
        add(
            "duration_minutes",
            _("At most %(hours)d hours of service can be recorded for one day.")
            % {"hours": settings.SERVICE_RECORD_MAX_HOURS_PER_DAY},
        )
    else:
        already = found["already"] or 0
        if already + duration_minutes > limit_minutes:
            add(
                "duration_minutes",
                _(
                    "At most %(hours)d hours of service can be recorded for one day; "
                    "%(day)s already has %(existing)s hours."
                )
                % {
                    "hours": settings.SERVICE_RECORD_MAX_HOURS_PER_DAY,
                    "day": service_day.isoformat(),
                    "existing": round(already / 60, 1),
                },
            )

    end_day = timezone.localtime(ended_at, zone).date()
    days_since = working_days_after(end_day, timezone.localtime(recorded_at, zone).date())
    limit_days = settings.RECORDING_DEADLINE_WORKING_DAYS
    is_late = days_since > limit_days
    if is_late and not (late_reason or "").strip():
        add(
            "late_reason",
            _(
                "This service ended %(days)d working days ago; records are due within "
                "%(limit)d working days. Give a reason for the late entry (补录): a "
                "reviewer will check it."
            )
            % {"days": days_since, "limit": limit_days},
        )
    if errors:
        raise ValidationError(errors)
    return RuleResult(
        is_late=is_late,
        working_days_since=days_since,
        within_working_hours=overlaps_working_hours(started_at, ended_at),
    )
