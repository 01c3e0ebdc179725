"""Democratic appraisal of party members (民主评议党员): each year a branch grades its members
优秀 / 合格 / 基本合格 / 不合格, at most one third of them 优秀, with the year's service summary
from the roll-up beside each name.

Reads and writes are set-based: the sheet of a branch costs the same few queries whatever its
size, and a save checks everything before it writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.scoping import get_user_scope, user_can_manage
from apps.core.services import audit_log
from apps.organizations.models import Membership, PartyOrganization, paths_q

from .models import (
    AppraisalGrade,
    AssessmentYear,
    DemocraticAppraisal,
    RunStatus,
    VolunteerYearSummary,
    closed_year_message,
)

NOTE_MAX_LENGTH = DemocraticAppraisal._meta.get_field("note").max_length


def excellent_allowed(members: int) -> int:
    """优秀 at most one third of the members, rounded down."""
    return members // 3


@dataclass
class AppraisalRow:
    member: object  # accounts.User
    hours: Decimal
    records: int
    points: Decimal
    average_rating: Decimal | None
    pledges_kept: int
    training_hours: Decimal
    visits: int
    rank: int | None
    grade: str
    note: str

    @property
    def grade_label(self) -> str:
        return AppraisalGrade(self.grade).label if self.grade else ""


def _members(organization) -> QuerySet[Membership]:
    return Membership.objects.active().filter(organization=organization)


def appraisal_sheet(*, user, assessment_year: AssessmentYear, organization) -> list[AppraisalRow]:
    """One row per active direct member of ``organization``: their year's figures (zeros
    without a summary row) and their current grade. Three queries whatever the size.

    ``organization`` is fetched for ``user`` by the caller (scoped)."""
    members = list(_members(organization).select_related("user").order_by("user__real_name", "pk"))
    member_ids = _members(organization).values("user_id")
    summaries = {
        row.volunteer_id: row
        for row in VolunteerYearSummary.objects.filter(
            assessment_year=assessment_year, volunteer_id__in=member_ids
        )
    }
    grades = {
        row.member_id: row
        for row in DemocraticAppraisal.objects.filter(
            assessment_year=assessment_year, member_id__in=member_ids
        )
    }
    rows = []
    for membership in members:
        summary = summaries.get(membership.user_id)
        appraisal = grades.get(membership.user_id)
        rows.append(
            AppraisalRow(
                member=membership.user,
                hours=summary.hours if summary else Decimal("0.00"),
                records=summary.records if summary else 0,
                points=summary.points if summary else Decimal("0.00"),
                average_rating=summary.average_rating if summary else None,
                pledges_kept=summary.pledges_kept if summary else 0,
                training_hours=summary.training_hours if summary else Decimal("0.0"),
                visits=summary.visits if summary else 0,
                rank=summary.rank_in_organization if summary else None,
                grade=appraisal.grade if appraisal else "",
                note=appraisal.note if appraisal else "",
            )
        )
    return rows


def appraisal_counts(rows: list[AppraisalRow]) -> list[tuple[str, str, int]]:
    """(grade, label, how many) for every grade, then (``""``, "not graded", how many)."""
    counts = dict.fromkeys(AppraisalGrade.values, 0)
    ungraded = 0
    for row in rows:
        if row.grade:
            counts[row.grade] += 1
        else:
            ungraded += 1
    return [
        *((grade, AppraisalGrade(grade).label, n) for grade, n in counts.items()),
        ("", _("Not graded"), ungraded),
    ]


def appraisal_year_is_open(assessment_year: AssessmentYear) -> bool:
    return assessment_year.run_status == RunStatus.DONE and not assessment_year.is_closed


def _check_year(assessment_year: AssessmentYear) -> None:
    if assessment_year.is_closed:
        raise ValidationError(closed_year_message(assessment_year.year), code="year_closed")
    if assessment_year.run_status != RunStatus.DONE:
        raise ValidationError(
            _(
                "%(year)s has not been rolled up yet: the appraisal needs the year's service "
                "figures. Run the roll-up first."
            )
            % {"year": assessment_year.year},
            code="not_rolled_up",
        )


@transaction.atomic
def appraisal_save(
    *,
    actor,
    assessment_year: AssessmentYear,
    organization: PartyOrganization,
    grades: dict[int, tuple[str, str]],
) -> int:
    """Set the grades (member id → (grade, note)) of a branch's members for a year; an empty
    grade clears a member's grade. All or nothing. Returns how many members changed."""
    if not user_can_manage(actor, organization):
        raise PermissionDenied
    _check_year(assessment_year)
    member_ids = set(_members(organization).values_list("user_id", flat=True))
    strangers = sorted(set(grades) - member_ids)
    if strangers:
        raise ValidationError(
            _("Only active members of %(organization)s can be graded here (not: %(ids)s).")
            % {"organization": organization.name, "ids": ", ".join(map(str, strangers))},
            code="not_member",
        )
    for grade, note in grades.values():
        if grade and grade not in AppraisalGrade.values:
            raise ValidationError(
                _("“%(grade)s” is not a grade of the democratic appraisal.") % {"grade": grade},
                code="grade",
            )
        if len(note) > NOTE_MAX_LENGTH:
            raise ValidationError(
                _("A note can be at most %(limit)d characters long.") % {"limit": NOTE_MAX_LENGTH},
                code="note",
            )
    existing = {
        row.member_id: row
        for row in DemocraticAppraisal.objects.select_for_update().filter(
            assessment_year=assessment_year, member_id__in=member_ids
        )
    }
    final = {member_id: row.grade for member_id, row in existing.items()}
    for member_id, (grade, _note) in grades.items():
        final[member_id] = grade
    asked = sum(1 for grade in final.values() if grade == AppraisalGrade.EXCELLENT)
    allowed = excellent_allowed(len(member_ids))
    if asked > allowed:
        raise ValidationError(
            _(
                "At most one third of the members may be graded excellent: %(allowed)d of "
                "%(members)d here, but %(asked)d were asked."
            )
            % {"allowed": allowed, "members": len(member_ids), "asked": asked},
            code="too_many_excellent",
        )

    now = timezone.now()
    new, changed, cleared = [], [], []
    for member_id, (grade, note) in sorted(grades.items()):
        row = existing.get(member_id)
        if not grade:
            if row is not None:
                cleared.append(row.pk)
        elif row is None:
            new.append(
                DemocraticAppraisal(
                    assessment_year=assessment_year,
                    organization=organization,
                    member_id=member_id,
                    grade=grade,
                    note=note,
                    entered_by=actor,
                )
            )
        elif (row.grade, row.note, row.organization_id) != (grade, note, organization.pk):
            row.grade, row.note, row.organization = grade, note, organization
            row.entered_by, row.updated_at = actor, now
            changed.append(row)
    DemocraticAppraisal.objects.bulk_create(new)
    DemocraticAppraisal.objects.bulk_update(
        changed, ["grade", "note", "organization", "entered_by", "updated_at"]
    )
    DemocraticAppraisal.objects.filter(pk__in=cleared).delete()
    audit_log(
        actor=actor,
        action="democratic_appraisal.save",
        target=organization,
        details={
            "year": assessment_year.year,
            "grades": {str(member_id): grade for member_id, (grade, _note) in grades.items()},
            "created": len(new),
            "changed": len(changed),
            "cleared": len(cleared),
        },
    )
    return len(new) + len(changed) + len(cleared)


# Selectors for the pages and the API ----------------------------------------------------------


def appraisal_years(*, user) -> QuerySet[AssessmentYear]:
    """Years whose roll-up is done: the appraisal shows their figures."""
    return AssessmentYear.objects.visible_to(user).filter(run_status=RunStatus.DONE)


def appraisal_organizations(*, user) -> QuerySet[PartyOrganization]:
    """Organisations the user manages or views (by a role) that have direct active members,
    with their number of members."""
    scope = get_user_scope(user)
    organizations = PartyOrganization.objects.all()
    if not scope.is_city_admin:
        organizations = organizations.filter(paths_q("path", scope.view_paths))
    active = Q(memberships__ended_on__isnull=True)
    return (
        organizations.filter(Exists(_members(OuterRef("pk"))))
        .annotate(member_count=Count("memberships", filter=active))
        .order_by("path")
    )


def appraisal_list(
    *, user, year: int | None = None, organization_id: int | None = None
) -> QuerySet[DemocraticAppraisal]:
    rows = DemocraticAppraisal.objects.visible_to(user)
    if year:
        rows = rows.filter(assessment_year__year=year)
    if organization_id:
        rows = rows.filter(organization_id=organization_id)
    return rows.select_related("assessment_year", "organization", "member").order_by(
        "-assessment_year__year", "organization__path", "member__real_name", "pk"
    )


def can_appraise(*, user, organization) -> bool:
    return user_can_manage(user, organization)
