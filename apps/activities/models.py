"""Activities (志愿服务活动): what a team or organisation puts on, who signs up, who came.

An activity belongs to an organising party organisation and, usually, one of its teams. Its
sign-ups keep a waiting list; check-in and check-out by signed, short-lived QR codes (see
``checkin.py``) or by the leader's hand complete the attendance, which the service records app
turns into a record (``signals.attendance_completed``).
"""

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory
from apps.communities.models import Community, ServicePoint, any_of, community_q
from apps.core.scoping import ScopedQuerySet, get_user_scope
from apps.organizations.models import PartyOrganization, paths_q
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, leads_team_q


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignKind(models.TextChoices):
    LEI_FENG = "lei_feng", _("3·5 Learn from Lei Feng Day")
    PARTY_DAY = "party_day", _("7·1 Party founding day")
    VOLUNTEER_DAY = "volunteer_day", _("12·5 International Volunteer Day")
    FIRST_SATURDAY = "first_saturday", _("First Saturday of the month")
    OTHER = "other", _("Other")


def organizer_q(user, *, manage: bool, prefix: str = "") -> Q:
    """Activities (at ``prefix``) a user reaches as organiser: the organising organisation's
    subtree, the team's leaders (and, to see, its members) and the community's staff."""
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return Q()
    paths = scope.manage_paths if manage else scope.view_paths
    conditions = [
        paths_q(f"{prefix}organization__path", paths),
        leads_team_q(user, field=f"{prefix}team"),
        community_q(user, manage=manage, field=f"{prefix}community"),
    ]
    if not manage:
        member_of = TeamMembership.objects.filter(
            user=user, status=TeamMembershipStatus.ACTIVE
        ).values("team_id")
        conditions.append(Q(**{f"{prefix}team__in": member_of}))
    return any_of(*conditions)


class ActivityQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Seen by its organisers and by those who signed up (the directory is ``open_to``)."""
        if not user.is_authenticated:
            return self.none()
        signed_up = Signup.objects.filter(volunteer=user).values("activity_id")
        return self.filter(any_of(organizer_q(user, manage=False), Q(pk__in=signed_up)))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(organizer_q(user, manage=True))

    def published(self):
        return self.filter(status=ActivityStatus.PUBLISHED)

    def open_to(self, user):
        """What the portal lists: published activities anyone signed in may look at and join,
        plus those the user reaches anyway."""
        if not user.is_authenticated:
            return self.none()
        signed_up = Signup.objects.filter(volunteer=user).values("activity_id")
        return self.filter(
            any_of(
                Q(status=ActivityStatus.PUBLISHED),
                organizer_q(user, manage=False),
                Q(pk__in=signed_up),
            )
        )

    def upcoming(self, now=None):
        return self.filter(ends_at__gte=now or timezone.now())

    def in_year(self, year: int):
        return self.filter(starts_at__year=year)


class OrganizationOwnedQuerySet(ScopedQuerySet):
    """Rows owned by a party organisation: its subtree above sees and manages them."""

    def visible_to(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.view_paths))

    def manageable_by(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.manage_paths))


class Campaign(models.Model):
    """A campaign day (3·5, 7·1, 12·5, first Saturday …): a template that creates one activity
    for each chosen team at once."""

    kind = models.CharField(_("kind"), max_length=16, choices=CampaignKind.choices)
    name = models.CharField(_("name"), max_length=128)
    date = models.DateField(_("date"))
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("launched by"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    title = models.CharField(_("activity title"), max_length=128)
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("service category"), on_delete=models.PROTECT
    )
    start_time = models.TimeField(_("starts at"))
    end_time = models.TimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=255, blank=True)
    capacity = models.PositiveIntegerField(
        _("places per team"), default=20, validators=[MinValueValidator(1)]
    )
    description = models.TextField(_("description"), blank=True)
    risks = models.TextField(_("risks"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = OrganizationOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign day")
        verbose_name_plural = _("campaign days")
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="campaign_ends_after_start",
                violation_error_message=_("The end time must be after the start time."),
            )
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


class ActivityPlan(models.Model):
    """An organisation's yearly activity plan (年度活动计划)."""

    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="activity_plans",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = OrganizationOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("yearly activity plan")
        verbose_name_plural = _("yearly activity plans")
        ordering = ["-year", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"],
                name="activity_plan_one_per_organization_and_year",
                violation_error_message=_("This organisation already has a plan for this year."),
            )
        ]

    def __str__(self):
        return f"{self.organization} {self.year}"


class ActivityPlanItemQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(plan__in=ActivityPlan.objects.visible_to(user).values("pk"))

    def manageable_by(self, user):
        return self.filter(plan__in=ActivityPlan.objects.manageable_by(user).values("pk"))


class ActivityPlanItem(models.Model):
    """One line of a plan: project, time, place, person responsible."""

    plan = models.ForeignKey(
        ActivityPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="items"
    )
    project = models.CharField(_("project"), max_length=128)
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1)], help_text=_("1–12")
    )
    place = models.CharField(_("place"), max_length=255, blank=True)
    responsible = models.CharField(_("person responsible"), max_length=64)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("service category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    planned_count = models.PositiveSmallIntegerField(
        _("times planned"), default=1, validators=[MinValueValidator(1)]
    )

    objects = ActivityPlanItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        ordering = ["plan", "month", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12),
                name="activity_plan_item_month_1_12",
                violation_error_message=_("The month must be between 1 and 12."),
            )
        ]

    def __str__(self):
        return self.project


class Activity(models.Model):
    """A volunteer service activity (Art. 12: content and risks disclosed when recruiting)."""

    title = models.CharField(_("title"), max_length=128)
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("service category"), on_delete=models.PROTECT
    )
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organising unit"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    service_point = models.ForeignKey(
        ServicePoint,
        verbose_name=_("service point"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=255)
    capacity = models.PositiveIntegerField(_("places"), validators=[MinValueValidator(1)])
    description = models.TextField(_("description"))
    risks = models.TextField(
        _("risks"), blank=True, help_text=_("What volunteers should know before signing up.")
    )
    training_required = models.BooleanField(
        _("training required"),
        default=False,
        help_text=_("Only volunteers with a training record may sign up."),
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    series = models.ForeignKey(
        "self",
        verbose_name=_("first of the series"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
        help_text=_("Set on activities created by a weekly recurrence."),
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign day"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    plan_item = models.ForeignKey(
        ActivityPlanItem,
        verbose_name=_("plan item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    #: The secret in the evaluation link and QR code for residents (no account needed).
    evaluation_token = models.CharField(
        max_length=43, unique=True, default=_new_token, editable=False
    )
    #: Set when the automatic check-out at the end has run.
    closed_at = models.DateTimeField(_("attendance closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["ends_at", "closed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="activity_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            )
        ]

    def __str__(self):
        return f"{self.title} ({timezone.localtime(self.starts_at):%Y-%m-%d})"


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Attendance(models.TextChoices):
    UNKNOWN = "unknown", _("Not yet")
    CHECKED_IN = "checked_in", _("Checked in")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class AttendanceMethod(models.TextChoices):
    QR = "qr", _("QR code")
    LEADER = "leader", _("Marked by the leader")
    AUTOMATIC = "automatic", _("Automatically at the end")


#: Sign-ups that hold or wait for a place.
OPEN_SIGNUP_STATUSES = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class SignupQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            any_of(organizer_q(user, manage=False, prefix="activity__"), Q(volunteer=user))
        )

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(organizer_q(user, manage=True, prefix="activity__"))

    def open(self):
        return self.filter(status__in=OPEN_SIGNUP_STATUSES)


class Signup(models.Model):
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="signups"
    )
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="signups",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SignupStatus.choices, default=SignupStatus.CONFIRMED
    )
    attendance = models.CharField(
        _("attendance"), max_length=16, choices=Attendance.choices, default=Attendance.UNKNOWN
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_method = models.CharField(
        _("checked in by"), max_length=16, choices=AttendanceMethod.choices, blank=True
    )
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_out_method = models.CharField(
        _("checked out by"), max_length=16, choices=AttendanceMethod.choices, blank=True
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attendance marked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("signed up at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = SignupQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["activity", "created_at", "pk"]
        indexes = [models.Index(fields=["activity", "status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="signup_one_open_per_volunteer",
                violation_error_message=_("You have already signed up for this activity."),
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_in_at__isnull=False, checked_out_at__gte=F("checked_in_at")),
                name="signup_checks_out_after_in",
                violation_error_message=_("Check-out must come after check-in."),
            ),
        ]

    def __str__(self):
        return f"{self.volunteer} · {self.activity}"
