"""Excel imports of service records and of volunteers: templates, checking, all-or-nothing writes.

The flow: :func:`import_job_create` reads the upload once (is it an .xlsx, is it our template,
how many rows), stores an ``ImportJob`` and runs it at once or, for large files, as the task
``service_records.run_import``. :func:`import_job_run` checks every row and writes either all
rows or none; the job keeps a report by row and column.

Checks are set-based so 10,000 rows take seconds: the volunteers, categories, teams and the
volunteers' existing records in the file's date range are read in a few queries and the
recording rules of ``rules.py`` are applied in memory. Progress (``processed_rows``) is written
in autocommit while rows are checked, outside the final write transaction, so a watcher sees it.

The header row of a template is a data format, not page text: it stays Chinese in every
interface language so that a file filled in under one language imports under another.
"""

from __future__ import annotations

import datetime
import io
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from apps.accounts.choices import Gender, PoliticalStatus
from apps.accounts.models import ServiceCategory, User, VolunteerProfile, VolunteerStatus
from apps.accounts.services import _clean_real_name, age_on
from apps.accounts.validators import (
    id_number_birth_date,
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)
from apps.core import crypto
from apps.core.exporters import XLSX_CONTENT_TYPE, safe_cell
from apps.core.models import CalendarDay, CalendarDayKind
from apps.core.scoping import get_user_scope, scope_changed
from apps.core.services import audit_log
from apps.organizations.models import Membership, PartyOrganization
from apps.teams.models import Team

from .checks import content_fingerprint
from .models import (
    RECORD_MAX_SPAN,
    ImportJob,
    ImportKind,
    ImportStatus,
    QueuedCheck,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from .rules import FUTURE_GRACE, LIVE_STATUSES, non_volunteer_keyword, span_error
from .tasks import queue_waiting_checks

__all__ = [
    "XLSX_CONTENT_TYPE",
    "ImportFileError",
    "import_job_create",
    "import_job_run",
    "import_template",
    "read_rows",
    "template_filename",
]

#: Largest upload accepted. A 10,000-row file is well under 1 MB.
MAX_UPLOAD_BYTES = getattr(settings, "IMPORT_MAX_UPLOAD_MB", 10) * 1024 * 1024
#: Problems kept in a job's report; the message gives the total.
MAX_REPORTED_ERRORS = 1000
PROGRESS_EVERY = 500
CHUNK = 2000
WRITE_BATCH = 1000
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "male": Gender.MALE, "female": Gender.FEMALE}
_LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")


# --- columns and templates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    required: bool
    help: object
    example: object = ""


RECORD_COLUMNS = (
    Column(
        "volunteer",
        "志愿者编号或手机号",
        18,
        True,
        gettext_lazy("The volunteer number (V and 9 digits) or the registered mobile number."),
        "V000000001",
    ),
    Column(
        "activity_name",
        "活动名称",
        24,
        True,
        gettext_lazy("At most 128 characters. Meetings, dinners and the like are not service."),
        "桂园社区敬老助餐",
    ),
    Column(
        "category",
        "服务类别",
        12,
        True,
        gettext_lazy("The name of a service category, e.g. 助老."),
        "助老",
    ),
    Column(
        "started_at",
        "开始时间",
        18,
        True,
        gettext_lazy("Date and time, e.g. 2026-03-05 09:00 (Beijing time)."),
        "2026-03-05 09:00",
    ),
    Column(
        "ended_at",
        "结束时间",
        18,
        True,
        gettext_lazy("Date and time, after the start."),
        "2026-03-05 11:30",
    ),
    Column(
        "hours",
        "服务时长（小时）",
        14,
        False,
        gettext_lazy(
            "Hours actually served, travel excluded; at most the time from start to end. "
            "Empty: the time from start to end."
        ),
        2,
    ),
    Column(
        "place", "服务地点", 20, True, gettext_lazy("At most 255 characters."), "桂园社区活动室"
    ),
    Column("content", "服务内容", 30, True, gettext_lazy("What was done."), "为社区老人送餐、陪聊"),
    Column(
        "team",
        "服务队",
        22,
        False,
        gettext_lazy("Optional: the name of a volunteer team you manage."),
        "",
    ),
    Column(
        "responsible_person",
        "负责人",
        10,
        True,
        gettext_lazy("The person responsible for the activity."),
        "李明",
    ),
    Column(
        "late_reason",
        "补录原因",
        24,
        False,
        gettext_lazy(
            "Needed when the service ended more than the allowed working days ago (late entry)."
        ),
        "",
    ),
)

VOLUNTEER_COLUMNS = (
    Column("real_name", "姓名", 10, True, gettext_lazy("As on the ID card."), "张三"),
    Column("gender", "性别", 6, True, gettext_lazy("男 or 女."), "男"),
    Column(
        "birth_date",
        "出生日期",
        12,
        True,
        gettext_lazy("e.g. 1980-01-01; must match the ID number."),
        "1980-01-01",
    ),
    Column(
        "id_number",
        "身份证号码",
        22,
        True,
        gettext_lazy("18 characters; enter it as text so Excel keeps every digit."),
        "110105198001010016",
    ),
    Column(
        "residence_area",
        "居住区域",
        20,
        True,
        gettext_lazy("District and street or town."),
        "东湖区东湖街道",
    ),
    Column(
        "phone",
        "手机号",
        14,
        True,
        gettext_lazy("11-digit mainland mobile number, used to sign in."),
        "13900000000",
    ),
    Column("skills", "专业技能", 20, False, gettext_lazy("Optional."), "急救"),
    Column(
        "categories",
        "服务类别",
        16,
        False,
        gettext_lazy("Names of service categories, separated by 、"),
        "助老、环保",
    ),
    Column(
        "organization_code",
        "党组织代码",
        14,
        False,
        gettext_lazy(
            "For party members: the code of the party organisation they belong to (one you "
            "manage). Only the city's administrators import volunteers without one."
        ),
        "",
    ),
)

COLUMNS = {ImportKind.SERVICE_RECORDS: RECORD_COLUMNS, ImportKind.VOLUNTEERS: VOLUNTEER_COLUMNS}


def _columns(kind: str) -> tuple[Column, ...]:
    try:
        return COLUMNS[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}") from None


def template_filename(kind: str) -> str:
    return f"import-{kind.replace('_', '-')}-template.xlsx"


def import_template(*, kind: str) -> bytes:
    """The downloadable template: a data sheet with the headers and one example row, and an
    instructions sheet explaining each column."""
    columns = _columns(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(ImportKind(kind).label)[:31]
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE2E2")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        example = sheet.cell(row=2, column=index, value=safe_cell(column.example) or None)
        if column.key in ("id_number", "phone", "volunteer"):
            example.number_format = "@"
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("Instructions")[:31])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    notes.append([_("How to fill in this template")])
    notes["A1"].font = bold
    for line in (
        _("Fill in the first sheet from the second row on; replace or delete the example row."),
        _("Do not change, move or rename the header row."),
        _(
            "The whole file is checked before anything is saved: if any row has a problem, "
            "nothing is imported and the report lists each problem by row and column."
        ),
    ):
        notes.append([line])
    if kind == ImportKind.SERVICE_RECORDS:
        notes.append(
            [
                _(
                    "Imported records await review like any other record. Overlapping records, "
                    "more than %(hours)d hours a day and future dates are refused."
                )
                % {"hours": settings.SERVICE_RECORD_MAX_HOURS_PER_DAY}
            ]
        )
    notes.append([])
    notes.append([_("Column"), _("Required"), _("What to enter")])
    for cell in notes[notes.max_row]:
        cell.font = bold
    for column in columns:
        notes.append([column.header, _("Yes") if column.required else _("No"), str(column.help)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading a file -----------------------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not Excel, damaged, wrong template, empty)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header(value) -> str:
    return re.sub(r"\s+", "", str(value or "")).rstrip("*").replace("(", "（").replace(")", "）")


def _unreadable() -> str:
    return _(
        "This file cannot be read as an Excel workbook (.xlsx). It may be damaged or of "
        "another kind; save it from Excel as .xlsx and upload it again."
    )


def _check_header(sheet, kind: str) -> None:
    columns = _columns(kind)
    header = next(sheet.iter_rows(max_row=1, values_only=True), None) or ()
    found = [_header(value) for value in header]
    while found and not found[-1]:
        found.pop()
    expected = [column.header for column in columns]
    if found != [_header(h) for h in expected]:
        raise ImportFileError(
            _(
                "This is not the template for %(kind)s: the first row must read “%(expected)s”"
                " but reads “%(found)s”. Download the template and copy your rows into it."
            )
            % {
                "kind": ImportKind(kind).label,
                "expected": "、".join(expected),
                "found": "、".join(h for h in found if h) or _("(empty)"),
            }
        )


def _read(file, kind: str, reader: Callable):
    """Open the upload, check its header and hand the first sheet to ``reader``; every
    failure to read becomes one :class:`ImportFileError`."""
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for files that are not .xlsx
        raise ImportFileError(_unreadable()) from error
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheets."))
        sheet = workbook.worksheets[0]
        _check_header(sheet, kind)
        return reader(sheet)
    except ImportFileError:
        raise
    except Exception as error:  # a damaged sheet fails while it is read
        raise ImportFileError(_unreadable()) from error
    finally:
        workbook.close()


def _too_many() -> ImportFileError:
    return ImportFileError(
        _("A file can hold at most %(max)d rows; split it into several files.")
        % {"max": settings.IMPORT_MAX_ROWS}
    )


def read_rows(file, *, kind: str) -> list[tuple[int, dict]]:
    """``[(excel row number, {column key: raw value})]`` for every non-empty data row.

    Raises :class:`ImportFileError` with one clear message when the file is not an .xlsx
    workbook, is damaged, is not this kind's template, is empty or is too long.
    """
    columns = _columns(kind)
    width = len(columns)

    def reader(sheet):
        result = []
        rows = sheet.iter_rows(min_row=2, max_col=width, values_only=True)
        for number, values in enumerate(rows, start=2):
            values = tuple(values[:width]) + (None,) * max(0, width - len(values))
            if all(_is_empty(value) for value in values):
                continue
            result.append((number, {c.key: v for c, v in zip(columns, values, strict=True)}))
            if len(result) > settings.IMPORT_MAX_ROWS:
                raise _too_many()
        return result

    result = _read(file, kind, reader)
    if not result:
        raise ImportFileError(_("The file has no rows to import below the header."))
    return result


def count_rows(file, *, kind: str) -> int:
    """The number of data rows, for deciding between running now and running as a task.

    A large file is not parsed here: the sheet's recorded size (the dimension Excel writes)
    is enough, and the job reads every row anyway. Small files, and files that record no
    size, are read in full so that an empty file is refused on the form.
    """

    def recorded_size(sheet):
        return sheet.max_row

    size = _read(file, kind, recorded_size)
    if size and settings.IMPORT_SYNC_MAX_ROWS < size - 1 <= settings.IMPORT_MAX_ROWS:
        return size - 1
    return len(read_rows(file, kind=kind))


# --- cell values ------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _aware(value: datetime.datetime) -> datetime.datetime:
    """In the current (Asia/Shanghai) time zone, so ``.date()`` is the local date without a
    ``localtime`` call per use: 10,000 rows would pay for 100,000 of them."""
    if timezone.is_aware(value):
        return timezone.localtime(value)
    return timezone.make_aware(value)


def _datetime(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return _aware(value.replace(microsecond=0))
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 2958466:
        try:
            converted = from_excel(value)
        except (ValueError, OverflowError):
            return None
        if isinstance(converted, datetime.datetime):
            return _aware(converted.replace(second=0, microsecond=0))
        return None
    text = _text(value)
    for fmt in DATETIME_FORMATS:
        try:
            return _aware(datetime.datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _hours(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return hours if hours.is_finite() else None


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _chunks(values: Iterable, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    columns: tuple[Column, ...]
    errors: list[dict] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def add(self, row: int, key: str, message) -> None:
        header = next((c.header for c in self.columns if c.key == key), "")
        self.errors.append({"row": row, "column": header, "message": str(message)})
        self.bad_rows.add(row)

    def sorted(self) -> list[dict]:
        order = {c.header: i for i, c in enumerate(self.columns)}
        return sorted(self.errors, key=lambda e: (e["row"], order.get(e["column"], 99)))


class _Refused(Exception):
    """Raised inside the write transaction to roll it back when a re-check fails."""

    def __init__(self, report: Report):
        self.report = report


Progress = Callable[[int], None]


def _no_progress(count: int) -> None:
    return None


# --- working days, set-based ----------------------------------------------------------------------


class _Calendar:
    """The rules of ``apps.core.workdays`` with the calendar's exceptions read once.

    ``workdays`` reads the calendar per call; 10,000 rows would be 20,000 queries. The test
    ``test_calendar_agrees_with_workdays`` keeps the two in step.
    """

    def __init__(self, first: datetime.date, today: datetime.date):
        rows = CalendarDay.objects.filter(date__range=(first, today)).values_list("date", "kind")
        self.exceptions = {day: kind == CalendarDayKind.WORKDAY for day, kind in rows}
        # Ten working days never stretch beyond five weeks, so an end before this is late
        # whatever the calendar says; counting from here keeps the table small.
        self.count_from = max(first, today - datetime.timedelta(days=60))
        self._count = {}
        running = 0
        day = self.count_from
        while day <= today:
            running += self.is_working(day)
            self._count[day] = running
            day += datetime.timedelta(days=1)
        self.periods = []
        for period in settings.WORKING_HOURS:
            start, end = period.split("-")
            self.periods.append(
                (datetime.time.fromisoformat(start), datetime.time.fromisoformat(end))
            )

    def is_working(self, day: datetime.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def working_days_after(self, day: datetime.date, today: datetime.date) -> int:
        if today <= day:
            return 0
        if day < self.count_from:
            return 10**6
        return self._count[today] - self._count[day]

    def overlaps_working_hours(self, start: datetime.datetime, end: datetime.datetime) -> bool:
        # ``start`` and ``end`` are in the local time zone (see ``_aware``).
        day = start.date()
        while day <= end.date():
            if self.is_working(day):
                for first, last in self.periods:
                    window_start = datetime.datetime.combine(day, first, tzinfo=start.tzinfo)
                    window_end = datetime.datetime.combine(day, last, tzinfo=start.tzinfo)
                    if start < window_end and end > window_start:
                        return True
            day += datetime.timedelta(days=1)
        return False


# --- service records ----------------------------------------------------------------------------


@dataclass
class _RecordRow:
    row: int
    volunteer_key: str
    activity_name: str
    category_name: str
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    hours: Decimal | None
    place: str
    content: str
    team_name: str
    responsible_person: str
    late_reason: str
    volunteer_id: int | None = None
    minutes: int = 0


def _parse_record_row(number: int, raw: dict, report: Report) -> _RecordRow:
    row = _RecordRow(
        row=number,
        volunteer_key=_text(raw["volunteer"]).upper(),
        activity_name=_text(raw["activity_name"]),
        category_name=_text(raw["category"]),
        started_at=_datetime(raw["started_at"]),
        ended_at=_datetime(raw["ended_at"]),
        hours=None,
        place=_text(raw["place"]),
        content=_text(raw["content"]),
        team_name=_text(raw["team"]),
        responsible_person=_text(raw["responsible_person"]),
        late_reason=_text(raw["late_reason"]),
    )
    for key, value, limit in (
        ("volunteer", row.volunteer_key, 16),
        ("activity_name", row.activity_name, 128),
        ("category", row.category_name, 32),
        ("place", row.place, 255),
        ("content", row.content, 5000),
        ("responsible_person", row.responsible_person, 64),
    ):
        if not value:
            report.add(number, key, _("Fill in this column."))
        elif len(value) > limit:
            report.add(number, key, _("At most %(max)d characters.") % {"max": limit})
    for key in ("started_at", "ended_at"):
        if _is_empty(raw[key]):
            report.add(number, key, _("Fill in this column."))
        elif getattr(row, key) is None:
            report.add(number, key, _("Enter a date and time such as 2026-03-05 09:00."))
    if not _is_empty(raw["hours"]):
        row.hours = _hours(raw["hours"])
        if row.hours is None:
            report.add(number, "hours", _("Enter the hours as a number, such as 1.5."))
    keyword = non_volunteer_keyword(row.activity_name)
    if keyword:
        report.add(
            number,
            "activity_name",
            _(
                "“%(keyword)s” is not volunteer service: meetings, dinners, team-building, "
                "rehearsals and commercial events are not recorded (MCA Order 67 Art. 17)."
            )
            % {"keyword": keyword},
        )
    return row


_PHONE = re.compile(r"^1\d{10}$")


def _volunteer_key(value: str) -> str:
    """A mobile number in its stored form; anything else is taken for a volunteer number."""
    phone = normalize_phone(value)
    return phone if _PHONE.match(phone) else value


def _volunteer_lookup(*, actor, keys: set[str]) -> dict[str, int]:
    """Volunteer number or phone → user id, for the volunteers the actor manages."""
    keys = {_volunteer_key(k) for k in keys}
    phones = {k for k in keys if _PHONE.match(k)}
    numbers = keys - phones
    found: dict[str, int] = {}
    manageable = VolunteerProfile.objects.manageable_by(actor)
    for chunk in _chunks(numbers):
        for number, user_id in manageable.filter(volunteer_number__in=chunk).values_list(
            "volunteer_number", "user_id"
        ):
            found[number] = user_id
    for chunk in _chunks(phones):
        for phone, user_id in manageable.filter(user__phone__in=chunk).values_list(
            "user__phone", "user_id"
        ):
            found[phone] = user_id
    return found


def _existing_records(volunteer_ids: set[int], rows: list[_RecordRow]) -> dict[int, list]:
    """Live records of these volunteers that may overlap the rows or share their days."""
    if not rows:
        return {}
    first = min(r.started_at for r in rows)
    last = max(r.ended_at for r in rows)
    days = {r.started_at.date() for r in rows}
    found: dict[int, list] = defaultdict(list)
    for chunk in _chunks(volunteer_ids):
        records = ServiceRecord.objects.filter(
            # No record spans longer than RECORD_MAX_SPAN: one that ends later cannot overlap.
            Q(started_at__lt=last, ended_at__gt=first, ended_at__lt=last + RECORD_MAX_SPAN)
            | Q(service_date__range=(min(days), max(days))),
            volunteer_id__in=chunk,
            status__in=LIVE_STATUSES,
        ).values_list(
            "volunteer_id",
            "activity_name",
            "started_at",
            "ended_at",
            "service_date",
            "duration_minutes",
        )
        for volunteer_id, name, started, ended, day, minutes in records:
            found[volunteer_id].append((name, started, ended, day, minutes))
    return found


def _check_against_records(rows: list[_RecordRow], existing: dict[int, list], report: Report):
    """Overlaps and the daily cap, against existing records and between rows of the file."""
    by_volunteer: dict[int, list[_RecordRow]] = defaultdict(list)
    for row in rows:
        by_volunteer[row.volunteer_id].append(row)
    limit = settings.SERVICE_RECORD_MAX_HOURS_PER_DAY * 60
    for volunteer_id, own_rows in by_volunteer.items():
        intervals = [(r.started_at, r.ended_at, r) for r in own_rows]
        intervals += [
            (s, e, (name, s, e)) for name, s, e, _day, _m in existing.get(volunteer_id, ())
        ]
        intervals.sort(key=lambda item: (item[0], item[1]))
        holder = None
        for start, end, what in intervals:
            if holder is not None and start < holder[1]:
                earlier = holder[2]
                target, other = (what, earlier) if isinstance(what, _RecordRow) else (earlier, what)
                if isinstance(target, _RecordRow):
                    if isinstance(other, _RecordRow):
                        message = _(
                            "This overlaps row %(row)d of this file (%(start)s to %(end)s): one "
                            "person cannot serve twice at the same time."
                        ) % {
                            "row": other.row,
                            "start": _local(other.started_at),
                            "end": _local(other.ended_at),
                        }
                    else:
                        message = _(
                            "This overlaps the record “%(name)s” from %(start)s to %(end)s: one "
                            "person cannot serve twice at the same time."
                        ) % {"name": other[0], "start": _local(other[1]), "end": _local(other[2])}
                    report.add(target.row, "started_at", message)
            if holder is None or end > holder[1]:
                holder = (start, end, what)

        per_day: dict[datetime.date, int] = defaultdict(int)
        for _name, _s, _e, day, minutes in existing.get(volunteer_id, ()):
            per_day[day] += minutes
        for row in sorted(own_rows, key=lambda r: r.row):
            day = row.started_at.date()
            if per_day[day] + row.minutes > limit and row.minutes <= limit:
                report.add(
                    row.row,
                    "hours",
                    _(
                        "At most %(hours)d hours of service can be recorded for one day; "
                        "%(day)s already has %(existing)s hours."
                    )
                    % {
                        "hours": settings.SERVICE_RECORD_MAX_HOURS_PER_DAY,
                        "day": day.isoformat(),
                        "existing": round(per_day[day] / 60, 1),
                    },
                )
            per_day[day] += row.minutes


def validate_service_records(
    *, actor, rows: list[tuple[int, dict]], now=None, progress: Progress = _no_progress
) -> tuple[list[_RecordRow], Report, dict]:
    """Check every row; returns the parsed rows, the report and the looked-up objects."""
    now = now or timezone.now()
    report = Report(RECORD_COLUMNS)
    parsed = []
    for index, (number, raw) in enumerate(rows, start=1):
        parsed.append(_parse_record_row(number, raw, report))
        if index % PROGRESS_EVERY == 0:
            progress(index // 2)

    volunteers = _volunteer_lookup(
        actor=actor, keys={r.volunteer_key for r in parsed if r.volunteer_key}
    )
    categories = {}
    for category in ServiceCategory.objects.filter(is_active=True):
        categories.setdefault(category.code, category)
        categories[category.name] = category
    team_names = {r.team_name for r in parsed if r.team_name}
    teams: dict[str, list[Team]] = defaultdict(list)
    for chunk in _chunks(team_names):
        for team in Team.objects.manageable_by(actor).filter(name__in=chunk, is_active=True):
            teams[team.name].append(team)

    limit = settings.SERVICE_RECORD_MAX_HOURS_PER_DAY * 60
    today = timezone.localtime(now).date()
    starts = [r.started_at.date() for r in parsed if r.started_at]
    calendar = _Calendar(min([*starts, today]), today)
    deadline = settings.RECORDING_DEADLINE_WORKING_DAYS

    for row in parsed:
        if row.volunteer_key:
            row.volunteer_id = volunteers.get(_volunteer_key(row.volunteer_key))
            if row.volunteer_id is None:
                report.add(
                    row.row,
                    "volunteer",
                    _(
                        "No volunteer with the number or mobile number “%(key)s” among the "
                        "volunteers you manage."
                    )
                    % {"key": row.volunteer_key},
                )
        if row.category_name and row.category_name not in categories:
            report.add(
                row.row,
                "category",
                _("There is no service category “%(name)s”.") % {"name": row.category_name},
            )
        if row.team_name:
            found = teams.get(row.team_name, [])
            if not found:
                report.add(
                    row.row,
                    "team",
                    _("There is no team “%(name)s” among the teams you manage.")
                    % {"name": row.team_name},
                )
            elif len(found) > 1:
                report.add(
                    row.row,
                    "team",
                    _("Several teams you manage are named “%(name)s”; rename one of them first.")
                    % {"name": row.team_name},
                )
        if not (row.started_at and row.ended_at):
            continue
        span = (row.ended_at - row.started_at).total_seconds() / 60
        if row.ended_at <= row.started_at:
            report.add(row.row, "ended_at", _("The end must be after the start."))
        elif too_long := span_error(row.started_at, row.ended_at):
            report.add(row.row, "ended_at", too_long)
        if row.hours is not None:
            row.minutes = int((row.hours * 60).to_integral_value())
        else:
            row.minutes = int(max(span, 0))
        if row.minutes <= 0:
            if row.ended_at > row.started_at or row.hours is not None:
                report.add(row.row, "hours", _("The service time must be more than zero."))
        elif row.ended_at > row.started_at and row.minutes > span + 0.5:
            report.add(
                row.row,
                "hours",
                _(
                    "The service time (%(minutes)d minutes) cannot be longer than the time "
                    "from start to end (%(span)d minutes)."
                )
                % {"minutes": row.minutes, "span": span},
            )
        elif row.minutes > limit:
            report.add(
                row.row,
                "hours",
                _("At most %(hours)d hours of service can be recorded for one day.")
                % {"hours": settings.SERVICE_RECORD_MAX_HOURS_PER_DAY},
            )
        if row.started_at > now + FUTURE_GRACE or row.ended_at > now + FUTURE_GRACE:
            report.add(
                row.row,
                "ended_at",
                _("Service can only be recorded once it has ended, not in advance."),
            )
        days_since = calendar.working_days_after(row.ended_at.date(), today)
        row_is_late = days_since > deadline
        if row_is_late and not row.late_reason:
            report.add(
                row.row,
                "late_reason",
                _(
                    "This service ended %(days)d working days ago; records are due within "
                    "%(limit)d working days. Give a reason for the late entry (补录): a "
                    "reviewer will check it."
                )
                % {"days": min(days_since, 9999), "limit": deadline},
            )

    good = [r for r in parsed if r.row not in report.bad_rows and r.volunteer_id]
    existing = _existing_records({r.volunteer_id for r in good}, good)
    _check_against_records(good, existing, report)
    progress(len(rows))
    lookups = {"categories": categories, "teams": teams, "calendar": calendar, "today": today}
    return parsed, report, lookups


def _write_service_records(*, actor, job: ImportJob, parsed: list[_RecordRow], lookups, now):
    volunteer_ids = sorted({r.volunteer_id for r in parsed})
    # Lock the volunteers, as services.service_record_submit does, then check the overlaps
    # and daily caps again against what others recorded while the file was being checked.
    for chunk in _chunks(volunteer_ids):
        list(User.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))
    report = Report(RECORD_COLUMNS)
    _check_against_records(parsed, _existing_records(set(volunteer_ids), parsed), report)
    if report.errors:
        raise _Refused(report)
    calendar, today = lookups["calendar"], lookups["today"]
    deadline = settings.RECORDING_DEADLINE_WORKING_DAYS
    records = []
    for row in parsed:
        team = lookups["teams"][row.team_name][0] if row.team_name else None
        is_late = calendar.working_days_after(row.ended_at.date(), today) > deadline
        records.append(
            ServiceRecord(
                volunteer_id=row.volunteer_id,
                activity_name=row.activity_name,
                category=lookups["categories"][row.category_name],
                started_at=row.started_at,
                ended_at=row.ended_at,
                service_date=row.started_at.date(),
                duration_minutes=row.minutes,
                place=row.place,
                content=row.content,
                organization_id=team.organization_id if team else None,
                responsible_person=row.responsible_person,
                team=team,
                source=RecordSource.IMPORT,
                status=RecordStatus.SUBMITTED,
                is_late=is_late,
                late_reason=row.late_reason if is_late else "",
                within_working_hours=calendar.overlaps_working_hours(row.started_at, row.ended_at),
                submitted_by=actor,
                created_at=now,
                content_fingerprint=content_fingerprint(row.content),
            )
        )
    ServiceRecord.objects.bulk_create(records, batch_size=WRITE_BATCH)
    QueuedCheck.objects.bulk_create(
        [QueuedCheck(record_id=record.pk) for record in records], batch_size=WRITE_BATCH
    )
    # Imported records go through the checks against formalism like submitted ones: the
    # sweep queued once the import commits takes them all, in batches.
    transaction.on_commit(queue_waiting_checks)
    return len(records)


# --- volunteers ---------------------------------------------------------------------------------


@dataclass
class _VolunteerRow:
    row: int
    real_name: str
    gender: str
    birth_date: datetime.date | None
    id_number: str
    residence_area: str
    phone: str
    skills: str
    category_names: list[str]
    organization_code: str
    id_hash: str = ""
    phone_valid: bool = False
    organization: PartyOrganization | None = None
    categories: list = field(default_factory=list)


def _parse_volunteer_row(number: int, raw: dict, report: Report, today) -> _VolunteerRow:
    row = _VolunteerRow(
        row=number,
        real_name=_text(raw["real_name"]),
        gender=GENDERS.get(_text(raw["gender"]).lower(), ""),
        birth_date=_date(raw["birth_date"]),
        id_number=normalize_id_number(_text(raw["id_number"])),
        residence_area=_text(raw["residence_area"]),
        phone=normalize_phone(_text(raw["phone"])),
        skills=_text(raw["skills"]),
        category_names=[n for n in _LIST_SEPARATORS.split(_text(raw["categories"])) if n],
        organization_code=_text(raw["organization_code"]),
    )
    try:
        row.real_name = _clean_real_name(row.real_name)
    except ValidationError as error:
        report.add(number, "real_name", error.message_dict["real_name"][0])
    if _is_empty(raw["gender"]):
        report.add(number, "gender", _("Fill in this column."))
    elif not row.gender:
        report.add(number, "gender", _("Enter 男 or 女."))
    if not row.id_number:
        report.add(number, "id_number", _("Fill in this column."))
    else:
        try:
            validate_id_number(row.id_number)
            row.id_hash = crypto.blind_index(row.id_number)
        except ValidationError as error:
            report.add(number, "id_number", error.messages[0])
    if _is_empty(raw["birth_date"]):
        report.add(number, "birth_date", _("Fill in this column."))
    elif row.birth_date is None:
        report.add(number, "birth_date", _("Enter a date such as 1980-01-01."))
    elif row.birth_date > today:
        report.add(number, "birth_date", _("The date of birth cannot be in the future."))
    elif row.id_hash and id_number_birth_date(row.id_number) != row.birth_date:
        report.add(
            number, "birth_date", _("The date of birth does not match the one in the ID number.")
        )
    elif age_on(row.birth_date, today) < settings.VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE:
        report.add(
            number,
            "birth_date",
            _(
                "Volunteers under %(age)d years register on the portal with their guardian's "
                "consent; they cannot be imported."
            )
            % {"age": settings.VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE},
        )
    if not row.residence_area:
        report.add(number, "residence_area", _("Fill in this column."))
    elif len(row.residence_area) > 128:
        report.add(number, "residence_area", _("At most %(max)d characters.") % {"max": 128})
    if not row.phone:
        report.add(number, "phone", _("Fill in this column."))
    else:
        try:
            validate_phone(row.phone)
            row.phone_valid = True
        except ValidationError as error:
            report.add(number, "phone", error.messages[0])
    return row


def validate_volunteers(
    *, actor, rows: list[tuple[int, dict]], now=None, progress: Progress = _no_progress
) -> tuple[list[_VolunteerRow], Report, dict]:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    report = Report(VOLUNTEER_COLUMNS)
    parsed = []
    for index, (number, raw) in enumerate(rows, start=1):
        parsed.append(_parse_volunteer_row(number, raw, report, today))
        if index % PROGRESS_EVERY == 0:
            progress(index // 2)

    categories = {}
    for category in ServiceCategory.objects.filter(is_active=True):
        categories.setdefault(category.code, category)
        categories[category.name] = category
    codes = {r.organization_code for r in parsed if r.organization_code}
    organizations = {}
    for chunk in _chunks(codes):
        for organization in PartyOrganization.objects.manageable_by(actor).filter(
            code__in=chunk, is_active=True
        ):
            organizations[organization.code] = organization

    def existing_by(field_name: str, values: set[str]) -> dict[str, str]:
        found = {}
        for chunk in _chunks(values):
            for value, number, username in User.objects.filter(
                **{f"{field_name}__in": chunk}
            ).values_list(field_name, "volunteer_profile__volunteer_number", "username"):
                found[value] = number or username
        return found

    taken_ids = existing_by("id_number_hash", {r.id_hash for r in parsed if r.id_hash})
    taken_phones = existing_by("phone", {r.phone for r in parsed if r.phone})
    is_city_admin = get_user_scope(actor).is_city_admin
    first_row_by_id: dict[str, int] = {}
    first_row_by_phone: dict[str, int] = {}
    for row in parsed:
        if row.id_hash:
            if row.id_hash in taken_ids:
                report.add(
                    row.row,
                    "id_number",
                    _("A volunteer with this ID number is already registered: %(number)s.")
                    % {"number": taken_ids[row.id_hash]},
                )
            elif row.id_hash in first_row_by_id:
                report.add(
                    row.row,
                    "id_number",
                    _("The same ID number is on row %(row)d of this file.")
                    % {"row": first_row_by_id[row.id_hash]},
                )
            else:
                first_row_by_id[row.id_hash] = row.row
        if row.phone_valid:
            if row.phone in taken_phones:
                report.add(
                    row.row,
                    "phone",
                    _("This mobile number is already registered: %(number)s.")
                    % {"number": taken_phones[row.phone]},
                )
            elif row.phone in first_row_by_phone:
                report.add(
                    row.row,
                    "phone",
                    _("The same mobile number is on row %(row)d of this file.")
                    % {"row": first_row_by_phone[row.phone]},
                )
            else:
                first_row_by_phone[row.phone] = row.row
        unknown = [name for name in row.category_names if name not in categories]
        if unknown:
            report.add(
                row.row,
                "categories",
                _("There is no service category “%(name)s”.") % {"name": "、".join(unknown)},
            )
        row.categories = list(
            {
                categories[n].pk: categories[n] for n in row.category_names if n in categories
            }.values()
        )
        if row.organization_code:
            row.organization = organizations.get(row.organization_code)
            if row.organization is None:
                report.add(
                    row.row,
                    "organization_code",
                    _(
                        "There is no party organisation with the code “%(code)s” among the "
                        "organisations you manage."
                    )
                    % {"code": row.organization_code},
                )
        elif not is_city_admin:
            report.add(
                row.row,
                "organization_code",
                _(
                    "Give the code of the volunteer's party organisation: only the city's "
                    "administrators import volunteers who are not party members of an "
                    "organisation they manage."
                ),
            )
    progress(len(rows))
    return parsed, report, {}


def _volunteer_numbers(count: int) -> list[str]:
    """``count`` fresh volunteer numbers, checked against profiles and usernames in bulk."""
    numbers: set[str] = set()
    while len(numbers) < count:
        candidates = {f"V{secrets.randbelow(10**9):09d}" for _ in range(count - len(numbers))}
        candidates -= numbers
        for chunk in _chunks(candidates):
            candidates -= set(
                VolunteerProfile.objects.filter(volunteer_number__in=chunk).values_list(
                    "volunteer_number", flat=True
                )
            )
            candidates -= set(
                User.objects.filter(username__in=chunk).values_list("username", flat=True)
            )
        numbers |= candidates
    return sorted(numbers)


def _write_volunteers(*, actor, job: ImportJob, parsed: list[_VolunteerRow], lookups, now):
    """Users and profiles as ``accounts.services.volunteer_register`` makes them, in bulk.

    Imported by staff who manage the volunteers' organisation (or the city), the profiles are
    active at once: the uploader is the reviewer ``volunteer_register`` would wait for.
    """
    numbers = _volunteer_numbers(len(parsed))
    users = []
    for row, number in zip(parsed, numbers, strict=True):
        users.append(
            User(
                username=number,
                password=make_password(None),
                real_name=row.real_name,
                gender=row.gender,
                id_number=row.id_number,
                id_number_hash=row.id_hash,
                phone=row.phone,
                political_status=(
                    PoliticalStatus.PARTY_MEMBER if row.organization else PoliticalStatus.MASSES
                ),
            )
        )
    User.objects.bulk_create(users, batch_size=WRITE_BATCH)
    if any(user.pk is None for user in users):  # a database that cannot return ids
        ids = dict(User.objects.filter(username__in=numbers).values_list("username", "pk"))
        for user in users:
            user.pk = ids[user.username]
    profiles = [
        VolunteerProfile(
            user_id=user.pk,
            volunteer_number=number,
            status=VolunteerStatus.ACTIVE,
            birth_date=row.birth_date,
            residence_area=row.residence_area,
            skills=row.skills,
            consent_at=now,
            reviewed_by=actor,
            reviewed_at=now,
            review_note=_("Imported by staff"),
        )
        for row, user, number in zip(parsed, users, numbers, strict=True)
    ]
    VolunteerProfile.objects.bulk_create(profiles, batch_size=WRITE_BATCH)
    if any(profile.pk is None for profile in profiles):
        ids = dict(
            VolunteerProfile.objects.filter(volunteer_number__in=numbers).values_list(
                "volunteer_number", "pk"
            )
        )
        for profile in profiles:
            profile.pk = ids[profile.volunteer_number]
    through = VolunteerProfile.service_categories.through
    through.objects.bulk_create(
        [
            through(volunteerprofile_id=profile.pk, servicecategory_id=category.pk)
            for row, profile in zip(parsed, profiles, strict=True)
            for category in row.categories
        ],
        batch_size=WRITE_BATCH,
    )
    Membership.objects.bulk_create(
        [
            Membership(
                user_id=user.pk,
                organization=row.organization,
                started_on=timezone.localtime(now).date(),
            )
            for row, user in zip(parsed, users, strict=True)
            if row.organization is not None
        ],
        batch_size=WRITE_BATCH,
    )
    scope_changed()  # bulk_create sends no signals
    return len(users)


# --- jobs ---------------------------------------------------------------------------------------

VALIDATORS = {
    ImportKind.SERVICE_RECORDS: validate_service_records,
    ImportKind.VOLUNTEERS: validate_volunteers,
}
WRITERS = {
    ImportKind.SERVICE_RECORDS: _write_service_records,
    ImportKind.VOLUNTEERS: _write_volunteers,
}


def _require_importer(actor) -> None:
    if not get_user_scope(actor).can_manage_any:
        raise PermissionDenied(_("Only staff who manage an organisation can import."))


def check_upload(file, *, kind: str) -> int:
    """The number of data rows, or ``ValidationError`` on the file with one clear message."""
    name = getattr(file, "name", "") or ""
    if not name.lower().endswith(".xlsx"):
        raise ValidationError(
            {"file": _("Upload an Excel workbook saved as .xlsx (use the template).")}
        )
    if getattr(file, "size", 0) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)d MB; split it into several files.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            }
        )
    try:
        return count_rows(file, kind=kind)
    except ImportFileError as error:
        raise ValidationError({"file": error.message}) from error


def import_job_create(*, actor, kind: str, file, now: datetime.datetime | None = None) -> ImportJob:
    """Store the upload as a job and run it: at once when small, as a task when large.

    A file that is not our template never becomes a job: ``ValidationError`` on ``file``.
    """
    _require_importer(actor)
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    total = check_upload(file, kind=kind)
    file.seek(0)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            file=file,
            original_name=(getattr(file, "name", "") or "")[:255],
            total_rows=total,
            created_by=actor,
        )
        audit_log(actor=actor, action="import.upload", target=job, details={"rows": total})
        if total > settings.IMPORT_SYNC_MAX_ROWS:
            from .tasks import run_import

            transaction.on_commit(lambda: run_import.delay(job.pk))
    if total <= settings.IMPORT_SYNC_MAX_ROWS:
        job = import_job_run(job_id=job.pk, now=now)
    return job


def _finish_failed(job_id: int, *, message: str, errors=()) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.FAILED,
        message=message,
        errors=list(errors),
        finished_at=timezone.now(),
    )


def _refusal_message(report: Report) -> str:
    count = len(report.errors)
    rows = len(report.bad_rows)
    message = _(
        "Nothing was imported: %(count)d problems in %(rows)d rows. Correct them in the file "
        "and upload it again."
    ) % {"count": count, "rows": rows}
    if count > MAX_REPORTED_ERRORS:
        message += " " + _("The first %(max)d problems are listed.") % {"max": MAX_REPORTED_ERRORS}
    return message


def import_job_run(*, job_id: int, now: datetime.datetime | None = None) -> ImportJob:
    """Check and write one job; safe to run twice (only a waiting job is taken up)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, processed_rows=0
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    actor = job.created_by
    now = now or timezone.now()
    if actor is None or not get_user_scope(actor).can_manage_any:
        _finish_failed(job.pk, message=_("The uploader may no longer import."))
        job.refresh_from_db()
        return job
    try:
        with job.file.open("rb") as handle:
            rows = read_rows(io.BytesIO(handle.read()), kind=job.kind)
    except ImportFileError as error:
        _finish_failed(job.pk, message=error.message)
        job.refresh_from_db()
        return job

    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rows))

    def progress(count: int) -> None:
        # Autocommit, outside the write transaction: the page polling the job sees it.
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=min(count, len(rows)))

    parsed, report, lookups = VALIDATORS[job.kind](
        actor=actor, rows=rows, now=now, progress=progress
    )
    if report.errors:
        _finish_failed(
            job.pk, message=_refusal_message(report), errors=report.sorted()[:MAX_REPORTED_ERRORS]
        )
        job.refresh_from_db()
        return job
    try:
        with transaction.atomic():
            imported = WRITERS[job.kind](
                actor=actor, job=job, parsed=parsed, lookups=lookups, now=now
            )
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.DONE,
                total_rows=len(rows),
                processed_rows=len(rows),
                imported_rows=imported,
                message=_("All %(count)d rows were imported.") % {"count": imported},
                errors=[],
                finished_at=timezone.now(),
            )
            audit_log(
                actor=actor,
                action=f"import.{job.kind}",
                target=job,
                details={"rows": imported},
            )
    except _Refused as refused:
        _finish_failed(
            job.pk,
            message=_refusal_message(refused.report),
            errors=refused.report.sorted()[:MAX_REPORTED_ERRORS],
        )
    except IntegrityError:
        _finish_failed(
            job.pk,
            message=_(
                "Nothing was imported: someone changed the same data while the file was being "
                "checked. Upload the file again."
            ),
        )
    job.refresh_from_db()
    return job
