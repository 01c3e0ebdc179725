"""Portal pages for residents' requests: the community desk (intake, queue, detail), team
leaders (accept and assign, or decline) and volunteers (claim and complete)."""

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import ServiceCategory, User
from apps.care import selectors, services
from apps.care.models import CareRecipient, RequestKind, RequestStatus, ServiceRequest
from apps.communities.models import Community, TeamPairing
from apps.core.scoping import get_object_for_user
from apps.core.services import audit_log
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, leads_team_q

from .resident_views import _apply

QUEUE_SIZE = 100


class IntakeForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"), queryset=Community.objects.none()
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("How it came in"),
        choices=[(c.value, c.label) for c in services.STAFF_CHANNELS],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=RequestKind.choices, initial=RequestKind.NEED
    )
    title = forms.CharField(label=gettext_lazy("What is needed"), max_length=128)
    description = forms.CharField(
        label=gettext_lazy("Details"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 3}),
    )
    requester_name = forms.CharField(
        label=gettext_lazy("Requester's or caller's name"), required=False, max_length=64
    )
    requester_phone = forms.CharField(
        label=gettext_lazy("Requester's or caller's phone"), required=False, max_length=20
    )
    requester_address = forms.CharField(
        label=gettext_lazy("Requester's address"), required=False, max_length=255
    )
    called_at = forms.DateTimeField(
        label=gettext_lazy("Call received at"),
        required=False,
        help_text=gettext_lazy("For hotline calls."),
        widget=forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    care_recipient = forms.ModelChoiceField(
        label=gettext_lazy("On behalf of household"),
        required=False,
        queryset=CareRecipient.objects.none(),
    )
    service_category = forms.ModelChoiceField(
        label=gettext_lazy("Service category"),
        required=False,
        queryset=ServiceCategory.objects.filter(is_active=True),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.manageable_by(user).filter(
            is_active=True
        )
        self.fields["care_recipient"].queryset = (
            CareRecipient.objects.manageable_by(user).active().select_related("community")
        )


class CompleteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"), max_length=2000, widget=forms.Textarea({"rows": 4})
    )


def _require_desk(user, *, manage: bool):
    communities = (
        Community.objects.manageable_by(user) if manage else Community.objects.visible_to(user)
    )
    if not communities.exists():
        raise PermissionDenied


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# The community desk --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def request_intake(request):
    """Staff enter a request made at the station, or log a hotline call."""
    _require_desk(request.user, manage=True)
    form = IntakeForm(request.POST or None, user=request.user)
    created = []
    if request.method == "POST" and _apply(
        form,
        lambda data: created.append(services.service_request_enter(actor=request.user, **data)),
    ):
        messages.success(
            request,
            _("Request %(number)s entered.") % {"number": created[0].tracking_number},
        )
        return redirect("portal:request-detail", pk=created[0].pk)
    return render(request, "portal/requests/intake.html", {"form": form})


@require_GET
def request_queue(request):
    """Submitted requests to review, accepted ones to dispatch, and everything else in view."""
    _require_desk(request.user, manage=False)
    status = request.GET.get("status", "")
    if status not in RequestStatus.values:
        status = ""
    rows = list(selectors.service_request_queue(user=request.user, status=status)[:QUEUE_SIZE])
    managed = set(Community.objects.manageable_by(request.user).values_list("pk", flat=True))
    teams = defaultdict(list)
    pairings = (
        TeamPairing.objects.active()
        .filter(community__in={row.community_id for row in rows}, team__is_active=True)
        .select_related("team")
        .order_by("team__name")
    )
    for pairing in pairings:
        teams[pairing.community_id].append(pairing.team)
    for row in rows:
        row.can_manage = row.community_id in managed
        row.teams = teams.get(row.community_id, [])
    return render(
        request,
        "portal/requests/queue.html",
        {"rows": rows, "status": status, "statuses": RequestStatus.choices},
    )


@require_POST
def request_action(request, pk):
    """accept, decline, dispatch, open (for claim) or close, from the queue."""
    service_request = get_object_for_user(ServiceRequest, request.user, change=True, pk=pk)
    action = request.POST.get("action", "")
    actor = request.user
    try:
        if action == "accept":
            category = None
            if request.POST.get("service_category"):
                category = ServiceCategory.objects.filter(
                    pk=_int(request.POST["service_category"]), is_active=True
                ).first()
            services.service_request_accept(
                actor=actor, request=service_request, service_category=category
            )
        elif action == "decline":
            services.service_request_decline(
                actor=actor, request=service_request, reason=request.POST.get("reason", "")
            )
        elif action == "dispatch":
            team = Team.objects.filter(pk=_int(request.POST.get("team"))).first()
            if team is None:
                raise ValidationError(_("Choose a team."), code="team_required")
            services.service_request_dispatch(actor=actor, request=service_request, team=team)
        elif action == "open":
            services.service_request_open_for_claim(actor=actor, request=service_request)
        elif action == "close":
            services.service_request_close(actor=actor, request=service_request)
        else:
            raise ValidationError(_("Unknown action."), code="unknown_action")
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(
            request,
            _("%(number)s: %(status)s")
            % {
                "number": service_request.tracking_number,
                "status": service_request.get_status_display(),
            },
        )
    if request.POST.get("next") == "detail":
        return redirect("portal:request-detail", pk=pk)
    return redirect("portal:request-queue")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_GET
def request_detail(request, pk):
    service_request = get_object_for_user(
        ServiceRequest.objects.select_related(
            "community",
            "dispatched_team",
            "assigned_volunteer",
            "service_category",
            "care_recipient",
        ),
        request.user,
        pk=pk,
    )
    whole = selectors.requester_whole_visible(user=request.user, request=service_request)
    if whole:
        audit_log(
            actor=request.user,
            action="care.sensitive_view",
            target=service_request,
            details={"fields": list(selectors.REQUESTER_FIELDS), "via": "page"},
        )
        requester = {field: getattr(service_request, field) for field in selectors.REQUESTER_FIELDS}
    else:
        requester = selectors.requester_masked(service_request)
    return render(
        request,
        "portal/requests/detail.html",
        {
            "service_request": service_request,
            "requester": requester,
            "whole": whole,
            "events": list(selectors.service_request_timeline(request=service_request)),
            "evidence": list(service_request.evidence.all()),
            "can_manage": whole
            and ServiceRequest.objects.manageable_by(request.user).filter(pk=pk).exists(),
            "teams": list(selectors.service_request_dispatch_teams(request=service_request)),
        },
    )


# Team leaders --------------------------------------------------------------------------------


@require_GET
def team_requests(request):
    rows = list(selectors.service_requests_for_team_leader(user=request.user)[:QUEUE_SIZE])
    members = defaultdict(list)
    memberships = (
        TeamMembership.objects.filter(
            team__in={row.dispatched_team_id for row in rows},
            status=TeamMembershipStatus.ACTIVE,
        )
        .select_related("user")
        .order_by("user__real_name")
    )
    for membership in memberships:
        members[membership.team_id].append(membership.user)
    for row in rows:
        row.members = members.get(row.dispatched_team_id, [])
    return render(request, "portal/requests/team.html", {"rows": rows})


@require_POST
def request_team_action(request, pk):
    """The team leader accepts (assigning a member) or declines with a reason."""
    service_request = get_object_for_user(ServiceRequest, request.user, pk=pk)
    if not ServiceRequest.objects.filter(
        leads_team_q(request.user, field="dispatched_team"), pk=pk
    ).exists():
        raise PermissionDenied
    action = request.POST.get("action", "")
    try:
        if action == "accept":
            volunteer = User.objects.filter(pk=_int(request.POST.get("volunteer"))).first()
            services.service_request_team_accept(
                actor=request.user, request=service_request, volunteer=volunteer
            )
        elif action == "decline":
            services.service_request_team_decline(
                actor=request.user, request=service_request, reason=request.POST.get("reason", "")
            )
        else:
            raise ValidationError(_("Unknown action."), code="unknown_action")
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(
            request,
            _("%(number)s: %(status)s")
            % {
                "number": service_request.tracking_number,
                "status": service_request.get_status_display(),
            },
        )
    return redirect("portal:team-requests")


# Volunteers ----------------------------------------------------------------------------------


@require_GET
def requests_open(request):
    rows = list(selectors.service_requests_open(user=request.user)[:QUEUE_SIZE])
    return render(request, "portal/requests/open.html", {"rows": rows})


@require_POST
def request_claim(request, pk):
    service_request = get_object_for_user(ServiceRequest, request.user, pk=pk)
    try:
        services.service_request_claim(user=request.user, request=service_request)
    except ValidationError as error:
        _refusal(request, error)
        return redirect("portal:requests-open")
    messages.success(request, _("You took on %(title)s.") % {"title": service_request.title})
    return redirect("portal:my-requests")


@require_GET
def my_requests(request):
    rows = list(selectors.service_requests_assigned(user=request.user)[:QUEUE_SIZE])
    return render(request, "portal/requests/mine.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def request_complete(request, pk):
    service_request = get_object_for_user(
        ServiceRequest.objects.select_related("community"), request.user, pk=pk
    )
    if service_request.assigned_volunteer_id != request.user.pk:
        raise PermissionDenied
    form = CompleteForm(request.POST or None)
    if request.method == "POST" and _apply(
        form,
        lambda data: services.service_request_complete(
            user=request.user,
            request=service_request,
            note=data["note"],
            photos=request.FILES.getlist("photos"),
        ),
    ):
        messages.success(request, _("Thank you: the request is marked done."))
        return redirect("portal:my-requests")
    return render(
        request,
        "portal/requests/complete.html",
        {
            "service_request": service_request,
            "form": form,
            "max_photos": services.MAX_EVIDENCE_PHOTOS,
        },
    )
