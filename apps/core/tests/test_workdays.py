"""The working-day calendar: weekends, statutory holidays, make-up working days (调休), the
10-working-day recording deadline and working hours, on the 2025-2026 State Council calendar."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from apps.core.models import CalendarDay, CalendarDayKind
from apps.core.workdays import (
    add_working_days,
    is_working_day,
    overlaps_working_hours,
    recording_deadline,
    working_days_after,
)

pytestmark = pytest.mark.django_db


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def at(day: str, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(d(day), datetime.time(hour, minute)))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-11-16", True),  # an ordinary Monday
        ("2026-11-21", False),  # an ordinary Saturday
        ("2026-10-01", False),  # National Day, a Thursday
        ("2026-10-07", False),  # the last day of the National Day week, a Wednesday
        ("2026-10-08", True),  # back to work
        ("2026-10-10", True),  # a Saturday worked to make up (调休)
        ("2026-10-11", False),  # the Sunday after it
        ("2026-09-20", True),  # a Sunday worked to make up
        ("2026-09-25", False),  # Mid-Autumn Festival, a Friday
        ("2026-02-14", True),  # Saturday before Spring Festival, worked
        ("2026-02-16", False),  # Spring Festival, a Monday
        ("2025-10-08", False),  # 2025: National Day and Mid-Autumn together, eight days
        ("2025-10-11", True),  # 2025: make-up Saturday
        ("2026-01-02", False),  # New Year holiday, a Friday
        ("2026-01-04", True),  # New Year make-up Sunday
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(d(day)) is working


def test_working_days_after_skips_the_national_day_week():
    assert working_days_after(d("2026-09-30"), d("2026-10-08")) == 1
    # 09-28, 09-29, 09-30, 10-08, 10-09 and the make-up Saturday 10-10
    assert working_days_after(d("2026-09-25"), d("2026-10-10")) == 6
    assert working_days_after(d("2026-10-08"), d("2026-10-08")) == 0
    assert working_days_after(d("2026-10-09"), d("2026-10-08")) == 0
    # Friday's service logged on Monday: one working day after it.
    assert working_days_after(d("2026-11-13"), d("2026-11-16")) == 1


@pytest.mark.parametrize(
    ("service_day", "deadline"),
    [
        ("2026-11-02", "2026-11-16"),  # no holiday: two weeks
        ("2026-09-30", "2026-10-20"),  # 10-08, 09, 10 (Sat, worked), 12–16, 19, 20
        ("2026-09-24", "2026-10-15"),  # Mid-Autumn Friday and the National Day week skipped
        ("2026-09-18", "2026-10-09"),  # the make-up Sunday 09-20 counts
        ("2026-10-03", "2026-10-20"),  # service during the holiday: counted from 10-08
        ("2025-12-31", "2026-01-15"),  # across the year end and the New Year holiday
    ],
)
def test_recording_deadline_counts_ten_working_days(service_day, deadline):
    assert recording_deadline(d(service_day)) == d(deadline)
    assert working_days_after(d(service_day), d(deadline)) == 10
    assert working_days_after(d(service_day), d(deadline) + datetime.timedelta(days=1)) >= 10


def test_the_day_after_the_deadline_is_the_eleventh_working_day():
    assert working_days_after(d("2026-09-30"), d("2026-10-21")) == 11
    assert add_working_days(d("2026-09-30"), 11) == d("2026-10-21")


def test_staff_maintain_later_years():
    new_year = d("2027-01-01")  # a Friday: a working day until the calendar says otherwise
    assert is_working_day(new_year)
    CalendarDay.objects.create(date=new_year, kind=CalendarDayKind.HOLIDAY, name="元旦")
    CalendarDay.objects.create(date=d("2027-01-09"), kind=CalendarDayKind.WORKDAY, name="调休")
    assert not is_working_day(new_year)
    assert is_working_day(d("2027-01-09"))
    assert working_days_after(d("2026-12-31"), d("2027-01-04")) == 1


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        (at("2026-11-16", 9), at("2026-11-16", 10), True),  # Monday morning
        (at("2026-11-16", 12, 0), at("2026-11-16", 14, 30), False),  # the lunch break
        (at("2026-11-16", 12, 0), at("2026-11-16", 14, 31), True),  # a minute into the afternoon
        (at("2026-11-16", 17, 30), at("2026-11-16", 21), False),  # after work
        (at("2026-11-16", 7), at("2026-11-16", 8, 30), False),  # before work
        (at("2026-11-21", 9), at("2026-11-21", 11), False),  # Saturday
        (at("2026-10-10", 9), at("2026-10-10", 11), True),  # make-up Saturday
        (at("2026-10-02", 9), at("2026-10-02", 11), False),  # National Day holiday
        (at("2026-11-20", 20), at("2026-11-21", 9), False),  # Friday night into Saturday
        (at("2026-11-15", 22), at("2026-11-16", 9), True),  # Sunday night into Monday
    ],
)
def test_overlaps_working_hours(start, end, inside):
    assert overlaps_working_hours(start, end) is inside


def test_working_hours_are_configurable(settings):
    settings.WORKING_HOURS = ["09:00-12:00", "13:00-18:00"]
    assert overlaps_working_hours(at("2026-11-16", 17, 40), at("2026-11-16", 19))
    assert not overlaps_working_hours(at("2026-11-16", 12), at("2026-11-16", 13))


def test_times_are_read_in_shanghai():
    # 01:30 UTC is 09:30 in Shanghai on a working Monday.
    start = datetime.datetime(2026, 11, 16, 1, 30, tzinfo=datetime.UTC)
    assert overlaps_working_hours(start, start + datetime.timedelta(hours=1))
    # 18:00 UTC on Sunday is 02:00 Monday in Shanghai: outside hours.
    night = datetime.datetime(2026, 11, 15, 18, 0, tzinfo=datetime.UTC)
    assert not overlaps_working_hours(night, night + datetime.timedelta(hours=1))


# The calendar kept in memory -----------------------------------------------------------------


def _day_by_day(start: datetime.date, end: datetime.date) -> int:
    days = (start + datetime.timedelta(days=n) for n in range(1, (end - start).days + 1))
    return sum(is_working_day(day) for day in days)


def test_working_days_after_agrees_with_counting_day_by_day():
    first = d("2024-12-20")
    for start_offset in range(0, 760, 7):
        start = first + datetime.timedelta(days=start_offset)
        for span in (0, 1, 2, 3, 6, 9, 13, 40, 200, 400):
            end = start + datetime.timedelta(days=span)
            assert working_days_after(start, end) == _day_by_day(start, end), (start, end)


def test_the_calendar_is_read_once(django_assert_num_queries):
    is_working_day(d("2026-10-01"))
    with django_assert_num_queries(0):
        assert working_days_after(d("2025-12-20"), d("2026-11-16")) > 200
        assert recording_deadline(d("2026-09-30")) == d("2026-10-20")
        assert overlaps_working_hours(at("2026-10-10", 9), at("2026-10-10", 11))


def test_a_change_is_seen_at_once_and_a_rollback_leaves_nothing_behind():
    from django.db import transaction

    day = d("2026-12-18")  # a Friday
    assert is_working_day(day)
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(date=day, kind=CalendarDayKind.HOLIDAY)
        assert not is_working_day(day)
        raise RuntimeError
    assert is_working_day(day)
    CalendarDay.objects.create(date=day, kind=CalendarDayKind.HOLIDAY)
    assert not is_working_day(day)
    CalendarDay.objects.filter(date=day).get().delete()
    assert is_working_day(day)


def test_another_process_change_is_seen_through_the_version(django_assert_num_queries):
    from apps.core import workdays

    day = d("2026-12-18")
    assert is_working_day(day)
    # Another process changed the calendar and committed: its new version reaches us
    # through the shared cache; rows written without signals stand for its change here.
    CalendarDay.objects.bulk_create([CalendarDay(date=day, kind=CalendarDayKind.HOLIDAY)])
    workdays.calendar_memo._new_version()
    assert is_working_day(day)  # this process's copy, until it compares versions again
    checked_always = mock.patch.object(workdays.calendar_memo, "check_seconds", 0)
    with checked_always, django_assert_num_queries(1):
        assert not is_working_day(day)
        assert not is_working_day(day)
