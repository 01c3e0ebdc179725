"""Reads with rules: what a user may see of communities, reports, posts, claims and pledges."""

from django.db.models import Count, Q

from apps.core.scoping import UserScope

from .models import (
    HOLDING_CLAIMS,
    ClaimStatus,
    Community,
    CommunityStaff,
    Pledge,
    PledgeStatus,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    ServicePoint,
    TeamPairing,
)

#: annotation: claims that hold a place on a post (pending or approved)
TAKEN = Count("claims", filter=Q(claims__status__in=HOLDING_CLAIMS))


def volunteer_profile_rule(user, scope: UserScope, *, manage: bool) -> Q:
    """Profiles registered with a community the user works for."""
    staffed = CommunityStaff.objects.active().filter(user=user).values("community_id")
    return Q(residence_community__in=staffed)


def community_list(*, user):
    return Community.objects.visible_to(user).select_related("organization")


def community_managed_list(*, user):
    """Communities the user works for or manages, with what awaits them."""
    return (
        Community.objects.manageable_by(user)
        .select_related("organization")
        .annotate(
            pending_report_count=Count(
                "residence_reports",
                filter=Q(residence_reports__status=ResidenceReportStatus.PENDING),
                distinct=True,
            ),
            post_count=Count("posts", filter=Q(posts__is_published=True), distinct=True),
        )
        .order_by("district", "street", "name")
    )


def community_directory():
    return Community.objects.directory()


def service_point_list(*, user):
    return (
        ServicePoint.objects.visible_to(user)
        .select_related("community")
        .prefetch_related("service_categories")
    )


def team_pairing_list(*, user):
    return TeamPairing.objects.visible_to(user).select_related("team", "community")


def residence_report_list(*, user):
    return ResidenceReport.objects.visible_to(user).select_related("user", "community")


def residence_report_current(*, user) -> ResidenceReport | None:
    """The member's open report (pending or confirmed), else their latest one."""
    reports = ResidenceReport.objects.filter(user=user).select_related("community")
    open_report = reports.filter(
        status__in=[ResidenceReportStatus.PENDING, ResidenceReportStatus.CONFIRMED]
    ).first()
    return open_report or reports.first()


def post_list(*, user):
    return (
        Post.objects.visible_to(user)
        .select_related("community", "service_category")
        .annotate(taken=TAKEN)
        .order_by("-starts_on", "title", "pk")  # Meta.ordering does not apply to GROUP BY
    )


def community_posts(*, community, published_only: bool = False):
    posts = Post.objects.filter(community=community)
    if published_only:
        posts = posts.published()
    return (
        posts.select_related("service_category")
        .annotate(taken=TAKEN)
        .order_by("-starts_on", "title", "pk")
    )


def post_claim_list(*, user):
    return PostClaim.objects.visible_to(user).select_related("post", "post__community", "user")


def member_claims(*, user):
    return PostClaim.objects.filter(user=user).select_related("post", "post__community")


def pledge_list(*, user):
    return Pledge.objects.visible_to(user).select_related("user", "community")


def member_pledges(*, user):
    return Pledge.objects.filter(user=user).select_related("community")


def community_pending_reports(*, community):
    return ResidenceReport.objects.filter(
        community=community, status=ResidenceReportStatus.PENDING
    ).select_related("user")


def community_pending_claims(*, community):
    return PostClaim.objects.filter(
        post__community=community, status=ClaimStatus.PENDING
    ).select_related("post", "user")


def community_pledges_to_review(*, community):
    return Pledge.objects.filter(
        community=community, status=PledgeStatus.KEPT_REPORTED
    ).select_related("user")
