from django.db.models import Count, Q

from apps.core.scoping import UserScope

from .models import (
    MANAGING_ROLES,
    Membership,
    OrganizationRole,
    PartyOrganization,
    RoleKind,
    paths_q,
)


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """Drop paths that lie under another path in the set: their subtree is already covered."""
    ordered = sorted(paths, key=len)
    kept: list[str] = []
    for path in ordered:
        if not any(path.startswith(parent) for parent in kept):
            kept.append(path)
    return tuple(kept)


def scope_for_user(user) -> UserScope:
    """The organisations a user reaches (two queries; cached per request by the core)."""
    roles = list(
        OrganizationRole.objects.active()
        .filter(user=user, organization__is_active=True)
        .values_list("kind", "organization__path", "organization__depth")
    )
    is_city_admin = user.is_superuser or any(
        kind == RoleKind.ADMIN and depth == 1 for kind, _path, depth in roles
    )
    manage = {path for kind, path, _depth in roles if kind in MANAGING_ROLES}
    view = {path for _kind, path, _depth in roles}
    member_ids = tuple(
        Membership.objects.active().filter(user=user).values_list("organization_id", flat=True)
    )
    return UserScope(
        is_city_admin=is_city_admin,
        manage_paths=_outermost(manage),
        view_paths=_outermost(view),
        member_organization_ids=member_ids,
    )


def user_visibility_rule(user, scope: UserScope, *, manage: bool) -> Q:
    """Users a person reaches: members and role holders in their subtree (and themselves)."""
    if scope.is_city_admin:
        return Q()
    paths = scope.manage_paths if manage else scope.view_paths
    in_scope = Q(
        pk__in=Membership.objects.active()
        .filter(paths_q("organization__path", paths))
        .values("user_id")
    )
    if manage:
        # Nobody changes (or resets the password of) someone whose reach is wider than their
        # own: a superuser, or a person holding a role outside the actor's subtree.
        wider = OrganizationRole.objects.active().exclude(paths_q("organization__path", paths))
        return in_scope & ~Q(is_superuser=True) & ~Q(pk__in=wider.values("user_id"))
    in_scope |= Q(
        pk__in=OrganizationRole.objects.active()
        .filter(paths_q("organization__path", paths))
        .values("user_id")
    )
    return in_scope | Q(pk=user.pk)


def organization_list(*, user, search: str = "", kind: str = ""):
    """Organisations the user may see, with member counts, for list pages and the API."""
    queryset = PartyOrganization.objects.visible_to(user).select_related("parent")
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.annotate(
        active_member_count=Count("memberships", filter=Q(memberships__ended_on__isnull=True))
    ).order_by("path")


def organization_subtree_member_count(*, organization: PartyOrganization) -> int:
    return (
        Membership.objects.active().filter(organization__path__startswith=organization.path).count()
    )


def volunteer_profile_rule(user, scope: UserScope, *, manage: bool) -> Q:
    """Profiles of people whose active party membership lies in the user's subtree."""
    if scope.is_city_admin:
        return Q()
    paths = scope.manage_paths if manage else scope.view_paths
    return Q(
        user__in=Membership.objects.active()
        .filter(paths_q("organization__path", paths))
        .values("user_id")
    )
