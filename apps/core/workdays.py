"""The Chinese working-day calendar and working hours (Asia/Shanghai).

A day is a working day when it is Monday to Friday and not a statutory holiday, or when it is
a weekend day declared a make-up working day (调休). The exceptions live in
``core.CalendarDay``, maintained per year by staff: a few dozen rows a year.

Each process keeps the whole calendar in memory (``apps.core.memo``): the process that
changes it reads it again at once, every other follows within seconds. That is soon enough:
the calendar changes a few times a year, a day at a time, and months ahead.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import functools

from django.conf import settings
from django.utils import timezone

from .memo import SharedMemo
from .models import CalendarDay, CalendarDayKind


@dataclasses.dataclass(frozen=True)
class _Calendar:
    #: date -> True for a make-up working day, False for a holiday.
    exceptions: dict[datetime.date, bool]
    #: The exceptions' dates, sorted, to find those inside a range by bisection.
    dates: tuple[datetime.date, ...]


def _read() -> _Calendar:
    rows = CalendarDay.objects.values_list("date", "kind")
    exceptions = {day: kind == CalendarDayKind.WORKDAY for day, kind in rows}
    return _Calendar(exceptions=exceptions, dates=tuple(sorted(exceptions)))


calendar_memo = SharedMemo("workdays", _read)
#: Every change to a ``CalendarDay`` starts a new version (connected in ``CoreConfig.ready``).
calendar_changed = calendar_memo.changed


def connect() -> None:
    calendar_memo.connect(CalendarDay)


def _calendar() -> _Calendar:
    return calendar_memo.get()


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


@functools.lru_cache(maxsize=8)
def _parse_periods(periods: tuple[str, ...]) -> tuple[tuple[datetime.time, datetime.time], ...]:
    """``WORKING_HOURS`` ("HH:MM-HH:MM" each) read once for each value the setting takes."""
    parsed = []
    for period in periods:
        start, end = period.split("-")
        parsed.append((datetime.time.fromisoformat(start), datetime.time.fromisoformat(end)))
    return tuple(parsed)


def overlaps_working_hours(started_at: datetime.datetime, ended_at: datetime.datetime) -> bool:
    """Whether any part of the span falls inside working hours on a working day."""
    zone = timezone.get_current_timezone()  # once: each lookup of it costs a context read
    start = timezone.localtime(started_at, zone)
    end = timezone.localtime(ended_at, zone)
    periods = _parse_periods(tuple(settings.WORKING_HOURS))
    exceptions = _calendar().exceptions
    day = start.date()
    while day <= end.date():
        if _is_working(day, exceptions):
            for period_start, period_end in periods:
                window_start = timezone.make_aware(
                    datetime.datetime.combine(day, period_start), zone
                )
                window_end = timezone.make_aware(datetime.datetime.combine(day, period_end), zone)
                if start < window_end and end > window_start:
                    return True
        day += datetime.timedelta(days=1)
    return False
