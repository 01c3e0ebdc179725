"""The coverage board (无死角): where teams, communities and in-service members fall through.

Every figure is an aggregate over one organisation subtree: teams, communities and members are
counted with ``Count(filter=…)`` over ``Exists`` subqueries, so the board costs the same handful
of queries for a branch of ten members as for a city of a hundred thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.scoping import get_user_scope
from apps.organizations.models import EmploymentStatus, Membership, PartyOrganization, paths_q
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, TeamRole

from .models import (
    ClaimStatus,
    Community,
    Pledge,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    TeamPairing,
)

TEAMS_UNPAIRED = "teams-unpaired"
COMMUNITIES_UNPAIRED = "communities-unpaired"
MEMBERS_UNREPORTED = "members-unreported"
REPORTED_WITHOUT_POST = "reported-without-post"
REPORTED_WITHOUT_PLEDGE = "reported-without-pledge"


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    label: Promise
    #: what the denominator counts ("active teams")
    population: Promise
    #: what the drill-down lists ("teams without a pairing")
    missing_label: Promise
    #: "team", "community" or "member": which columns the drill-down and export show
    row_kind: str


INDICATORS: dict[str, IndicatorSpec] = {
    spec.key: spec
    for spec in (
        IndicatorSpec(
            TEAMS_UNPAIRED,
            _("Teams paired with a community"),
            _("active teams"),
            _("Teams without an active pairing"),
            "team",
        ),
        IndicatorSpec(
            COMMUNITIES_UNPAIRED,
            _("Communities with a team"),
            _("active communities and villages"),
            _("Communities without a paired team"),
            "community",
        ),
        IndicatorSpec(
            MEMBERS_UNREPORTED,
            _("In-service members reported to their community"),
            _("in-service party members"),
            _("In-service members not reported"),
            "member",
        ),
        IndicatorSpec(
            REPORTED_WITHOUT_POST,
            _("Reported members with a post"),
            _("reported members"),
            _("Reported members without an approved post"),
            "member",
        ),
        IndicatorSpec(
            REPORTED_WITHOUT_PLEDGE,
            _("Reported members with a pledge this year"),
            _("reported members"),
            _("Reported members without a pledge for the year"),
            "member",
        ),
    )
}


@dataclass(frozen=True)
class Indicator:
    spec: IndicatorSpec
    total: int
    missing: int

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def covered(self) -> int:
        return self.total - self.missing

    @property
    def percent(self) -> float | None:
        """Share covered, 0–100; ``None`` when there is nothing to cover."""
        if not self.total:
            return None
        return round(100 * self.covered / self.total, 1)


@dataclass(frozen=True)
class CoverageBoard:
    organization: PartyOrganization
    year: int
    indicators: list[Indicator]


def coverage_organizations(*, user) -> QuerySet[PartyOrganization]:
    """Organisations whose coverage the user may look at: the subtrees their roles reach.

    An organisation the user merely belongs to as a member is visible to them, but its
    coverage (names of other members) is not theirs to read.
    """
    queryset = PartyOrganization.objects.visible_to(user)
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return queryset
    return queryset.filter(paths_q("path", scope.view_paths))


def coverage_default_organization(*, user) -> PartyOrganization | None:
    """The outermost organisation the user reaches (the root for the city's administrators)."""
    return coverage_organizations(user=user).order_by("depth", "path").first()


def _require_in_scope(user, organization: PartyOrganization) -> None:
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return
    if not any(organization.path.startswith(path) for path in scope.view_paths):
        raise PermissionDenied


def _teams(organization):
    return Team.objects.filter(is_active=True, organization__path__startswith=organization.path)


def _communities(organization):
    return Community.objects.filter(
        is_active=True, organization__path__startswith=organization.path
    )


def _in_service_members(organization):
    return Membership.objects.active().filter(
        employment=EmploymentStatus.EMPLOYED,
        organization__path__startswith=organization.path,
        user__is_active=True,
    )


def _paired_team():
    return Exists(TeamPairing.objects.active().filter(team=OuterRef("pk")))


def _paired_community():
    return Exists(
        TeamPairing.objects.active().filter(community=OuterRef("pk"), team__is_active=True)
    )


def _reported(user_ref):
    return Exists(
        ResidenceReport.objects.filter(user=user_ref, status=ResidenceReportStatus.CONFIRMED)
    )


def _claimed(user_ref):
    return Exists(PostClaim.objects.filter(user=user_ref, status=ClaimStatus.APPROVED))


def _pledged(user_ref, year):
    return Exists(Pledge.objects.filter(user=user_ref, year=year))


def coverage_board(*, user, organization: PartyOrganization, year: int) -> CoverageBoard:
    """The five indicators for ``organization``'s subtree, in three aggregate queries."""
    _require_in_scope(user, organization)
    teams = (
        _teams(organization)
        .annotate(paired=_paired_team())
        .aggregate(total=Count("pk"), missing=Count("pk", filter=Q(paired=False)))
    )
    communities = (
        _communities(organization)
        .annotate(paired=_paired_community())
        .aggregate(total=Count("pk"), missing=Count("pk", filter=Q(paired=False)))
    )
    members = (
        _in_service_members(organization)
        .annotate(
            reported=_reported(OuterRef("user_id")),
            claimed=_claimed(OuterRef("user_id")),
            pledged=_pledged(OuterRef("user_id"), year),
        )
        .aggregate(
            total=Count("pk"),
            unreported=Count("pk", filter=Q(reported=False)),
            reported_total=Count("pk", filter=Q(reported=True)),
            unclaimed=Count("pk", filter=Q(reported=True, claimed=False)),
            unpledged=Count("pk", filter=Q(reported=True, pledged=False)),
        )
    )
    figures = {
        TEAMS_UNPAIRED: (teams["total"], teams["missing"]),
        COMMUNITIES_UNPAIRED: (communities["total"], communities["missing"]),
        MEMBERS_UNREPORTED: (members["total"], members["unreported"]),
        REPORTED_WITHOUT_POST: (members["reported_total"], members["unclaimed"]),
        REPORTED_WITHOUT_PLEDGE: (members["reported_total"], members["unpledged"]),
    }
    return CoverageBoard(
        organization=organization,
        year=year,
        indicators=[
            Indicator(spec=spec, total=figures[key][0], missing=figures[key][1])
            for key, spec in INDICATORS.items()
        ],
    )


def _member_rows(organization, condition: Q) -> QuerySet[User]:
    """People (one row each) whose active in-service membership lies in the subtree."""
    membership = _in_service_members(organization).filter(user=OuterRef("pk"))
    return (
        User.objects.filter(Exists(membership))
        .annotate(
            branch_name=Subquery(membership.values("organization__name")[:1]),
            reported=_reported(OuterRef("pk")),
        )
        .filter(condition)
        .order_by("branch_name", "real_name", "pk")
    )


def coverage_drilldown(*, user, organization: PartyOrganization, indicator: str, year: int):
    """The rows missing from one indicator: teams, communities or people, for lists and exports.

    Teams carry ``leader_name``; people carry ``branch_name``. Raises ``KeyError`` for an
    indicator the board does not know.
    """
    spec = INDICATORS[indicator]
    _require_in_scope(user, organization)
    if spec.key == TEAMS_UNPAIRED:
        leader = TeamMembership.objects.filter(
            team=OuterRef("pk"), role=TeamRole.LEADER, status=TeamMembershipStatus.ACTIVE
        ).values("user__real_name")[:1]
        return (
            _teams(organization)
            .filter(~_paired_team())
            .select_related("organization")
            .annotate(leader_name=Subquery(leader))
            .order_by("organization__path", "name", "pk")
        )
    if spec.key == COMMUNITIES_UNPAIRED:
        return (
            _communities(organization)
            .filter(~_paired_community())
            .select_related("organization")
            .order_by("district", "street", "name", "pk")
        )
    if spec.key == MEMBERS_UNREPORTED:
        return _member_rows(organization, Q(reported=False))
    if spec.key == REPORTED_WITHOUT_POST:
        return _member_rows(organization, Q(reported=True) & ~_claimed(OuterRef("pk")))
    return _member_rows(organization, Q(reported=True) & ~_pledged(OuterRef("pk"), year))
