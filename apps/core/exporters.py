"""Exporters: a class that yields rows, and one base that renders them as XLSX, CSV or PDF.

The shape follows pretix's exporters. A subclass names itself (``identifier``,
``verbose_name``), says what its columns are (``headers()``) and yields one sequence of
values per row (``rows()``, a generator, so a city-wide list never sits in memory as cell
objects); the base writes the file. Every text cell goes through :func:`safe_cell`, so a
value typed by a user can never become a formula in the spreadsheet that opens it.

A workbook of several sheets: override ``sheets()`` to yield :class:`Sheet` objects (title,
headers, widths and a row generator each); the default is the one sheet of ``headers()`` and
``rows()``. CSV holds the first sheet only.

A format is a ``render_<name>()`` method returning bytes plus an entry in ``FORMATS``
(extension, content type). PDF is offered by an exporter that names a ``pdf_template`` and
gives its ``pdf_context()``: the template is rendered in Chinese and laid out by WeasyPrint
(its CSS must name the "Noto Sans CJK SC" font).

Exporters that run as export jobs (``apps.core.export_jobs``) also say who may ask for them
and check their parameters (``check_user``, ``clean_params``), and report their progress
through ``progress_callback`` (a function taking a percentage), called by ``report_progress``.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
PDF_CONTENT_TYPE = "application/pdf"
#: PDF reports are in Chinese, whatever the language of the person who asks.
PDF_LANGUAGE = "zh-hans"

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


def _sheet_title(title) -> str:
    return _BAD_SHEET_CHARACTERS.sub(" ", str(title))[:31] or "Sheet"


@dataclass
class Sheet:
    """One sheet of a workbook: its title, column headers and widths, and its rows."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    #: column widths in characters, in the order of ``headers``; missing ones get 16
    widths: Sequence[int] = field(default=())


class BaseExporter:
    """Subclass, set ``identifier`` and ``verbose_name``, implement ``headers`` and ``rows``
    (or ``sheets`` for a workbook of several sheets)."""

    identifier: str = ""
    verbose_name = ""
    #: column widths in characters, in the order of ``headers()``; missing ones get 16
    column_widths: Sequence[int] = ()
    FORMATS = {
        "xlsx": ("xlsx", XLSX_CONTENT_TYPE),
        "csv": ("csv", CSV_CONTENT_TYPE),
    }
    PDF_FORMAT = {"pdf": ("pdf", PDF_CONTENT_TYPE)}
    #: a template rendered with ``pdf_context()`` into the PDF (with ``"pdf"`` in ``FORMATS``)
    pdf_template: str = ""
    #: called with a percentage (0–100) as the file is written; ``None``: nobody listens
    progress_callback: Callable[[int], None] | None = None

    # --- export jobs ----------------------------------------------------------------------

    @classmethod
    def check_user(cls, user) -> None:
        """Raise ``PermissionDenied`` if ``user`` may not ask for this export at all."""

    @classmethod
    def clean_params(cls, *, user, params: dict) -> dict:
        """The parameters checked for ``user``, as JSON-ready values: ``ValidationError``
        (by parameter) for wrong ones, ``Http404`` for an object outside the user's scope."""
        return {}

    @classmethod
    def job_title(cls, *, params: dict) -> str:
        return str(cls.verbose_name or cls.identifier)

    @classmethod
    def for_job(cls, *, user, params: dict) -> BaseExporter:
        """The exporter an export job runs: its parameters checked again for ``user``, whose
        scope may have changed since the job was asked for."""
        return cls(user=user, **cls.clean_params(user=user, params=params))

    def report_progress(self, done: int, total: int) -> None:
        if self.progress_callback is not None and total:
            self.progress_callback(min(100, max(0, round(done * 100 / total))))

    # --- content --------------------------------------------------------------------------

    def headers(self) -> Sequence[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def rows(self) -> Iterable[Sequence]:  # pragma: no cover - interface
        raise NotImplementedError

    def sheet_title(self) -> str:
        return _sheet_title(self.verbose_name or self.identifier or "Sheet")

    def sheets(self) -> Iterable[Sheet]:
        """The sheets of the workbook; by default the one of ``headers()`` and ``rows()``."""
        yield Sheet(
            title=self.sheet_title(),
            headers=self.headers(),
            rows=self.rows(),
            widths=self.column_widths,
        )

    def sheet_count(self) -> int:
        """How many sheets ``sheets()`` yields (for the progress of a workbook)."""
        return 1

    def filename(self, extension: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", self.identifier or "export")
        return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"

    def render_xlsx(self) -> bytes:
        workbook = Workbook(write_only=True)
        bold = Font(bold=True)
        total = max(1, self.sheet_count())
        for done, spec in enumerate(self.sheets(), start=1):
            sheet = workbook.create_sheet(_sheet_title(spec.title))
            headers = [str(header) for header in spec.headers]
            # Layout must be set before the first row is written in write-only mode.
            sheet.freeze_panes = "A2"
            for index in range(len(headers)):
                width = spec.widths[index] if index < len(spec.widths) else 16
                sheet.column_dimensions[get_column_letter(index + 1)].width = width
            header_cells = []
            for header in headers:
                cell = WriteOnlyCell(sheet, value=safe_cell(header))
                cell.font = bold
                header_cells.append(cell)
            sheet.append(header_cells)
            for row in spec.rows:
                sheet.append([_xlsx_value(value) for value in row])
            self.report_progress(done, total)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def render_csv(self) -> bytes:
        """UTF-8 with a byte-order mark: without it Excel opens Chinese text as mojibake.
        A workbook of several sheets gives its first sheet."""
        spec = next(iter(self.sheets()))
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_csv_value(header) for header in spec.headers])
        for row in spec.rows:
            writer.writerow([_csv_value(value) for value in row])
        self.report_progress(1, 1)
        return buffer.getvalue().encode("utf-8")

    def pdf_context(self) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    def pdf_html(self) -> str:
        with translation.override(PDF_LANGUAGE):
            return render_to_string(self.pdf_template, self.pdf_context())

    def render_pdf(self) -> bytes:
        """The ``pdf_template`` in Chinese, laid out by WeasyPrint. Everything the page needs
        travels inside the HTML (inline SVG charts, inline CSS): nothing is fetched."""
        if not self.pdf_template:
            raise ValueError(f"{type(self).__name__} has no pdf_template")
        from weasyprint import HTML  # heavy import, only when a PDF is made

        html = self.pdf_html()
        self.report_progress(50, 100)
        content = HTML(string=html, base_url=None).write_pdf()
        self.report_progress(100, 100)
        return content

    def render(self, format_name: str) -> tuple[str, str, bytes]:
        """``(filename, content type, content)`` for one of ``FORMATS``."""
        if format_name not in self.FORMATS:
            raise ValueError(f"unknown export format {format_name!r}")
        extension, content_type = self.FORMATS[format_name]
        content = getattr(self, f"render_{format_name}")()
        return self.filename(extension), content_type, content
