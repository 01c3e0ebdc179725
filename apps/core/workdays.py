"""The Chinese working-day calendar and working hours (Asia/Shanghai).

A day is a working day when it is Monday to Friday and not a statutory holiday, or when it is
a weekend day declared a make-up working day (调休). The exceptions live in
``core.CalendarDay``, maintained per year by staff; they are read once per call, per range.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from .models import CalendarDay, CalendarDayKind


def _exceptions(start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    rows = CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind")
    return {day: kind == CalendarDayKind.WORKDAY for day, kind in rows}


def _is_working(day: datetime.date, exceptions: dict[datetime.date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def is_working_day(day: datetime.date) -> bool:
    return _is_working(day, _exceptions(day, day))


def working_days_after(start: datetime.date, end: datetime.date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end <= start).

    The day of the service itself does not count: service on Friday logged the next Monday is
    one working day after it.
    """
    if end <= start:
        return 0
    exceptions = _exceptions(start, end)
    count = 0
    day = start + datetime.timedelta(days=1)
    while day <= end:
        count += _is_working(day, exceptions)
        day += datetime.timedelta(days=1)
    return count


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date that is ``days`` working days after ``start``."""
    # Holidays never stretch 10 working days beyond five weeks; read generously once.
    exceptions = _exceptions(start, start + datetime.timedelta(days=days * 3 + 21))
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
    exceptions = _exceptions(start.date(), end.date())
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
