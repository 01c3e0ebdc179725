"""Reads with rules on teams: the directory, rosters, and a volunteer's own teams."""

import functools

from django.db import connection
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from apps.core.scoping import get_user_scope
from apps.organizations.models import paths_q

from .models import LEADING_ROLES, Team, TeamMembership, TeamMembershipStatus, TeamRole

ROLE_ORDER = Case(
    When(role=TeamRole.LEADER, then=Value(0)),
    When(role=TeamRole.DEPUTY, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _with_counts(queryset: QuerySet) -> QuerySet:
    """Active member and active pairing counts, in the same query as the teams."""
    today = timezone.localdate()
    # Pairings belong to the communities app (a layer above); the reverse relation is enough.
    active_pairing = Q(pairings__started_on__lte=today) & (
        Q(pairings__ended_on__isnull=True) | Q(pairings__ended_on__gte=today)
    )
    return queryset.annotate(
        active_member_count=Count(
            "memberships",
            filter=Q(memberships__status=TeamMembershipStatus.ACTIVE),
            distinct=True,
        ),
        pairing_count=Count("pairings", filter=active_pairing, distinct=True),
    )


def team_directory(*, search: str = "", category: str = "", kind: str = "") -> QuerySet:
    """Active teams any signed-in person may browse: one query, plus one for the categories."""
    queryset = Team.objects.directory().select_related("organization")
    search = (search or "").strip()
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(brand_name__icontains=search)
            | Q(organization__name__icontains=search)
        )
    if category:
        queryset = queryset.filter(
            pk__in=Team.objects.filter(
                Q(service_categories__code=category) | Q(service_categories__name=category)
            ).values("pk")
        )
    if kind:
        queryset = queryset.filter(kind=kind)
    return (
        _with_counts(queryset)
        .prefetch_related("service_categories")
        .order_by("organization__path", "name")
    )


def team_list(*, user) -> QuerySet:
    """Teams the user may see (their organisations' and their own), with counts."""
    return (
        _with_counts(Team.objects.visible_to(user).select_related("organization"))
        .prefetch_related("service_categories")
        .order_by("organization__path", "name")
    )


def team_public_queryset(*, user) -> QuerySet:
    """Teams whose public page a user may open: every active team, and inactive ones in scope."""
    return Team.objects.filter(Q(is_active=True) | Q(pk__in=Team.objects.visible_to(user)))


def team_detail(*, user, pk: int) -> Team:
    return (
        _with_counts(team_public_queryset(user=user).select_related("organization"))
        .prefetch_related("service_categories")
        .get(pk=pk)
    )


def team_leaders(*, team: Team) -> list[TeamMembership]:
    return list(
        TeamMembership.objects.filter(
            team=team, status=TeamMembershipStatus.ACTIVE, role__in=LEADING_ROLES
        )
        .select_related("user")
        .order_by(ROLE_ORDER, "user__real_name")
    )


def team_roster(*, team: Team) -> QuerySet:
    """The active members, leader first, with their family groups and guardians."""
    return (
        TeamMembership.objects.filter(team=team, status=TeamMembershipStatus.ACTIVE)
        .select_related("user", "family_group", "guardian")
        .order_by(ROLE_ORDER, "user__real_name", "pk")
    )


def team_pending_applications(*, team: Team) -> QuerySet:
    return (
        TeamMembership.objects.filter(team=team, status=TeamMembershipStatus.APPLIED)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def team_open_invitations(*, team: Team) -> QuerySet:
    return (
        TeamMembership.objects.filter(team=team, status=TeamMembershipStatus.INVITED)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def team_family_groups(*, team: Team):
    return team.family_groups.select_related("head").prefetch_related(
        Prefetch(
            "memberships",
            queryset=TeamMembership.objects.filter(status=TeamMembershipStatus.ACTIVE)
            .select_related("user", "guardian")
            .order_by("user__real_name"),
        )
    )


def volunteer_teams(*, user) -> dict[str, list[TeamMembership]]:
    """A volunteer's active memberships, pending applications and open invitations."""
    memberships = (
        TeamMembership.objects.filter(
            user=user,
            status__in=[
                TeamMembershipStatus.ACTIVE,
                TeamMembershipStatus.APPLIED,
                TeamMembershipStatus.INVITED,
            ],
        )
        .select_related("team", "team__organization")
        .order_by("team__name")
    )
    grouped: dict[str, list[TeamMembership]] = {"active": [], "applied": [], "invited": []}
    for membership in memberships:
        grouped[membership.status].append(membership)
    return grouped


def team_membership_list(*, user) -> QuerySet:
    """Memberships the user may see: their teams' rosters and their own."""
    return (
        TeamMembership.objects.visible_to(user)
        .select_related("team", "user")
        .order_by("team_id", ROLE_ORDER, "pk")
    )


def user_can_view_team_admin(*, user, team: Team) -> bool:
    """Whether a person may look at a team's management page without changing anything.

    Organisation roles whose subtree holds the team (inspectors too) may look; members who
    merely belong to the team may not.
    """
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return True
    return (
        Team.objects.filter(pk=team.pk)
        .filter(paths_q("organization__path", scope.view_paths))
        .exists()
    )


def member_teams(user) -> QuerySet:
    """The active teams the user is an active member of, with their organisations (a record
    logged for a team belongs to its organisation)."""
    return Team.objects.filter(
        is_active=True,
        memberships__user=user,
        memberships__status=TeamMembershipStatus.ACTIVE,
    ).select_related("organization")


#: Stand-ins for a user's and a team's id while ``member_teams`` is compiled: no row has them.
_SOME_USER, _SOME_TEAM = -2_000_000_001, -2_000_000_002


@functools.cache
def _member_team_organization(vendor: str) -> tuple[str, tuple]:
    teams = member_teams(_SOME_USER).filter(pk=_SOME_TEAM).order_by()
    sql, params = teams.values("organization_id").query.sql_with_params()
    return sql, tuple(params)


def member_team_organization_sql(user_id: int, team_id: int) -> tuple[str, list]:
    """A query (SQL and parameters) answering the team's organisation when the user is an
    active member of the active team, and nothing otherwise: ``member_teams``, compiled once
    per process, to be asked inside another statement (logging service asks it in the
    statement that locks the volunteer, ``service_records.services``)."""
    sql, params = _member_team_organization(connection.vendor)
    swap = {_SOME_USER: user_id, _SOME_TEAM: team_id}
    return sql, [swap.get(value, value) if type(value) is int else value for value in params]
