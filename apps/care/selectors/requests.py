"""Reads with rules for residents' requests: queues by role, the public wall, tracking."""

from apps.communities.models import Community, TeamPairing
from apps.core.crypto import mask
from apps.teams.models import Team, leads_team_q

from ..models import RequestKind, RequestStatus, ServiceRequest

__all__ = [
    "REQUESTER_FIELDS",
    "WALL_STATUSES",
    "service_request_list",
    "service_request_queue",
    "service_requests_for_team_leader",
    "service_requests_open",
    "service_requests_assigned",
    "service_request_track",
    "service_request_wall",
    "service_request_timeline",
    "service_request_dispatch_teams",
    "requester_whole_community_ids",
    "requester_whole_visible",
    "requester_masked",
]

REQUESTER_FIELDS = ("requester_name", "requester_phone", "requester_address")
#: Micro-wishes reviewed and not yet done: what the public wall shows.
WALL_STATUSES = (
    RequestStatus.ACCEPTED,
    RequestStatus.DISPATCHED,
    RequestStatus.OPEN,
    RequestStatus.IN_PROGRESS,
)
_RELATED = ("community", "service_category", "dispatched_team", "assigned_volunteer")


def service_request_list(*, user, status: str = ""):
    """Every request the user may see (API list)."""
    queryset = ServiceRequest.objects.visible_to(user).select_related(*_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-pk")


def service_request_queue(*, user, status: str = ""):
    """The community desk's queue: requests of the communities the user serves or oversees."""
    communities = Community.objects.visible_to(user).values("pk")
    queryset = ServiceRequest.objects.filter(community__in=communities).select_related(*_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("deadline", "-created_at", "-pk")


def service_requests_for_team_leader(*, user):
    """Requests dispatched to a team the user leads or deputises, waiting for an answer."""
    return (
        ServiceRequest.objects.filter(leads_team_q(user, field="dispatched_team"))
        .filter(status=RequestStatus.DISPATCHED)
        .select_related(*_RELATED)
        .order_by("deadline", "pk")
    )


def service_requests_open(*, user):
    return (
        ServiceRequest.objects.filter(status=RequestStatus.OPEN)
        .select_related("community", "service_category")
        .order_by("deadline", "pk")
    )


def service_requests_assigned(*, user):
    return (
        ServiceRequest.objects.filter(assigned_volunteer=user)
        .select_related("community", "service_category")
        .order_by("-created_at", "-pk")
    )


def service_request_track(*, tracking_number: str, phone_last4: str) -> ServiceRequest | None:
    """A resident's look-up: the request only when the number and the phone's end both match."""
    tracking_number = (tracking_number or "").strip().upper()
    phone_last4 = (phone_last4 or "").strip()
    if not tracking_number or len(phone_last4) != 4:
        return None
    request = (
        ServiceRequest.objects.select_related("community")
        .filter(tracking_number=tracking_number)
        .first()
    )
    if request is None or not request.requester_phone.endswith(phone_last4):
        return None
    return request


def service_request_wall():
    """Open micro-wishes, anonymised: only what the wall may show."""
    return (
        ServiceRequest.objects.filter(
            kind=RequestKind.MICRO_WISH,
            status__in=WALL_STATUSES,
            show_on_wall=True,
            community__is_active=True,
        )
        .order_by("-created_at", "-pk")
        .values("pk", "title", "status", "created_at", "community__name", "service_category__name")
    )


def service_request_timeline(*, request: ServiceRequest):
    return request.events.select_related("actor").order_by("at", "pk")


def service_request_dispatch_teams(*, request: ServiceRequest):
    """Active teams paired with the request's community: where it can be dispatched."""
    paired = TeamPairing.objects.active().filter(community_id=request.community_id)
    return Team.objects.filter(is_active=True, pk__in=paired.values("team_id")).order_by("name")


def requester_whole_community_ids(*, user) -> set[int]:
    """Communities whose requesters' contact the user sees whole: their staff and those above."""
    return set(Community.objects.visible_to(user).values_list("pk", flat=True))


def requester_whole_visible(*, user, request: ServiceRequest) -> bool:
    return Community.objects.visible_to(user).filter(pk=request.community_id).exists()


def _keep_start(value: str, keep: int) -> str:
    # core.crypto.mask(keep_end=0) would keep the whole value (value[-0:]): mask here.
    if not value:
        return ""
    keep = min(keep, max(len(value) - 1, 0))
    return value[:keep] + "*" * (len(value) - keep)


def requester_masked(request: ServiceRequest) -> dict[str, str]:
    return {
        "requester_name": _keep_start(request.requester_name, 1),
        "requester_phone": mask(request.requester_phone, keep_start=3, keep_end=4),
        "requester_address": _keep_start(request.requester_address, 3),
    }
