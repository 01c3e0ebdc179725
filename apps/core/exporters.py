"""Exporters: a class that yields rows, and one base that renders them as XLSX or CSV.

The shape follows pretix's exporters. A subclass names itself (``identifier``,
``verbose_name``), says what its columns are (``headers()``) and yields one sequence of
values per row (``rows()``, a generator, so a city-wide list never sits in memory as cell
objects); the base writes the file. Every text cell goes through :func:`safe_cell`, so a
value typed by a user can never become a formula in the spreadsheet that opens it.

Extension point for more formats: a format is a ``render_<name>()`` method returning bytes
plus an entry in ``FORMATS`` (extension, content type). PDF is not offered yet; when it
arrives it is added here the same way (a ``render_pdf`` that lays out ``headers()`` and
``rows()`` with a font that carries Chinese glyphs), and every exporter gains it at once.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence

from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

#: A cell starting with one of these is read as a formula (or DDE payload) by spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET_CHARACTERS = re.compile(r"[\[\]\*\?/\\:]")


def safe_cell(value):
    """The value as it may go into a spreadsheet cell: text that would start a formula is
    prefixed with an apostrophe, so it shows as typed and never runs. Numbers, dates and
    empty cells pass unchanged (a negative number is a number, not a formula)."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _xlsx_value(value):
    value = safe_cell(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        # Spreadsheets have no time zones: show the local (Asia/Shanghai) wall-clock time.
        return timezone.make_naive(value)
    return value


def _csv_value(value) -> str:
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class BaseExporter:
    """Subclass, set ``identifier`` and ``verbose_name``, implement ``headers`` and ``rows``."""

    identifier: str = ""
    verbose_name = ""
    #: column widths in characters, in the order of ``headers()``; missing ones get 16
    column_widths: Sequence[int] = ()
    FORMATS = {
        "xlsx": ("xlsx", XLSX_CONTENT_TYPE),
        "csv": ("csv", CSV_CONTENT_TYPE),
    }

    def headers(self) -> Sequence[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def rows(self) -> Iterable[Sequence]:  # pragma: no cover - interface
        raise NotImplementedError

    def sheet_title(self) -> str:
        title = str(self.verbose_name or self.identifier or "Sheet")
        return _BAD_SHEET_CHARACTERS.sub(" ", title)[:31]

    def filename(self, extension: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", self.identifier or "export")
        return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"

    def render_xlsx(self) -> bytes:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(self.sheet_title())
        headers = [str(header) for header in self.headers()]
        # Layout must be set before the first row is written in write-only mode.
        sheet.freeze_panes = "A2"
        for index in range(len(headers)):
            width = self.column_widths[index] if index < len(self.column_widths) else 16
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        bold = Font(bold=True)
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=safe_cell(header))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in self.rows():
            sheet.append([_xlsx_value(value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def render_csv(self) -> bytes:
        """UTF-8 with a byte-order mark: without it Excel opens Chinese text as mojibake."""
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_csv_value(header) for header in self.headers()])
        for row in self.rows():
            writer.writerow([_csv_value(value) for value in row])
        return buffer.getvalue().encode("utf-8")

    def render(self, format_name: str) -> tuple[str, str, bytes]:
        """``(filename, content type, content)`` for one of ``FORMATS``."""
        if format_name not in self.FORMATS:
            raise ValueError(f"unknown export format {format_name!r}")
        extension, content_type = self.FORMATS[format_name]
        content = getattr(self, f"render_{format_name}")()
        return self.filename(extension), content_type, content
