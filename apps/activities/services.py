"""Every write with a rule on activities, sign-ups, attendance, campaign days and plans.

Sign-ups lock the activity row (``select_for_update``) so two people taking the last place at
once cannot both get it, and the volunteer's row so one person cannot book two overlapping
shifts at once. Completed attendance is announced with ``signals.attendance_completed`` inside
the same transaction: the service records app turns it into a record, and when its rules
refuse, the check-out is refused with their message.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import TrainingRecord, VolunteerProfile, VolunteerStatus
from apps.communities.models import TeamPairing
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log
from apps.organizations.models import PartyOrganization
from apps.teams.models import Team

from . import checkin
from .models import (
    Activity,
    ActivityPlan,
    ActivityPlanItem,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    Campaign,
    Signup,
    SignupStatus,
)
from .signals import attendance_completed

logger = logging.getLogger(__name__)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
#: What ``activity_create`` and ``activity_update`` accept.
ACTIVITY_FIELDS = (
    "title",
    "category",
    "organization",
    "team",
    "community",
    "service_point",
    "starts_at",
    "ends_at",
    "place",
    "capacity",
    "description",
    "risks",
    "training_required",
    "responsible",
    "plan_item",
)
CAMPAIGN_FIELDS = (
    "kind",
    "name",
    "date",
    "organization",
    "title",
    "category",
    "start_time",
    "end_time",
    "place",
    "capacity",
    "description",
    "risks",
)
MAX_WEEKLY_REPEATS = 52


def _errors(**fields: str) -> ValidationError:
    return ValidationError({field: [message] for field, message in fields.items()})


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _manages_organization(actor, organization: PartyOrganization | None) -> bool:
    scope = get_user_scope(actor)
    if scope.is_city_admin:
        return True
    return organization is not None and any(
        organization.path.startswith(path) for path in scope.manage_paths
    )


def _require_manages_activity(actor, activity: Activity) -> None:
    if not Activity.objects.manageable_by(actor).filter(pk=activity.pk).exists():
        raise PermissionDenied(_("You do not organise this activity."))


def _lock_activity(activity: Activity) -> Activity:
    return Activity.objects.select_for_update().get(pk=activity.pk)


def _lock_user(user) -> None:
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CHECKIN_WINDOW_MINUTES)


def _confirmed_count(activity: Activity) -> int:
    return Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).count()


# Activities ---------------------------------------------------------------------------------


def _check_activity(
    actor, activity: Activity, *, now: datetime.datetime, check_reach: bool = True
) -> None:
    """The rules every activity obeys, on an unsaved or changed instance.

    ``check_reach``: whether the actor must lead the team or manage the organisation (on
    creation, and when either changes; an organiser of the community may edit the rest)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, message in (
        ("title", _("Give the activity a title.")),
        ("place", _("Give the place.")),
        ("description", _("Describe what volunteers will do.")),
    ):
        value = (getattr(activity, field) or "").strip()
        setattr(activity, field, value)
        if not value:
            add(field, message)
    if activity.category_id is None:
        add("category", _("Choose a service category."))
    if activity.team_id is not None:
        activity.organization = activity.team.organization
        if (
            check_reach
            and not Team.objects.manageable_by(actor).filter(pk=activity.team_id).exists()
        ):
            add("team", _("You can only organise activities for a team you lead or manage."))
        elif check_reach and not activity.team.is_active:
            add("team", _("This team is no longer active."))
    elif activity.organization_id is None:
        add("organization", _("Choose the organising unit or a team."))
    elif check_reach and not _manages_organization(actor, activity.organization):
        add("organization", _("You can only organise activities for an organisation you manage."))
    starts_at, ends_at = activity.starts_at, activity.ends_at
    if not isinstance(starts_at, datetime.datetime):
        add("starts_at", _("Give the start."))
    if not isinstance(ends_at, datetime.datetime):
        add("ends_at", _("Give the end."))
    if not errors.get("starts_at") and not errors.get("ends_at"):
        if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
            add("starts_at", _("Times must carry a time zone."))
        elif ends_at <= starts_at:
            add("ends_at", _("The end must be after the start."))
        elif activity.pk is None and ends_at <= now:
            add("ends_at", _("This activity would already be over: choose a time to come."))
    capacity = activity.capacity
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        add("capacity", _("There must be at least one place."))
    if activity.service_point_id is not None:
        point = activity.service_point
        if activity.community_id is None:
            activity.community = point.community
        elif point.community_id != activity.community_id:
            add("service_point", _("This service point belongs to another community."))
    if activity.plan_item_id is not None and activity.organization_id is not None:
        plan = activity.plan_item.plan
        if plan.organization_id != activity.organization_id:
            add("plan_item", _("This plan item belongs to another organisation's plan."))
        elif isinstance(starts_at, datetime.datetime) and (
            timezone.localtime(starts_at).year != plan.year
        ):
            add("plan_item", _("This plan item is for %(year)d.") % {"year": plan.year})
    if errors:
        raise ValidationError(errors)


def activity_check(
    *, actor, activity: Activity, now: datetime.datetime | None = None, changed=None
) -> None:
    """Validate an activity as the services would (forms call this to show errors in place).

    ``changed``: the fields a change touches (None: a new activity)."""
    check_reach = changed is None or bool({"team", "organization"} & set(changed))
    _check_activity(actor, activity, now=now or timezone.now(), check_reach=check_reach)


def _apply(activity: Activity, fields: dict) -> None:
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    for name, value in fields.items():
        if isinstance(value, str) and name not in ("starts_at", "ends_at"):
            value = value.strip()
        setattr(activity, name, value)


@transaction.atomic
def activity_create(*, actor, now: datetime.datetime | None = None, **fields) -> Activity:
    """A draft activity of a team (its organisation organises) or of an organisation."""
    now = now or timezone.now()
    activity = Activity(created_by=actor, status=ActivityStatus.DRAFT)
    fields.setdefault("risks", "")
    _apply(activity, fields)
    _check_activity(actor, activity, now=now)
    activity.save()
    audit_log(
        actor=actor,
        action="activity.create",
        target=activity,
        details={"team_id": activity.team_id, "organization_id": activity.organization_id},
    )
    return activity


@transaction.atomic
def activity_update(*, actor, activity: Activity, now: datetime.datetime | None = None, **fields):
    now = now or timezone.now()
    _require_manages_activity(actor, activity)
    activity = _lock_activity(activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("A cancelled activity cannot be changed."))
    old_capacity = activity.capacity
    _apply(activity, fields)
    _check_activity(
        actor, activity, now=now, check_reach=bool({"team", "organization"} & set(fields))
    )
    confirmed = _confirmed_count(activity)
    if activity.capacity < confirmed:
        raise _errors(
            capacity=_("%(count)d volunteers are already confirmed: there cannot be fewer places.")
            % {"count": confirmed}
        )
    activity.save()
    if activity.capacity > old_capacity:
        _promote_waitlist(activity)
    audit_log(
        actor=actor,
        action="activity.update",
        target=activity,
        details={"fields": sorted(fields)},
    )
    return activity


@transaction.atomic
def activity_publish(*, actor, activity: Activity, now: datetime.datetime | None = None):
    now = now or timezone.now()
    _require_manages_activity(actor, activity)
    activity = _lock_activity(activity)
    if activity.status != ActivityStatus.DRAFT:
        raise ValidationError(_("Only drafts can be published."))
    if activity.ends_at <= now:
        raise ValidationError(_("This activity is already over: it cannot be published."))
    activity.status = ActivityStatus.PUBLISHED
    activity.save(update_fields=["status"])
    audit_log(actor=actor, action="activity.publish", target=activity)
    return activity


@transaction.atomic
def activity_cancel(
    *, actor, activity: Activity, reason: str, now: datetime.datetime | None = None
) -> Activity:
    """Cancel with a reason; every open sign-up is cancelled with it."""
    now = now or timezone.now()
    _require_manages_activity(actor, activity)
    reason = (reason or "").strip()
    if not reason:
        raise _errors(reason=_("Give a reason for cancelling."))
    activity = _lock_activity(activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("This activity is already cancelled."))
    if activity.signups.exclude(checked_in_at=None).exists():
        raise ValidationError(
            _("Volunteers have already checked in: this activity can no longer be cancelled.")
        )
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason
    activity.save(update_fields=["status", "cancel_reason"])
    cancelled = activity.signups.open().update(status=SignupStatus.CANCELLED, cancelled_at=now)
    audit_log(
        actor=actor,
        action="activity.cancel",
        target=activity,
        details={"reason": reason, "signups_cancelled": cancelled},
    )
    return activity


def _shift_weeks(value: datetime.datetime, weeks: int) -> datetime.datetime:
    """The same local wall-clock time ``weeks`` later (safe across any offset change)."""
    local = timezone.localtime(value, SHANGHAI).replace(tzinfo=None)
    return timezone.make_aware(local + datetime.timedelta(weeks=weeks), SHANGHAI)


@transaction.atomic
def activity_repeat_weekly(*, actor, activity: Activity, until: datetime.date) -> list[Activity]:
    """Copies one week apart up to ``until`` (inclusive), at most 52; already made ones are
    skipped, so repeating twice makes each date once."""
    _require_manages_activity(actor, activity)
    activity = _lock_activity(activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("A cancelled activity cannot be repeated."))
    if not isinstance(until, datetime.date) or isinstance(until, datetime.datetime):
        raise _errors(until=_("Give the last date of the repeat."))
    first_day = timezone.localtime(activity.starts_at, SHANGHAI).date()
    weeks = (until - first_day).days // 7
    if weeks < 1:
        raise _errors(until=_("The repeat must end at least one week after the activity."))
    if weeks > MAX_WEEKLY_REPEATS:
        raise _errors(
            until=_("At most %(count)d weekly repeats can be made at once.")
            % {"count": MAX_WEEKLY_REPEATS}
        )
    root = activity.series or activity
    existing = set(
        Activity.objects.filter(Q(series=root) | Q(pk=root.pk)).values_list("starts_at", flat=True)
    )
    copies = []
    for week in range(1, weeks + 1):
        starts_at = _shift_weeks(activity.starts_at, week)
        if starts_at in existing:
            continue
        copy = Activity(
            **{
                name: getattr(activity, name)
                for name in ACTIVITY_FIELDS
                if name not in ("starts_at", "ends_at", "plan_item")
            },
            plan_item=activity.plan_item
            if activity.plan_item_id
            and timezone.localtime(starts_at).year == activity.plan_item.plan.year
            else None,
            starts_at=starts_at,
            ends_at=_shift_weeks(activity.ends_at, week),
            status=activity.status,
            series=root,
            campaign=None,
            created_by=actor,
        )
        copies.append(copy)
    Activity.objects.bulk_create(copies)
    audit_log(
        actor=actor,
        action="activity.repeat_weekly",
        target=activity,
        details={"until": until.isoformat(), "copies": len(copies)},
    )
    return copies


# Sign-ups -----------------------------------------------------------------------------------


def _check_volunteer(volunteer, activity: Activity) -> None:
    profile = VolunteerProfile.objects.filter(user=volunteer).only("status").first()
    if profile is None:
        raise ValidationError(
            _("Register as a volunteer first: only registered volunteers can sign up.")
        )
    if profile.status != VolunteerStatus.ACTIVE:
        raise ValidationError(
            _(
                "Your volunteer registration is not active (%(status)s): only active "
                "volunteers can sign up."
            )
            % {"status": profile.get_status_display()}
        )
    if activity.training_required and not TrainingRecord.objects.filter(user=volunteer).exists():
        raise ValidationError(
            _("This activity needs training first, and you have no training record yet.")
        )
    clash = (
        Signup.objects.open()
        .filter(
            volunteer=volunteer,
            activity__starts_at__lt=activity.ends_at,
            activity__ends_at__gt=activity.starts_at,
        )
        .exclude(activity=activity)
        .exclude(activity__status=ActivityStatus.CANCELLED)
        .select_related("activity")
        .first()
    )
    if clash:
        raise ValidationError(
            _(
                "This overlaps your sign-up for “%(title)s” (%(start)s to %(end)s): one person "
                "cannot be booked into two overlapping shifts."
            )
            % {
                "title": clash.activity.title,
                "start": _local(clash.activity.starts_at),
                "end": _local(clash.activity.ends_at),
            }
        )


@transaction.atomic
def signup_create(*, volunteer, activity: Activity, now: datetime.datetime | None = None):
    """Sign up; when every place is taken the sign-up joins the waiting list."""
    now = now or timezone.now()
    _lock_user(volunteer)
    activity = _lock_activity(activity)
    if activity.status != ActivityStatus.PUBLISHED:
        raise ValidationError(_("This activity is not open for sign-up."))
    if activity.ends_at <= now:
        raise ValidationError(_("This activity has ended."))
    if Signup.objects.open().filter(activity=activity, volunteer=volunteer).exists():
        raise ValidationError(_("You have already signed up for this activity."))
    _check_volunteer(volunteer, activity)
    full = _confirmed_count(activity) >= activity.capacity
    signup = Signup.objects.create(
        activity=activity,
        volunteer=volunteer,
        status=SignupStatus.WAITLISTED if full else SignupStatus.CONFIRMED,
        created_at=now,
    )
    audit_log(
        actor=volunteer,
        action="signup.create",
        target=signup,
        details={"activity_id": activity.pk, "status": signup.status},
    )
    return signup


def _promote_waitlist(activity: Activity) -> list[Signup]:
    """Move the longest-waiting sign-ups up while places are free (activity row locked)."""
    free = activity.capacity - _confirmed_count(activity)
    if free <= 0:
        return []
    promoted = list(
        activity.signups.filter(status=SignupStatus.WAITLISTED).order_by("created_at", "pk")[:free]
    )
    for signup in promoted:
        signup.status = SignupStatus.CONFIRMED
        signup.save(update_fields=["status"])
        audit_log(actor=None, action="signup.promote", target=signup)
    return promoted


@transaction.atomic
def signup_cancel(*, actor, signup: Signup, now: datetime.datetime | None = None) -> Signup:
    """The volunteer or an organiser cancels; the first on the waiting list moves up."""
    now = now or timezone.now()
    if (
        signup.volunteer_id != actor.pk
        and not Signup.objects.manageable_by(actor).filter(pk=signup.pk).exists()
    ):
        raise PermissionDenied(_("Only the volunteer or the organisers may cancel this."))
    activity = _lock_activity(signup.activity)
    signup = Signup.objects.select_for_update().get(pk=signup.pk)
    if signup.status == SignupStatus.CANCELLED:
        raise ValidationError(_("This sign-up is already cancelled."))
    if signup.checked_in_at is not None or signup.attendance != Attendance.UNKNOWN:
        raise ValidationError(
            _("Attendance has been recorded for this sign-up: it can no longer be cancelled.")
        )
    if activity.ends_at <= now:
        raise ValidationError(_("This activity has ended."))
    was_confirmed = signup.status == SignupStatus.CONFIRMED
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    signup.save(update_fields=["status", "cancelled_at"])
    audit_log(actor=actor, action="signup.cancel", target=signup)
    if was_confirmed:
        _promote_waitlist(activity)
    return signup


# Attendance ---------------------------------------------------------------------------------


def _activity_from_token(token: str, direction: str, *, now, expected=None) -> Activity:
    activity_id, token_direction = checkin.read_token(token, now=now)
    if expected is not None and expected.pk != activity_id:
        raise ValidationError(checkin.OTHER_ACTIVITY_MESSAGE)
    if token_direction != direction:
        if direction == checkin.CHECK_IN:
            raise ValidationError(_("This is the check-out code: scan the check-in code first."))
        raise ValidationError(_("This is the check-in code: scan the check-out code to leave."))
    return Activity.objects.select_for_update().get(pk=activity_id)


def _complete(signup: Signup, actor) -> None:
    """Tell the service records app; its ValidationError refuses the whole transaction."""
    attendance_completed.send(sender=Signup, signup=signup, actor=actor)


@transaction.atomic
def signup_check_in(
    *, volunteer, token: str, now: datetime.datetime | None = None, activity=None
) -> Signup:
    """Check in by the QR code; a walk-in gets a confirmed sign-up while places are left.

    ``activity``: the activity the page expects; a code of another one is refused.
    """
    now = now or timezone.now()
    _lock_user(volunteer)
    activity = _activity_from_token(token, checkin.CHECK_IN, now=now, expected=activity)
    signup = (
        Signup.objects.open()
        .select_for_update()
        .filter(activity=activity, volunteer=volunteer)
        .first()
    )
    if signup is None:
        _check_volunteer(volunteer, activity)
        if _confirmed_count(activity) >= activity.capacity:
            raise ValidationError(
                _("This activity is full and you have not signed up: please ask the leader.")
            )
        signup = Signup.objects.create(
            activity=activity, volunteer=volunteer, status=SignupStatus.CONFIRMED, created_at=now
        )
    if signup.status == SignupStatus.WAITLISTED:
        raise ValidationError(
            _("You are on the waiting list: only confirmed volunteers can check in.")
        )
    if signup.checked_in_at is not None:
        raise ValidationError(_("You have already checked in."))
    signup.checked_in_at = now
    signup.check_in_method = AttendanceMethod.QR
    signup.attendance = Attendance.CHECKED_IN
    signup.save(update_fields=["checked_in_at", "check_in_method", "attendance"])
    audit_log(actor=volunteer, action="signup.check_in", target=signup)
    return signup


@transaction.atomic
def signup_check_out(
    *, volunteer, token: str, now: datetime.datetime | None = None, activity=None
) -> Signup:
    """Check out by the QR code: attendance complete, the service record follows."""
    now = now or timezone.now()
    _lock_user(volunteer)
    activity = _activity_from_token(token, checkin.CHECK_OUT, now=now, expected=activity)
    signup = (
        Signup.objects.open()
        .select_for_update()
        .filter(activity=activity, volunteer=volunteer)
        .first()
    )
    if signup is None or signup.checked_in_at is None:
        raise ValidationError(_("You have not checked in yet."))
    if signup.checked_out_at is not None:
        raise ValidationError(_("You have already checked out."))
    if now <= signup.checked_in_at:
        raise ValidationError(_("Check-out must come after check-in."))
    signup.checked_out_at = now
    signup.check_out_method = AttendanceMethod.QR
    signup.attendance = Attendance.ATTENDED
    signup.save(update_fields=["checked_out_at", "check_out_method", "attendance"])
    audit_log(actor=volunteer, action="signup.check_out", target=signup)
    _complete(signup, volunteer)
    return signup


def _require_manages_signup(actor, signup: Signup) -> None:
    if not Signup.objects.manageable_by(actor).filter(pk=signup.pk).exists():
        raise PermissionDenied(_("You do not organise this activity."))


@transaction.atomic
def attendance_mark(
    *,
    actor,
    signup: Signup,
    checked_in_at: datetime.datetime,
    checked_out_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> Signup:
    """The leader records attendance for someone without a phone (or corrects a missing scan)."""
    now = now or timezone.now()
    _require_manages_signup(actor, signup)
    activity = _lock_activity(signup.activity)
    signup = Signup.objects.select_for_update().get(pk=signup.pk)
    if signup.status == SignupStatus.CANCELLED:
        raise ValidationError(_("This sign-up was cancelled."))
    if signup.checked_out_at is not None:
        raise ValidationError(_("Attendance is already complete for this sign-up."))
    for field, value in (("checked_in_at", checked_in_at), ("checked_out_at", checked_out_at)):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            raise _errors(**{field: _("Give a date and time.")})
    if checked_out_at <= checked_in_at:
        raise _errors(checked_out_at=_("Check-out must come after check-in."))
    window = _window()
    if checked_in_at < activity.starts_at - window or checked_out_at > activity.ends_at + window:
        raise _errors(
            checked_in_at=_(
                "Attendance must lie within the activity, from %(start)s to %(end)s, give or "
                "take %(minutes)d minutes."
            )
            % {
                "start": _local(activity.starts_at),
                "end": _local(activity.ends_at),
                "minutes": settings.CHECKIN_WINDOW_MINUTES,
            }
        )
    if checked_out_at > now:
        raise _errors(checked_out_at=_("Attendance cannot be marked in advance."))
    if signup.status == SignupStatus.WAITLISTED:
        # They came anyway, and the leader let them serve.
        signup.status = SignupStatus.CONFIRMED
    signup.checked_in_at = checked_in_at
    signup.checked_out_at = checked_out_at
    signup.check_in_method = AttendanceMethod.LEADER
    signup.check_out_method = AttendanceMethod.LEADER
    signup.attendance = Attendance.ATTENDED
    signup.marked_by = actor
    signup.save()
    audit_log(
        actor=actor,
        action="signup.mark_attendance",
        target=signup,
        details={"in": checked_in_at.isoformat(), "out": checked_out_at.isoformat()},
    )
    _complete(signup, actor)
    return signup


@transaction.atomic
def signup_mark_no_show(*, actor, signup: Signup, now: datetime.datetime | None = None) -> Signup:
    now = now or timezone.now()
    _require_manages_signup(actor, signup)
    activity = _lock_activity(signup.activity)
    signup = Signup.objects.select_for_update().get(pk=signup.pk)
    if signup.status != SignupStatus.CONFIRMED:
        raise ValidationError(_("Only confirmed sign-ups can be marked as absent."))
    if signup.checked_in_at is not None:
        raise ValidationError(_("This volunteer has checked in: they cannot be marked absent."))
    if activity.starts_at > now:
        raise ValidationError(_("The activity has not started yet."))
    if signup.attendance == Attendance.NO_SHOW:
        return signup
    signup.attendance = Attendance.NO_SHOW
    signup.marked_by = actor
    signup.save(update_fields=["attendance", "marked_by"])
    audit_log(actor=actor, action="signup.no_show", target=signup)
    return signup


@transaction.atomic
def activity_close_attendance(*, activity: Activity, now: datetime.datetime | None = None) -> int:
    """After the end: check out whoever is still checked in (at the end time), mark confirmed
    sign-ups that never came as no-shows, and stamp ``closed_at``. Returns how many were
    checked out. A second run changes nothing."""
    now = now or timezone.now()
    activity = _lock_activity(activity)
    if activity.closed_at is not None or activity.ends_at > now:
        return 0
    checked_out = 0
    still_in = activity.signups.filter(
        status=SignupStatus.CONFIRMED, checked_in_at__isnull=False, checked_out_at__isnull=True
    ).select_related("volunteer", "activity")
    for signup in still_in:
        signup.checked_out_at = max(activity.ends_at, signup.checked_in_at)
        signup.check_out_method = AttendanceMethod.AUTOMATIC
        signup.attendance = Attendance.ATTENDED
        signup.save(update_fields=["checked_out_at", "check_out_method", "attendance"])
        checked_out += 1
        try:
            with transaction.atomic():
                _complete(signup, None)
        except ValidationError as error:
            # The record's rules refused (an overlapping record, say): attendance stands, the
            # volunteer or leader records the service by hand.
            logger.warning(
                "No service record for sign-up %s at the automatic check-out: %s",
                signup.pk,
                "; ".join(error.messages),
            )
    no_shows = activity.signups.filter(
        status=SignupStatus.CONFIRMED, checked_in_at__isnull=True, attendance=Attendance.UNKNOWN
    ).update(attendance=Attendance.NO_SHOW)
    activity.closed_at = now
    activity.save(update_fields=["closed_at"])
    audit_log(
        actor=None,
        action="activity.close_attendance",
        target=activity,
        details={"checked_out": checked_out, "no_shows": no_shows},
    )
    return checked_out


# Campaign days -------------------------------------------------------------------------------


def _check_campaign(actor, campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    for field, message in (
        ("name", _("Give the campaign day a name.")),
        ("title", _("Give the activities a title.")),
    ):
        value = (getattr(campaign, field) or "").strip()
        setattr(campaign, field, value)
        if not value:
            errors[field] = [message]
    if campaign.organization_id is None or not _manages_organization(actor, campaign.organization):
        errors["organization"] = [_("Choose an organisation you manage.")]
    if campaign.category_id is None:
        errors["category"] = [_("Choose a service category.")]
    if not isinstance(campaign.date, datetime.date):
        errors["date"] = [_("Give the date.")]
    if (
        isinstance(campaign.start_time, datetime.time)
        and isinstance(campaign.end_time, datetime.time)
        and campaign.end_time <= campaign.start_time
    ):
        errors["end_time"] = [_("The end time must be after the start time.")]
    capacity = campaign.capacity
    if not isinstance(capacity, int) or capacity < 1:
        errors["capacity"] = [_("There must be at least one place.")]
    if errors:
        raise ValidationError(errors)


def campaign_check(*, actor, campaign: Campaign) -> None:
    """Validate a campaign day as the services would (forms call this)."""
    _check_campaign(actor, campaign)


@transaction.atomic
def campaign_create(*, actor, **fields) -> Campaign:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    campaign = Campaign(created_by=actor, **fields)
    _check_campaign(actor, campaign)
    campaign.save()
    audit_log(actor=actor, action="campaign.create", target=campaign)
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, **fields) -> Campaign:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    if not Campaign.objects.manageable_by(actor).filter(pk=campaign.pk).exists():
        raise PermissionDenied
    for name, value in fields.items():
        setattr(campaign, name, value)
    _check_campaign(actor, campaign)
    campaign.save()
    audit_log(actor=actor, action="campaign.update", target=campaign, details=sorted(fields))
    return campaign


def _team_place(team: Team) -> tuple:
    pairing = (
        TeamPairing.objects.filter(team=team, ended_on__isnull=True)
        .select_related("community")
        .order_by("pk")
        .first()
    )
    community = pairing.community if pairing else None
    return community, (community.address or community.name) if community else team.name


@transaction.atomic
def campaign_create_activities(
    *,
    actor,
    campaign: Campaign,
    teams,
    publish: bool = True,
    now: datetime.datetime | None = None,
) -> list[Activity]:
    """One activity per team on the campaign's date, from its template: all or none."""
    now = now or timezone.now()
    if not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise PermissionDenied
    teams = list(teams)
    if not teams:
        raise _errors(teams=_("Choose at least one team."))
    managed = set(
        Team.objects.manageable_by(actor)
        .filter(pk__in=[t.pk for t in teams])
        .values_list("pk", flat=True)
    )
    outside = [t.name for t in teams if t.pk not in managed]
    if outside:
        raise _errors(
            teams=_("You do not manage these teams: %(names)s.") % {"names": "、".join(outside)}
        )
    inactive = [t.name for t in teams if not t.is_active]
    if inactive:
        raise _errors(
            teams=_("These teams are no longer active: %(names)s.") % {"names": "、".join(inactive)}
        )
    already = list(
        campaign.activities.exclude(status=ActivityStatus.CANCELLED)
        .filter(team__in=teams)
        .values_list("team__name", flat=True)
    )
    if already:
        raise _errors(
            teams=_("These teams already have an activity on this campaign day: %(names)s.")
            % {"names": "、".join(already)}
        )
    starts_at = datetime.datetime.combine(campaign.date, campaign.start_time, tzinfo=SHANGHAI)
    ends_at = datetime.datetime.combine(campaign.date, campaign.end_time, tzinfo=SHANGHAI)
    if ends_at <= now:
        raise ValidationError(_("This campaign day is over."))
    created = []
    for team in teams:
        community, place = _team_place(team)
        activity = Activity(
            title=campaign.title,
            category=campaign.category,
            organization=team.organization,
            team=team,
            community=community,
            starts_at=starts_at,
            ends_at=ends_at,
            place=campaign.place or place,
            capacity=campaign.capacity,
            description=campaign.description or campaign.name,
            risks=campaign.risks,
            status=ActivityStatus.PUBLISHED if publish else ActivityStatus.DRAFT,
            campaign=campaign,
            created_by=actor,
        )
        _check_activity(actor, activity, now=now)
        activity.save()
        created.append(activity)
    audit_log(
        actor=actor,
        action="campaign.create_activities",
        target=campaign,
        details={"teams": [t.pk for t in teams], "activities": [a.pk for a in created]},
    )
    return created


# Yearly plans ---------------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, actor, organization: PartyOrganization, year: int, note: str = ""):
    if not _manages_organization(actor, organization):
        raise _errors(organization=_("Choose an organisation you manage."))
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise _errors(year=_("Give a year between 2000 and 2100."))
    if ActivityPlan.objects.filter(organization=organization, year=year).exists():
        raise _errors(year=_("This organisation already has a plan for this year."))
    plan = ActivityPlan.objects.create(
        organization=organization, year=year, note=(note or "").strip()
    )
    audit_log(actor=actor, action="activity_plan.create", target=plan)
    return plan


@transaction.atomic
def plan_update(*, actor, plan: ActivityPlan, note: str) -> ActivityPlan:
    if not ActivityPlan.objects.manageable_by(actor).filter(pk=plan.pk).exists():
        raise PermissionDenied
    plan.note = (note or "").strip()
    plan.save(update_fields=["note"])
    audit_log(actor=actor, action="activity_plan.update", target=plan)
    return plan


@transaction.atomic
def plan_item_add(
    *,
    actor,
    plan: ActivityPlan,
    project: str,
    month: int,
    responsible: str,
    place: str = "",
    category=None,
    planned_count: int = 1,
) -> ActivityPlanItem:
    if not ActivityPlan.objects.manageable_by(actor).filter(pk=plan.pk).exists():
        raise PermissionDenied
    errors = {}
    project = (project or "").strip()
    responsible = (responsible or "").strip()
    if not project:
        errors["project"] = [_("Name the project.")]
    if not responsible:
        errors["responsible"] = [_("Name the person responsible.")]
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        errors["month"] = [_("The month must be between 1 and 12.")]
    if not isinstance(planned_count, int) or planned_count < 1:
        errors["planned_count"] = [_("Plan at least one time.")]
    if errors:
        raise ValidationError(errors)
    item = ActivityPlanItem.objects.create(
        plan=plan,
        project=project,
        month=month,
        responsible=responsible,
        place=(place or "").strip(),
        category=category,
        planned_count=planned_count,
    )
    audit_log(
        actor=actor,
        action="activity_plan.item_add",
        target=plan,
        details={"item_id": item.pk, "project": project, "month": month},
    )
    return item
