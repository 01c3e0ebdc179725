"""The Chinese working-day calendar and working hours (Asia/Shanghai).

A day is a working day when it is Monday to Friday and not a statutory holiday, or when it is
a weekend day declared a make-up working day (调休). The exceptions live in
``core.CalendarDay``, maintained per year by staff: a few dozen rows a year.

Each process keeps the whole calendar in memory under a *version* held in the shared cache.
Every change to a ``CalendarDay`` starts a new version (``calendar_changed``, connected in
``CoreConfig.ready``). The process that made the change reads the calendar again at once;
every other compares versions (one cache read) at most every ``CALENDAR_CHECK_SECONDS``, so
it follows within seconds: the calendar changes a few times a year, a day at a time, and
months ahead. The memo's time limit is only a backstop for changes made behind the ORM's
back (a data migration, raw SQL).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import threading
import time
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from .models import CalendarDay, CalendarDayKind

CALENDAR_MEMO_SECONDS = 3600
CALENDAR_CHECK_SECONDS = 5
_VERSION_KEY = "workdays:version"


@dataclasses.dataclass(frozen=True)
class _Calendar:
    version: str
    expires: float
    #: When the version was last compared with the shared one (``time.monotonic()``).
    checked: float
    #: date -> True for a make-up working day, False for a holiday.
    exceptions: dict[datetime.date, bool]
    #: The exceptions' dates, sorted, to find those inside a range by bisection.
    dates: tuple[datetime.date, ...]


_memo: _Calendar | None = None  # this process's copy
#: ``unpublished``: the version this thread started in a transaction not yet committed.
_thread = threading.local()


def _new_version() -> str:
    version = uuid.uuid4().hex
    cache.set(_VERSION_KEY, version, None)
    return version


def _committed() -> None:
    _thread.unpublished = None
    _new_version()


def calendar_changed() -> None:
    """A calendar day was added, changed or removed: every process reads the calendar again.

    A new version now, so the rest of this transaction (and a test) sees the change, and again
    once it commits, so a copy another process read before the commit is not kept."""
    global _memo
    _memo = None
    _thread.unpublished = _new_version()
    transaction.on_commit(_committed)


def forget_calendar() -> None:
    """Start afresh: a new version, nothing kept (tests start so, since a rollback or a flush
    removes calendar days without a signal)."""
    global _memo
    _memo = None
    _thread.unpublished = None
    _new_version()


def _calendar_day_saved_or_deleted(sender, **kwargs) -> None:
    calendar_changed()


def connect() -> None:
    receiver = _calendar_day_saved_or_deleted
    post_save.connect(receiver, sender=CalendarDay, dispatch_uid="workdays-calendar-save")
    post_delete.connect(receiver, sender=CalendarDay, dispatch_uid="workdays-calendar-delete")


def _read(version: str) -> _Calendar:
    rows = CalendarDay.objects.values_list("date", "kind")
    exceptions = {day: kind == CalendarDayKind.WORKDAY for day, kind in rows}
    now = time.monotonic()
    return _Calendar(
        version=version,
        expires=now + CALENDAR_MEMO_SECONDS,
        checked=now,
        exceptions=exceptions,
        dates=tuple(sorted(exceptions)),
    )


def _calendar() -> _Calendar:
    global _memo
    memo = _memo
    if memo is not None and time.monotonic() - memo.checked < CALENDAR_CHECK_SECONDS:
        return memo
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(_VERSION_KEY)
    if version == getattr(_thread, "unpublished", None):
        if connection.in_atomic_block:
            # This transaction changed the calendar: what it reads is its own until it
            # commits (or rolls back), so it is not kept for anyone else.
            return _read(version)
        _thread.unpublished = None  # that transaction rolled back
    memo = _memo
    if memo is None or memo.version != version or memo.expires < time.monotonic():
        # The version is read before the rows: a change committed meanwhile has moved it on
        # already, so a copy older than the change is never taken for the newer version.
        memo = _read(version)
    else:
        memo = dataclasses.replace(memo, checked=time.monotonic())
    _memo = memo
    return memo


def _exceptions(start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    """The calendar's exceptions (date -> is a working day) from ``start`` to ``end``."""
    calendar = _calendar()
    low = bisect.bisect_left(calendar.dates, start)
    high = bisect.bisect_right(calendar.dates, end, lo=low)
    return {day: calendar.exceptions[day] for day in calendar.dates[low:high]}


def _is_working(day: datetime.date, exceptions: dict[datetime.date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def is_working_day(day: datetime.date) -> bool:
    return _is_working(day, _calendar().exceptions)


def _weekdays_through(day: datetime.date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday) up to and including ``day``."""
    ordinal = day.toordinal()
    return ordinal // 7 * 5 + min(ordinal % 7, 5)


def working_days_after(start: datetime.date, end: datetime.date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end <= start).

    The day of the service itself does not count: service on Friday logged the next Monday is
    one working day after it.
    """
    if end <= start:
        return 0
    count = _weekdays_through(end) - _weekdays_through(start)
    for day, working in _exceptions(start + datetime.timedelta(days=1), end).items():
        weekday = day.weekday() < 5
        if working and not weekday:
            count += 1
        elif weekday and not working:
            count -= 1
    return count


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date that is ``days`` working days after ``start``."""
    exceptions = _calendar().exceptions
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if _is_working(day, exceptions):
            remaining -= 1
    return day


def recording_deadline(service_day: datetime.date) -> datetime.date:
    """The last day a service on ``service_day`` may be recorded without a late entry."""
    return add_working_days(service_day, settings.RECORDING_DEADLINE_WORKING_DAYS)


def _parse_periods(periods: Iterable[str]) -> list[tuple[datetime.time, datetime.time]]:
    parsed = []
    for period in periods:
        start, end = period.split("-")
        parsed.append((datetime.time.fromisoformat(start), datetime.time.fromisoformat(end)))
    return parsed


def overlaps_working_hours(started_at: datetime.datetime, ended_at: datetime.datetime) -> bool:
    """Whether any part of the span falls inside working hours on a working day."""
    start = timezone.localtime(started_at)
    end = timezone.localtime(ended_at)
    periods = _parse_periods(settings.WORKING_HOURS)
    exceptions = _calendar().exceptions
    day = start.date()
    while day <= end.date():
        if _is_working(day, exceptions):
            for period_start, period_end in periods:
                window_start = timezone.make_aware(datetime.datetime.combine(day, period_start))
                window_end = timezone.make_aware(datetime.datetime.combine(day, period_end))
                if start < window_end and end > window_start:
                    return True
        day += datetime.timedelta(days=1)
    return False
