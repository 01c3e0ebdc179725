"""Who may be nominated for an award (评选条件), and how much of each quota is used.

The figures come from the year's roll-up; the rules from the award category. One function,
:func:`_reasons`, applies the rules, for a single candidate and for a whole list alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from apps.organizations.models import Membership, PartyOrganization
from apps.service_records.models import RecordStatus, ServiceRecord
from apps.teams.models import Team

from .models import (
    AssessmentYear,
    AwardCategory,
    AwardKind,
    Nomination,
    Quota,
    RunStatus,
    TeamYearSummary,
    VolunteerYearSummary,
    _ancestor_paths,
)

HUNDREDTH = Decimal("0.01")


def as_assessment_year(assessment_year) -> AssessmentYear:
    """An :class:`AssessmentYear`, given one or a year number (created if need be)."""
    if isinstance(assessment_year, AssessmentYear):
        return assessment_year
    return AssessmentYear.objects.get_or_create(year=int(assessment_year))[0]


def _hours(minutes) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(HUNDREDTH)


@dataclass
class Candidate:
    volunteer: object | None
    team: Team | None
    organization: PartyOrganization | None
    hours: Decimal
    points: Decimal
    average_rating: Decimal | None
    rejected_records: int
    reasons: list[str] = field(default_factory=list)
    nomination: Nomination | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def name(self) -> str:
        if self.volunteer is not None:
            return self.volunteer.real_name or self.volunteer.username
        return self.team.name if self.team is not None else ""


def _rollup_reason(assessment_year: AssessmentYear) -> str | None:
    if assessment_year.run_status != RunStatus.DONE:
        return _(
            "The roll-up of %(year)s has not been completed: the candidates' figures are not "
            "known yet."
        ) % {"year": assessment_year.year}
    return None


def _reasons(
    *,
    category: AwardCategory,
    year: int,
    is_team: bool,
    party_member: bool,
    hours: Decimal,
    points: Decimal,
    average_rating: Decimal | None,
    rejected_records: int,
) -> list[str]:
    reasons = []
    if is_team and category.kind != AwardKind.TEAM:
        reasons.append(_("“%(category)s” is awarded to volunteers, not teams.") % _names(category))
    if not is_team and category.kind != AwardKind.VOLUNTEER:
        reasons.append(_("“%(category)s” is awarded to teams, not volunteers.") % _names(category))
    if not is_team and category.party_members_only and not party_member:
        reasons.append(_("Not an active party member."))
    if category.min_hours is not None and hours < category.min_hours:
        reasons.append(
            _("%(hours)s approved hours in %(year)s; at least %(minimum)s are required.")
            % {"hours": hours, "year": year, "minimum": category.min_hours}
        )
    if not is_team and category.min_points is not None and points < category.min_points:
        reasons.append(
            _("%(points)s points in %(year)s; at least %(minimum)s are required.")
            % {"points": points, "year": year, "minimum": category.min_points}
        )
    if category.min_average_rating is not None:
        if average_rating is None:
            reasons.append(_("No rating in %(year)s.") % {"year": year})
        elif average_rating < category.min_average_rating:
            reasons.append(
                _("Average rating %(rating)s; at least %(minimum)s is required.")
                % {"rating": average_rating, "minimum": category.min_average_rating}
            )
    maximum = category.max_rejected_records
    if maximum is not None and rejected_records > maximum:
        reasons.append(
            _("%(count)s rejected records in %(year)s; at most %(maximum)s are allowed.")
            % {"count": rejected_records, "year": year, "maximum": maximum}
        )
    return reasons


def _names(category) -> dict:
    return {"category": category.name}


def _rejected_records(year: int, **candidate) -> QuerySet[ServiceRecord]:
    return ServiceRecord.objects.filter(
        status=RecordStatus.REJECTED, service_date__year=year, **candidate
    )


def candidate_check(*, assessment_year, category, volunteer=None, team=None) -> list[str]:
    """Reasons (translated) the candidate does not meet the category's rules; [] if eligible."""
    assessment_year = as_assessment_year(assessment_year)
    not_rolled_up = _rollup_reason(assessment_year)
    if not_rolled_up:
        return [not_rolled_up]
    year = assessment_year.year
    if team is not None:
        summary = TeamYearSummary.objects.filter(assessment_year=assessment_year, team=team).first()
        return _reasons(
            category=category,
            year=year,
            is_team=True,
            party_member=False,
            hours=_hours(summary.approved_minutes if summary else 0),
            points=Decimal(0),
            average_rating=summary.average_rating if summary else None,
            rejected_records=_rejected_records(year, team=team).count(),
        )
    summary = VolunteerYearSummary.objects.filter(
        assessment_year=assessment_year, volunteer=volunteer
    ).first()
    return _reasons(
        category=category,
        year=year,
        is_team=False,
        party_member=Membership.objects.active().filter(user=volunteer).exists(),
        hours=_hours(summary.approved_minutes if summary else 0),
        points=summary.points if summary else Decimal(0),
        average_rating=summary.average_rating if summary else None,
        rejected_records=_rejected_records(year, volunteer=volunteer).count(),
    )


def _rejected_count(year: int, link: str):
    rows = (
        _rejected_records(year, **{link: OuterRef(link)})
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def candidate_list(*, user, assessment_year, category, organization) -> list[Candidate]:
    """Everyone of ``organization``'s subtree with their figures and reasons, eligible first
    and then by hours. Two queries whatever the size: the summaries (with the rejected records
    and party membership as subqueries) and the live nominations."""
    assessment_year = as_assessment_year(assessment_year)
    year = assessment_year.year
    not_rolled_up = _rollup_reason(assessment_year)
    live = Nomination.objects.live().filter(assessment_year=assessment_year, category=category)
    candidates: list[Candidate] = []
    if category.kind == AwardKind.TEAM:
        rows = (
            TeamYearSummary.objects.visible_to(user)
            .filter(
                assessment_year=assessment_year,
                team__organization__path__startswith=organization.path,
            )
            .annotate(rejected=_rejected_count(year, "team"))
            .select_related("team__organization")
        )
        nominated = {n.team_id: n for n in live.filter(team__in=rows.values("team_id"))}
        for row in rows:
            hours = _hours(row.approved_minutes)
            candidates.append(
                Candidate(
                    volunteer=None,
                    team=row.team,
                    organization=row.team.organization,
                    hours=hours,
                    points=Decimal(0),
                    average_rating=row.average_rating,
                    rejected_records=row.rejected,
                    reasons=[not_rolled_up]
                    if not_rolled_up
                    else _reasons(
                        category=category,
                        year=year,
                        is_team=True,
                        party_member=False,
                        hours=hours,
                        points=Decimal(0),
                        average_rating=row.average_rating,
                        rejected_records=row.rejected,
                    ),
                    nomination=nominated.get(row.team_id),
                )
            )
    else:
        rows = (
            VolunteerYearSummary.objects.visible_to(user)
            .filter(
                assessment_year=assessment_year,
                organization__path__startswith=organization.path,
            )
            .annotate(
                rejected=_rejected_count(year, "volunteer"),
                party_member=Exists(
                    Membership.objects.active().filter(user_id=OuterRef("volunteer_id"))
                ),
            )
            .select_related("volunteer", "organization")
        )
        nominated = {
            n.volunteer_id: n for n in live.filter(volunteer__in=rows.values("volunteer_id"))
        }
        for row in rows:
            hours = _hours(row.approved_minutes)
            candidates.append(
                Candidate(
                    volunteer=row.volunteer,
                    team=None,
                    organization=row.organization,
                    hours=hours,
                    points=row.points,
                    average_rating=row.average_rating,
                    rejected_records=row.rejected,
                    reasons=[not_rolled_up]
                    if not_rolled_up
                    else _reasons(
                        category=category,
                        year=year,
                        is_team=False,
                        party_member=row.party_member,
                        hours=hours,
                        points=row.points,
                        average_rating=row.average_rating,
                        rejected_records=row.rejected,
                    ),
                    nomination=nominated.get(row.volunteer_id),
                )
            )
    candidates.sort(key=lambda c: (not c.eligible, -c.hours, c.name))
    return candidates


@dataclass
class QuotaUse:
    quota: Quota
    used: int

    @property
    def left(self) -> int:
        return max(self.quota.places - self.used, 0)

    @property
    def full(self) -> bool:
        return self.used >= self.quota.places


def _path_quotas(*, assessment_year, category, organization):
    return Quota.objects.filter(
        assessment_year=assessment_year,
        category=category,
        organization__path__in=[*_ancestor_paths(organization.path), organization.path],
    )


def _uses(quotas, *, assessment_year, category) -> list[QuotaUse]:
    """The use of each quota, counted in one query."""
    if not quotas:
        return []
    counts = (
        Nomination.objects.live()
        .filter(assessment_year=assessment_year, category=category)
        .aggregate(
            **{
                f"q{quota.pk}": Count(
                    "pk", filter=Q(organization__path__startswith=quota.organization.path)
                )
                for quota in quotas
            }
        )
    )
    return [QuotaUse(quota=quota, used=counts[f"q{quota.pk}"]) for quota in quotas]


def quota_uses(*, assessment_year, category, organization) -> list[QuotaUse]:
    """Quotas on ``organization`` and on every organisation above it, with their use (the
    nearest first)."""
    assessment_year = as_assessment_year(assessment_year)
    quotas = list(
        _path_quotas(assessment_year=assessment_year, category=category, organization=organization)
        .select_related("organization", "category", "assessment_year")
        .order_by("-organization__depth")
    )
    return _uses(quotas, assessment_year=assessment_year, category=category)
