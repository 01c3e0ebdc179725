"""The State Council's holiday arrangements for 2025 and 2026 (国务院办公厅关于部分节假日安排的通知).

Later years are entered by staff in the admin when the State Council publishes them.
"""

import datetime

from django.db import migrations

HOLIDAYS = {
    2025: [
        ("元旦", "2025-01-01", "2025-01-01"),
        ("春节", "2025-01-28", "2025-02-04"),
        ("清明节", "2025-04-04", "2025-04-06"),
        ("劳动节", "2025-05-01", "2025-05-05"),
        ("端午节", "2025-05-31", "2025-06-02"),
        ("国庆节、中秋节", "2025-10-01", "2025-10-08"),
    ],
    2026: [
        ("元旦", "2026-01-01", "2026-01-03"),
        ("春节", "2026-02-15", "2026-02-23"),
        ("清明节", "2026-04-04", "2026-04-06"),
        ("劳动节", "2026-05-01", "2026-05-05"),
        ("端午节", "2026-06-19", "2026-06-21"),
        ("中秋节", "2026-09-25", "2026-09-27"),
        ("国庆节", "2026-10-01", "2026-10-07"),
    ],
}
MAKE_UP_DAYS = [
    ("春节调休", "2025-01-26"),
    ("春节调休", "2025-02-08"),
    ("劳动节调休", "2025-04-27"),
    ("国庆节调休", "2025-09-28"),
    ("国庆节调休", "2025-10-11"),
    ("元旦调休", "2026-01-04"),
    ("春节调休", "2026-02-14"),
    ("春节调休", "2026-02-28"),
    ("劳动节调休", "2026-05-09"),
    ("国庆节调休", "2026-09-20"),
    ("国庆节调休", "2026-10-10"),
]


def load(apps, schema_editor):
    CalendarDay = apps.get_model("core", "CalendarDay")
    rows = []
    for periods in HOLIDAYS.values():
        for name, first, last in periods:
            day = datetime.date.fromisoformat(first)
            while day <= datetime.date.fromisoformat(last):
                # Only weekdays break the rule; a holiday Saturday is a day off anyway, but
                # it is listed too so the calendar page shows the whole holiday.
                rows.append(CalendarDay(date=day, kind="holiday", name=name))
                day += datetime.timedelta(days=1)
    for name, day in MAKE_UP_DAYS:
        rows.append(CalendarDay(date=datetime.date.fromisoformat(day), kind="workday", name=name))
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)


def unload(apps, schema_editor):
    apps.get_model("core", "CalendarDay").objects.filter(
        date__range=(datetime.date(2025, 1, 1), datetime.date(2026, 12, 31))
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_calendarday")]

    operations = [migrations.RunPython(load, unload)]
