"""The coverage board as an Excel workbook: a summary sheet and one sheet of names per indicator.

Written in openpyxl's write-only mode, row by row from the database cursor, so a city-wide list
of names does not have to fit in memory as cell objects.
"""

import io
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from apps.care.coverage import (
    FOUR_FACTS,
    HOUSEHOLDS_NOT_VISITED,
    REQUESTS_OVERDUE,
    VOLUNTEERS_UNPAIRED,
    CareCoverage,
    masked_name,
)
from apps.communities.coverage import (
    COMMUNITIES_UNPAIRED,
    MEMBERS_UNREPORTED,
    REPORTED_WITHOUT_PLEDGE,
    REPORTED_WITHOUT_POST,
    TEAMS_UNPAIRED,
    CoverageBoard,
)
from apps.core.exporters import safe_cell

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BAD_SHEET_CHARACTERS = re.compile(r"[\[\]\*\?/\\:]")


def sheet_titles() -> dict[str, str]:
    return {
        TEAMS_UNPAIRED: _("Unpaired teams"),
        COMMUNITIES_UNPAIRED: _("Unpaired communities"),
        MEMBERS_UNREPORTED: _("Not reported"),
        REPORTED_WITHOUT_POST: _("No post claimed"),
        REPORTED_WITHOUT_PLEDGE: _("No pledge"),
        VOLUNTEERS_UNPAIRED: _("No household"),
        HOUSEHOLDS_NOT_VISITED: _("Visits overdue"),
        FOUR_FACTS: _("Four counts by community"),
        REQUESTS_OVERDUE: _("Requests overdue"),
    }


def _sheet_title(title: str) -> str:
    return _BAD_SHEET_CHARACTERS.sub(" ", title)[:31]


def columns(row_kind: str) -> list[tuple[str, int]]:
    """(header, column width) for the rows of one kind."""
    if row_kind == "team":
        return [(_("Team"), 36), (_("Owning organisation"), 32), (_("Team leader"), 16)]
    if row_kind == "community":
        return [
            (_("Community"), 24),
            (_("Kind"), 12),
            (_("District"), 14),
            (_("Street or town"), 18),
            (_("Party organisation"), 32),
        ]
    if row_kind == "pairing":
        return [
            (_("Household"), 14),
            (_("Community"), 24),
            (_("Volunteer"), 16),
            (_("Mobile phone"), 16),
            (_("Last visit or start"), 18),
            (_("Visit every (days)"), 16),
        ]
    if row_kind == "four-facts":
        return [
            (_("Community"), 24),
            (_("District"), 14),
            (_("Street or town"), 18),
            (_("Active households"), 16),
            (_("Known on all four counts"), 20),
            (_("Four-counts rate (%)"), 18),
        ]
    if row_kind == "request":
        return [
            (_("Tracking number"), 18),
            (_("What is needed"), 36),
            (_("Community"), 24),
            (_("Status"), 16),
            (_("Deadline"), 12),
            (_("Team"), 32),
        ]
    return [(_("Name"), 16), (_("Mobile phone"), 16), (_("Party branch"), 32)]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def row_values(row_kind: str, row) -> list:
    if row_kind == "team":
        return [row.name, row.organization.name, row.leader_name or ""]
    if row_kind == "community":
        return [
            row.name,
            row.get_kind_display(),
            row.district,
            row.street,
            row.organization.name if row.organization else "",
        ]
    if row_kind == "pairing":
        volunteer = row.volunteer
        return [
            masked_name(row.recipient.name),
            row.recipient.community.name,
            volunteer.real_name or volunteer.username,
            volunteer.phone or "",
            row.last_contact,
            row.visit_every_days,
        ]
    if row_kind == "four-facts":
        return [
            row.name,
            row.district,
            row.street,
            row.households,
            row.known,
            _percent(row.known, row.households),
        ]
    if row_kind == "request":
        return [
            row.tracking_number,
            row.title,
            row.community.name,
            row.get_status_display(),
            row.deadline,
            row.dispatched_team.name if row.dispatched_team else "",
        ]
    return [row.real_name or row.username, row.phone or "", row.branch_name or ""]


def _start_sheet(workbook, title: str, headers: list[tuple[str, int]]):
    sheet = workbook.create_sheet(_sheet_title(title))
    # Layout must be set before the first row is written in write-only mode.
    sheet.freeze_panes = "A2"
    for index, (_header, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    cells = []
    for header, _width in headers:
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    return sheet


def coverage_workbook(
    *, board: CoverageBoard, rows: dict, care: CareCoverage | None = None
) -> bytes:
    """``rows`` maps each indicator's key to the iterable of its missing rows.

    With ``care``, the people-served indicators follow the first section's, then the average
    rating, and each care indicator gets its sheet after the first section's sheets.
    """
    indicators = [*board.indicators, *(care.indicators if care else [])]
    workbook = Workbook(write_only=True)
    summary = _start_sheet(
        workbook,
        _("Summary"),
        [
            (_("Indicator"), 44),
            (_("Total"), 10),
            (_("Covered"), 10),
            (_("Missing"), 10),
            (_("Covered (%)"), 12),
        ],
    )
    for indicator in indicators:
        summary.append(
            [
                str(indicator.spec.label),
                indicator.total,
                indicator.covered,
                indicator.missing,
                indicator.percent,
            ]
        )
    summary.append([])
    if care is not None:
        summary.append([_("Average rating (1–5)"), care.rating.average])
        summary.append([_("Rated requests"), care.rating.count])
    summary.append(
        [_("Organisation"), safe_cell(f"{board.organization.name}（{board.organization.code}）")]
    )
    summary.append([_("Year"), board.year])
    summary.append([_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])

    titles = sheet_titles()
    for indicator in indicators:
        kind = indicator.spec.row_kind
        sheet = _start_sheet(workbook, titles[indicator.key], columns(kind))
        for row in rows[indicator.key]:
            sheet.append([safe_cell(value) for value in row_values(kind, row)])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def coverage_filename(*, board: CoverageBoard) -> str:
    safe_code = re.sub(r"[^A-Za-z0-9_-]", "_", board.organization.code)
    return f"coverage-{safe_code}-{board.year}-{timezone.localdate():%Y%m%d}.xlsx"
