"""Portal pages for activities: the directory, an activity's page with sign-up, my activities,
the organiser's desk (create, edit, publish, cancel, repeat, roster and attendance), the QR
screens for check-in and check-out and the page a volunteer's phone opens after scanning.

Every write goes through ``apps.activities.services``; a refusal is shown with the service's
message (a form re-rendered with status 200, or a message after the redirect), never a 500.
"""

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import ServiceCategory
from apps.activities import checkin, selectors, services
from apps.activities.models import (
    OPEN_SIGNUP_STATUSES,
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
)
from apps.communities.models import Community
from apps.core.scoping import get_object_for_user, user_can_manage

from .forms_activities import (
    ActivityCreateForm,
    ActivityEditForm,
    AttendanceForm,
    CancelForm,
    RepeatForm,
    SignupForm,
    organiser_organizations,
    organiser_teams,
)

PAGE_SIZE = 20
PAST_SIZE = 20
ORGANISING_SIZE = 30
DIRECTIONS = ("in", "out")
#: The QR screen asks for a fresh code this often; the token lives longer (see checkin.py).
QR_REFRESH_SECONDS = 30
EDITABLE_FIELDS = tuple(ActivityEditForm.base_fields)


# --- Helpers ----------------------------------------------------------------------------------


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _apply(form, call) -> bool:
    """Run a service for a valid form; its refusal becomes the form's errors."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return False
    return True


def _form_refusal(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _with_my_status(queryset, user):
    """The user's own open sign-up status on each row (one subquery, not one query a row)."""
    mine = Signup.objects.filter(
        activity=OuterRef("pk"), volunteer=user, status__in=OPEN_SIGNUP_STATUSES
    ).values("status")[:1]
    return queryset.annotate(my_status=Subquery(mine))


def _open_activity(user, pk):
    """An activity the user may look at (published, or reached as organiser or sign-up)."""
    try:
        return selectors.activity_queryset(user=user).get(pk=pk)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _managed_activity(user, pk):
    """404 outside scope, 403 for those who see it but may not change it."""
    return get_object_for_user(
        Activity.objects.select_related("category", "team", "community", "organization"),
        user,
        change=True,
        pk=pk,
    )


def _can_organise(user) -> bool:
    """Team leaders and organisation managers create activities (the services refuse others;
    community staff manage the activities in their community but do not create them)."""
    return organiser_teams(user).exists() or organiser_organizations(user).exists()


def _rate_url(request, activity):
    """The residents' evaluation page (records pages); None until that page exists."""
    try:
        path = reverse("portal:activity-rate", args=[activity.evaluation_token])
    except NoReverseMatch:
        return None
    return request.build_absolute_uri(path)


def _qr_svg(url: str, *, scale: int) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, border=2)


# --- Volunteers -------------------------------------------------------------------------------


@require_GET
def activity_list(request):
    """Published activities still to come, with places left; filter by category and community."""
    user = request.user
    now = timezone.now()
    category = _int(request.GET.get("category"))
    community = _int(request.GET.get("community"))
    rows = _with_my_status(
        selectors.activity_list(user=user, category=category, community=community, now=now),
        user,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "portal/activities/fragments/activity_cards.html"
        if request.htmx
        else "portal/activities/list.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "category": category,
            "community": community,
            "categories": ServiceCategory.objects.filter(is_active=True),
            "communities": Community.objects.filter(
                pk__in=Activity.objects.published()
                .upcoming(now)
                .filter(community__isnull=False)
                .values("community_id")
            ).order_by("name"),
            "can_organise": _can_organise(user),
        },
    )


@require_GET
def activity_detail(request, pk):
    user = request.user
    activity = _open_activity(user, pk)
    now = timezone.now()
    my_signup = (
        Signup.objects.filter(activity=activity, volunteer=user).order_by("-created_at").first()
    )
    open_signup = my_signup if my_signup and my_signup.status in OPEN_SIGNUP_STATUSES else None
    waiting_position = None
    if open_signup and open_signup.status == SignupStatus.WAITLISTED:
        waiting_position = (
            Signup.objects.filter(
                activity=activity,
                status=SignupStatus.WAITLISTED,
                created_at__lte=open_signup.created_at,
            ).count()
            or 1
        )
    return render(
        request,
        "portal/activities/detail.html",
        {
            "activity": activity,
            "my_signup": my_signup,
            "open_signup": open_signup,
            "waiting_position": waiting_position,
            "can_sign_up": activity.status == ActivityStatus.PUBLISHED
            and activity.ends_at > now
            and open_signup is None,
            "can_cancel": open_signup is not None and activity.starts_at > now,
            "form": SignupForm(activity=activity),
            "can_manage": user_can_manage(user, activity),
            "is_past": activity.ends_at <= now,
        },
    )


@require_POST
def activity_signup(request, pk):
    activity = _open_activity(request.user, pk)
    form = SignupForm(request.POST, activity=activity)
    if not form.is_valid():
        _form_refusal(request, form)
        return redirect("portal:activity-detail", pk=activity.pk)
    try:
        signup = services.signup_create(volunteer=request.user, activity=activity)
    except ValidationError as error:
        _refusal(request, error)
        return redirect("portal:activity-detail", pk=activity.pk)
    if signup.status == SignupStatus.WAITLISTED:
        messages.warning(
            request, _("The activity is full: you are on the waiting list and will be told.")
        )
    else:
        messages.success(request, _("You are signed up. See you there!"))
    return redirect("portal:activity-detail", pk=activity.pk)


@require_POST
def activity_signup_cancel(request, pk):
    """Cancel a sign-up (``pk`` is the sign-up): the volunteer's own, or by an organiser."""
    signup = get_object_for_user(Signup.objects.select_related("activity"), request.user, pk=pk)
    if signup.volunteer_id != request.user.pk and not user_can_manage(request.user, signup):
        raise PermissionDenied
    try:
        services.signup_cancel(actor=request.user, signup=signup)
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(request, _("The sign-up is cancelled."))
    if request.POST.get("next") == "manage" and signup.volunteer_id != request.user.pk:
        return redirect("portal:activity-manage", pk=signup.activity_id)
    if request.POST.get("next") == "mine":
        return redirect("portal:my-activities")
    return redirect("portal:activity-detail", pk=signup.activity_id)


@require_GET
def my_activities(request):
    """My sign-ups still to come, and past ones with their attendance."""
    now = timezone.now()
    signups = selectors.my_signups(user=request.user)
    upcoming = list(
        signups.filter(activity__ends_at__gt=now, status__in=OPEN_SIGNUP_STATUSES).order_by(
            "activity__starts_at", "pk"
        )
    )
    past = signups.filter(activity__ends_at__lte=now).order_by("-activity__starts_at", "-pk")
    page = Paginator(past, PAST_SIZE).get_page(request.GET.get("page"))
    # Organisers find their drafts and coming activities (and so the QR screens) here.
    organising = list(
        selectors.activity_manage_list(user=request.user)
        .upcoming(now)
        .exclude(status=ActivityStatus.CANCELLED)
        .order_by("starts_at", "pk")[:ORGANISING_SIZE]
    )
    return render(
        request,
        "portal/activities/mine.html",
        {"upcoming": upcoming, "page": page, "organising": organising},
    )


# --- The organiser's desk ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def activity_new(request):
    user = request.user
    if not _can_organise(user):
        raise PermissionDenied
    form = ActivityCreateForm(request.POST or None, user=user)
    created = []
    if request.method == "POST" and _apply(
        form,
        lambda data: created.append(services.activity_create(actor=user, responsible=user, **data)),
    ):
        messages.success(
            request, _("The activity is saved as a draft: publish it when it is ready.")
        )
        return redirect("portal:activity-manage", pk=created[0].pk)
    return render(request, "portal/activities/form.html", {"form": form, "activity": None})


@require_http_methods(["GET", "POST"])
def activity_edit(request, pk):
    activity = _managed_activity(request.user, pk)
    initial = {name: getattr(activity, name) for name in EDITABLE_FIELDS}
    for name in ("starts_at", "ends_at"):
        initial[name] = timezone.localtime(initial[name])
    form = ActivityEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and _apply(
        form,
        lambda data: services.activity_update(actor=request.user, activity=activity, **data),
    ):
        messages.success(request, _("The activity is saved."))
        return redirect("portal:activity-manage", pk=activity.pk)
    return render(request, "portal/activities/form.html", {"form": form, "activity": activity})


@require_POST
def activity_publish(request, pk):
    activity = _managed_activity(request.user, pk)
    try:
        services.activity_publish(actor=request.user, activity=activity)
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(request, _("The activity is published: volunteers can sign up."))
    return redirect("portal:activity-manage", pk=activity.pk)


@require_POST
def activity_cancel(request, pk):
    activity = _managed_activity(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        _form_refusal(request, form)
        return redirect("portal:activity-manage", pk=activity.pk)
    try:
        services.activity_cancel(
            actor=request.user, activity=activity, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(request, _("The activity is cancelled; those signed up are told."))
    return redirect("portal:activity-manage", pk=activity.pk)


@require_POST
def activity_repeat(request, pk):
    activity = _managed_activity(request.user, pk)
    form = RepeatForm(request.POST)
    if not form.is_valid():
        _form_refusal(request, form)
        return redirect("portal:activity-manage", pk=activity.pk)
    try:
        created = services.activity_repeat_weekly(
            actor=request.user, activity=activity, until=form.cleaned_data["until"]
        )
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(
            request,
            _("%(count)d weekly activities created.") % {"count": len(created)},
        )
    return redirect("portal:activity-manage", pk=activity.pk)


@require_GET
def activity_manage(request, pk):
    activity = _managed_activity(request.user, pk)
    roster = list(selectors.activity_roster(activity=activity))
    rate_url = _rate_url(request, activity)
    counts = dict.fromkeys(SignupStatus.values, 0)
    for signup in roster:
        counts[signup.status] = counts.get(signup.status, 0) + 1
    return render(
        request,
        "portal/activities/manage.html",
        {
            "activity": activity,
            "roster": roster,
            "confirmed_count": counts[SignupStatus.CONFIRMED],
            "waiting_count": counts[SignupStatus.WAITLISTED],
            "rate_url": rate_url,
            "rate_qr": _qr_svg(rate_url, scale=4) if rate_url else "",
            "cancel_form": CancelForm(),
            "repeat_form": RepeatForm(),
            "attendance_form": AttendanceForm(),
            # The leader marks attendance afterwards: suggest the planned times, never the future.
            "default_out": min(activity.ends_at, timezone.now()),
            "is_past": activity.ends_at <= timezone.now(),
            "is_draft": activity.status == ActivityStatus.DRAFT,
            "is_cancelled": activity.status == ActivityStatus.CANCELLED,
        },
    )


@require_POST
def activity_attendance(request, pk):
    """The leader marks one sign-up (``pk``) as attended with times, or as a no-show."""
    signup = get_object_for_user(
        Signup.objects.select_related("activity", "volunteer"), request.user, change=True, pk=pk
    )
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        _form_refusal(request, form)
        return redirect("portal:activity-manage", pk=signup.activity_id)
    data = form.cleaned_data
    try:
        if data["action"] == AttendanceForm.NO_SHOW:
            services.signup_mark_no_show(actor=request.user, signup=signup)
        else:
            services.attendance_mark(
                actor=request.user,
                signup=signup,
                checked_in_at=data["checked_in_at"],
                checked_out_at=data["checked_out_at"],
            )
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(
            request,
            _("Attendance saved for %(name)s.") % {"name": signup.volunteer.get_full_name()},
        )
    return redirect("portal:activity-manage", pk=signup.activity_id)


# --- QR check-in and check-out ----------------------------------------------------------------


def _qr_context(request, activity, direction):
    now = timezone.now()
    token = checkin.make_token(activity=activity, direction=direction, now=now)
    url = request.build_absolute_uri(reverse("portal:activity-checkin", args=[token]))
    opens, closes = checkin.window(activity)
    return {
        "window_open": opens <= now <= closes,
        "opens": opens,
        "closes": closes,
        "activity": activity,
        "direction": direction,
        "qr": _qr_svg(url, scale=10),
        "checkin_url": url,
        "generated_at": now,
        "refresh_seconds": QR_REFRESH_SECONDS,
    }


def _qr_activity(request, pk, direction):
    if direction not in DIRECTIONS:
        raise Http404
    return _managed_activity(request.user, pk)


@require_GET
def activity_qr(request, pk, direction):
    """The full-screen code on the leader's phone; a fresh one every 30 seconds."""
    activity = _qr_activity(request, pk, direction)
    return render(request, "portal/activities/qr.html", _qr_context(request, activity, direction))


@require_GET
def activity_qr_fragment(request, pk, direction):
    activity = _qr_activity(request, pk, direction)
    return render(
        request,
        "portal/activities/fragments/qr_code.html",
        _qr_context(request, activity, direction),
    )


@require_http_methods(["GET", "POST"])
def activity_checkin(request, token):
    """What a volunteer's phone opens after scanning: confirm, then check in (or out)."""
    user = request.user
    context = {"token": token, "activity": None, "direction": None, "signup": None, "done": False}
    try:
        activity_id, direction = checkin.read_token(token)
    except ValidationError as error:
        context["errors"] = error.messages
        return render(request, "portal/activities/checkin.html", context)
    # The signed, short-lived token is the capability: whoever holds it is at the activity.
    activity = (
        Activity.objects.select_related("community", "team", "organization")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise Http404
    context.update(activity=activity, direction=direction, errors=[])
    if request.method == "POST":
        service = services.signup_check_in if direction == "in" else services.signup_check_out
        try:
            context["signup"] = service(volunteer=user, token=token)
        except ValidationError as error:
            context["errors"] = error.messages
        else:
            context["done"] = True
    if context["signup"] is None:
        context["signup"] = (
            Signup.objects.filter(activity=activity, volunteer=user).order_by("-created_at").first()
        )
    return render(request, "portal/activities/checkin.html", context)
