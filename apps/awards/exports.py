"""The assessment export of a year (年度考核导出): a branch secretary's one click per year.

An Excel workbook of four sheets (members, teams, the organisation's indicators and the
members' approved service records) or a PDF report in Chinese (cover, indicators, two charts
drawn here as inline SVG, member and team tables; the records only in the workbook).

Everything is read through the asker's scope (``visible_to``), from the roll-up of the year:
a file never holds more than its asker may see. Each part is one query, however many rows.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.db.models.functions import ExtractMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.exporters import BaseExporter, Sheet
from apps.core.scoping import get_user_scope
from apps.organizations.models import PartyOrganization, paths_q
from apps.service_records.models import RecordSource, ServiceRecord

from . import selectors
from .models import AppraisalGrade, DemocraticAppraisal, RunStatus

HUNDRED = Decimal("0.01")


def export_organizations(user):
    """The organisations ``user`` may export: the subtrees their roles reach."""
    scope = get_user_scope(user)
    organizations = PartyOrganization.objects.all()
    if not scope.is_city_admin:
        organizations = organizations.filter(paths_q("path", scope.view_paths))
    return organizations.order_by("path")


def exportable_years(user):
    """The years whose roll-up has finished, newest first."""
    return (
        selectors.assessment_year_list(user=user)
        .filter(run_status=RunStatus.DONE)
        .order_by("-year")
        .values_list("year", flat=True)
    )


def _hours(minutes) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(HUNDRED)


def _member_columns():
    return [
        (_("Rank"), 6),
        (_("Name"), 12),
        (_("Branch"), 24),
        (_("Hours"), 9),
        (_("Records"), 8),
        (_("On-time records"), 10),
        (_("Points"), 9),
        (_("Average rating"), 10),
        (_("Pledges kept"), 10),
        (_("Training hours"), 10),
        (_("Household visits"), 10),
        (_("Democratic appraisal"), 12),
    ]


def _team_columns():
    return [
        (_("Team"), 28),
        (_("Owning organisation"), 24),
        (_("Members"), 8),
        (_("Hours"), 9),
        (_("Records"), 8),
        (_("Activities"), 8),
        (_("Ratings"), 8),
        (_("Average rating"), 10),
    ]


def _indicator_columns():
    percent = " (%)"
    return [
        (_("Organisation"), 28),
        (_("Members"), 8),
        (_("Participation rate") + percent, 12),
        (_("Hours per member"), 10),
        (_("Residence-report rate") + percent, 12),
        (_("Pairing coverage") + percent, 12),
        (_("Four-counts rate") + percent, 12),
        (_("Request completion") + percent, 12),
        (_("Satisfaction"), 10),
        (_("On-time rate") + percent, 12),
    ]


def _record_columns():
    return [
        (_("Date"), 11),
        (_("Name"), 12),
        (_("Activity"), 24),
        (_("Place"), 20),
        (_("Service content"), 36),
        (_("Hours"), 8),
        (_("Team"), 24),
        (_("Organising unit"), 24),
        (_("Person responsible"), 12),
        (_("Source"), 12),
        (_("Late entry"), 8),
    ]


def _headers(columns):
    return [header for header, _width in columns]


def _widths(columns):
    return [width for _header, width in columns]


#: the width of the PDF's tables: A4 landscape less the margins
PDF_TABLE_WIDTH_MM = 273


def _pdf_widths(columns) -> list[str]:
    """Column widths in millimetres (the PDF's fixed table layout: nothing to measure)."""
    total = sum(width for _header, width in columns)
    return [f"{PDF_TABLE_WIDTH_MM * width / total:.1f}" for _header, width in columns]


def bar_chart(items, *, unit: str, horizontal: bool = False, maximum=None) -> str:
    """A bar chart as inline SVG (no script, no library): ``items`` are (label, value) pairs."""
    values = [float(value or 0) for _label, value in items]
    top = float(maximum) if maximum else max(values + [0]) or 1.0
    font = 'font-family="Noto Sans CJK SC" font-size="9"'
    parts = []
    if horizontal:
        row, label_width, bar_width = 18, 120, 270
        height = row * len(items) + 10
        width = label_width + bar_width + 60
        for index, ((label, _value), value) in enumerate(zip(items, values, strict=True)):
            y = 5 + index * row
            length = bar_width * value / top
            parts.append(
                f'<text x="{label_width - 6}" y="{y + 12}" text-anchor="end" {font}>'
                f"{escape(str(label)[:12])}</text>"
                f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{row - 6}" '
                f'fill="#b3261e"/>'
                f'<text x="{label_width + length + 4:.1f}" y="{y + 12}" {font}>'
                f"{value:g}{escape(unit)}</text>"
            )
    else:
        slot, chart_height, base = 48, 150, 170
        width = slot * len(items) + 20
        height = base + 20
        for index, ((label, _value), value) in enumerate(zip(items, values, strict=True)):
            x = 10 + index * slot
            length = chart_height * value / top
            parts.append(
                f'<rect x="{x + 8}" y="{base - length:.1f}" width="{slot - 16}" '
                f'height="{length:.1f}" fill="#b3261e"/>'
                f'<text x="{x + slot / 2}" y="{base - length - 3:.1f}" text-anchor="middle" '
                f"{font}>{value:g}</text>"
                f'<text x="{x + slot / 2}" y="{base + 13}" text-anchor="middle" {font}>'
                f"{escape(str(label))}</text>"
            )
        parts.append(f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#888"/>')
    # Every text above is escaped.
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


class AssessmentExporter(BaseExporter):
    """One organisation's subtree in one rolled-up year, as its asker may see it."""

    identifier = "awards.assessment"
    verbose_name = gettext_lazy("Assessment export")
    FORMATS = {"xlsx": BaseExporter.FORMATS["xlsx"], **BaseExporter.PDF_FORMAT}
    pdf_template = "awards/assessment_report_pdf.html"

    def __init__(self, *, user, year: int, organization: int):
        self.user = user
        self.year = year
        self.organization = PartyOrganization.objects.get(pk=organization)

    # --- checks ---------------------------------------------------------------------------

    @classmethod
    def check_user(cls, user) -> None:
        if not (user.is_authenticated and get_user_scope(user).can_view_any):
            raise PermissionDenied

    @classmethod
    def clean_params(cls, *, user, params: dict) -> dict:
        year = str(params.get("year") or "").strip()
        if not year.isdigit():
            raise ValidationError({"year": _("Choose a year.")}, code="no_year")
        if int(year) not in set(exportable_years(user)):
            raise ValidationError(
                {"year": _("The year %(year)s has not been rolled up yet.") % {"year": year}},
                code="not_rolled_up",
            )
        organization = str(params.get("organization") or "").strip()
        if not organization:
            raise ValidationError(
                {"organization": _("Choose an organisation.")}, code="no_organization"
            )
        if not organization.isdigit():
            raise ValidationError(
                {"organization": _("Choose an organisation.")}, code="bad_organization"
            )
        found = get_object_or_404(export_organizations(user), pk=int(organization))
        return {"year": int(year), "organization": found.pk}

    @classmethod
    def job_title(cls, *, params: dict) -> str:
        name = (
            PartyOrganization.objects.filter(pk=params["organization"])
            .values_list("name", flat=True)
            .first()
        )
        return _("%(year)s assessment: %(organization)s") % {
            "year": params["year"],
            "organization": name or "",
        }

    def filename(self, extension: str) -> str:
        code = re.sub(r"[^A-Za-z0-9_-]", "_", self.organization.code or str(self.organization.pk))
        return f"assessment-{self.year}-{code}.{extension}"

    # --- reads (one query each, through the asker's scope) ----------------------------------

    def _in_subtree(self, field: str) -> Q:
        return Q(**{f"{field}__startswith": self.organization.path})

    def _member_summaries(self):
        return selectors.volunteer_summary_list(user=self.user, year=self.year).filter(
            self._in_subtree("organization__path")
        )

    def member_rows(self):
        grades = dict(AppraisalGrade.choices)
        appraisals = dict(
            DemocraticAppraisal.objects.visible_to(self.user)
            .filter(assessment_year__year=self.year)
            .filter(self._in_subtree("organization__path"))
            .values_list("member_id", "grade")
        )
        rows = self._member_summaries().values_list(
            "volunteer_id",
            "volunteer__real_name",
            "volunteer__username",
            "organization__name",
            "approved_minutes",
            "records",
            "on_time_records",
            "points",
            "average_rating",
            "pledges_kept",
            "training_hours",
            "visits",
            "rank_in_organization",
        )
        for row in rows.iterator(chunk_size=2000):
            (volunteer_id, real_name, username, branch, minutes, records, on_time) = row[:7]
            points, rating, pledges, training, visits, rank = row[7:]
            grade = appraisals.get(volunteer_id)
            yield [
                rank,
                real_name or username,
                branch,
                _hours(minutes),
                records,
                on_time,
                points,
                rating,
                pledges,
                training,
                visits,
                str(grades[grade]) if grade else "",
            ]

    def team_rows(self):
        rows = (
            selectors.team_summary_list(user=self.user, year=self.year)
            .filter(self._in_subtree("team__organization__path"))
            .values_list(
                "team__name",
                "team__organization__name",
                "members",
                "approved_minutes",
                "records",
                "activities",
                "ratings",
                "average_rating",
            )
        )
        for name, owner, members, minutes, records, activities, ratings, rating in rows:
            yield [name, owner, members, _hours(minutes), records, activities, ratings, rating]

    def indicator_summaries(self):
        """The organisation's own row first, then its children's."""
        return list(
            selectors.organization_summary_list(user=self.user, year=self.year).filter(
                Q(organization=self.organization) | Q(organization__parent=self.organization)
            )
        )

    @staticmethod
    def indicator_row(summary):
        return [
            summary.organization.name,
            summary.members,
            summary.participation_rate,
            summary.hours_per_member,
            summary.residence_report_rate,
            summary.pairing_rate,
            summary.four_facts_rate,
            summary.request_completion_rate,
            summary.satisfaction,
            summary.on_time_rate,
        ]

    def _records(self):
        members = self._member_summaries().values("volunteer_id")
        return (
            ServiceRecord.objects.visible_to(self.user)
            .counting()
            .in_year(self.year)
            .filter(volunteer_id__in=members)
        )

    def record_rows(self):
        sources = dict(RecordSource.choices)
        rows = (
            self._records()
            .order_by("service_date", "volunteer_id", "pk")
            .values_list(
                "service_date",
                "volunteer__real_name",
                "volunteer__username",
                "activity_name",
                "place",
                "content",
                "duration_minutes",
                "team__name",
                "organization__name",
                "responsible_person",
                "source",
                "is_late",
            )
        )
        yes, no = _("Yes"), _("No")
        for row in rows.iterator(chunk_size=2000):
            (day, real_name, username, activity, place, content, minutes) = row[:7]
            team, unit, responsible, source, is_late = row[7:]
            yield [
                day,
                real_name or username,
                activity,
                place,
                content,
                _hours(minutes),
                team or "",
                unit or "",
                responsible,
                str(sources.get(source, source)),
                yes if is_late else no,
            ]

    def hours_by_month(self) -> list[tuple[str, Decimal]]:
        minutes = dict(
            self._records()
            .order_by()
            .annotate(month=ExtractMonth("service_date"))
            .values("month")
            .annotate(minutes=Sum("duration_minutes"))
            .values_list("month", "minutes")
        )
        return [
            (
                _("Month %(month)s") % {"month": month},
                _hours(minutes.get(month, 0)).quantize(Decimal("0.1")),
            )
            for month in range(1, 13)
        ]

    # --- the workbook -----------------------------------------------------------------------

    def sheet_count(self) -> int:
        return 4

    def sheets(self):
        members, teams = _member_columns(), _team_columns()
        indicators, records = _indicator_columns(), _record_columns()
        yield Sheet(_("Member summaries"), _headers(members), self.member_rows(), _widths(members))
        yield Sheet(_("Team summaries"), _headers(teams), self.team_rows(), _widths(teams))
        yield Sheet(
            _("Organisation indicators"),
            _headers(indicators),
            (self.indicator_row(summary) for summary in self.indicator_summaries()),
            _widths(indicators),
        )
        yield Sheet(_("Service records"), _headers(records), self.record_rows(), _widths(records))

    # --- the PDF ----------------------------------------------------------------------------

    def pdf_context(self) -> dict:
        summaries = self.indicator_summaries()
        own = next((s for s in summaries if s.organization_id == self.organization.pk), None)
        children = [s for s in summaries if s.organization_id != self.organization.pk]
        indicator_headers = _headers(_indicator_columns())
        participation = [
            (s.organization.name, s.participation_rate or 0) for s in (children or summaries)
        ]
        return {
            "organization": self.organization,
            "year": self.year,
            "generated_at": timezone.localtime(),
            "generated_by": self.user.real_name or self.user.get_username(),
            "own": own,
            "own_indicators": list(
                zip(indicator_headers[1:], self.indicator_row(own)[1:], strict=True)
            )
            if own
            else [],
            "indicator_headers": indicator_headers,
            "indicator_widths": _pdf_widths(_indicator_columns()),
            "indicator_rows": [self.indicator_row(s) for s in children],
            "hours_chart": bar_chart(self.hours_by_month(), unit=_("h")),
            "participation_chart": bar_chart(participation, unit="%", horizontal=True, maximum=100),
            "member_headers": _headers(_member_columns()),
            "member_widths": _pdf_widths(_member_columns()),
            "member_rows": list(self.member_rows()),
            "team_headers": _headers(_team_columns()),
            "team_widths": _pdf_widths(_team_columns()),
            "team_rows": list(self.team_rows()),
        }
