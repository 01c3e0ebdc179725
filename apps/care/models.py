"""The people served: households in difficulty, their volunteers, residents' requests.

Everything personal about a care recipient is stored encrypted (``EncryptedTextField``): a
database dump shows only Fernet tokens. Who may see which field whole is decided in
``selectors.sensitive_fields_for``; every whole view is written to the audit log.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory
from apps.communities.models import Community, any_of, community_q
from apps.core.fields import EncryptedTextField
from apps.core.scoping import ScopedQuerySet, get_user_scope
from apps.organizations.models import Membership, paths_q
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus


class CareCategory(models.Model):
    """A kind of difficulty (高龄, 空巢, 独居 …), maintained by city staff."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("care category")
        verbose_name_plural = _("care categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


def paired_with_q(user, field: str = "pk") -> Q:
    """Rows whose recipient (at ``field``) the user is actively paired with."""
    paired = RecipientPairing.objects.active().filter(volunteer=user).values("recipient_id")
    return Q(**{f"{field}__in": paired})


def paired_members_branch_q(user, field: str = "pk") -> Q:
    """Recipients paired with a volunteer whose party branch lies in the user's subtree."""
    scope = get_user_scope(user)
    if not scope.view_paths:
        return Q(pk__in=[])
    members = Membership.objects.active().filter(paths_q("organization__path", scope.view_paths))
    paired = RecipientPairing.objects.active().filter(volunteer__in=members.values("user_id"))
    return Q(**{f"{field}__in": paired.values("recipient_id")})


class CareRecipientQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        # any_of: the city's empty Q (every row) must not vanish when OR-ed with the others.
        return self.filter(
            any_of(
                community_q(user, manage=False, field="community"),
                paired_with_q(user),
                paired_members_branch_q(user),
            )
        )

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="community"))

    def active(self):
        return self.filter(is_active=True)


class CareRecipient(models.Model):
    """A household in difficulty (困难群众), known on four counts (四清)."""

    name = EncryptedTextField(_("name"))
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="care_recipients",
    )
    categories = models.ManyToManyField(CareCategory, verbose_name=_("categories"), blank=True)
    family_situation = EncryptedTextField(_("family situation"), blank=True)
    family_verified_on = models.DateField(_("family situation verified on"), null=True, blank=True)
    health = EncryptedTextField(_("health"), blank=True)
    health_verified_on = models.DateField(_("health verified on"), null=True, blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    address_verified_on = models.DateField(_("address verified on"), null=True, blank=True)
    contact = EncryptedTextField(_("contact"), blank=True)
    contact_verified_on = models.DateField(_("contact verified on"), null=True, blank=True)
    correction_status = EncryptedTextField(
        _("community correction"),
        blank=True,
        help_text=_("Only community and city staff see this. Leave empty if not applicable."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = CareRecipientQuerySet.as_manager()

    #: The four facts (四清) and the field recording when each was last verified.
    FOUR_FACTS = (
        ("family_situation", "family_verified_on"),
        ("health", "health_verified_on"),
        ("address", "address_verified_on"),
        ("contact", "contact_verified_on"),
    )
    SENSITIVE_FIELDS = (
        "name",
        "family_situation",
        "health",
        "address",
        "contact",
        "correction_status",
    )

    class Meta:
        verbose_name = _("care recipient")
        verbose_name_plural = _("care recipients")
        ordering = ["community", "pk"]
        indexes = [
            models.Index(fields=["community", "is_active"]),
        ]

    def __str__(self):
        # Masked: this string reaches change lists, audit entries and log lines.
        # (core.crypto.mask keeps the whole value when keep_end=0: value[-0:] is all of it.)
        if not self.name:
            return str(self.pk)
        return self.name[0] + "*" * max(len(self.name) - 1, 1)

    @property
    def completeness(self) -> int:
        """How many of the four facts are known and verified (0–4)."""
        return sum(
            1
            for fact, verified in self.FOUR_FACTS
            if getattr(self, fact) and getattr(self, verified)
        )


class PairingQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(ended_on__isnull=True)

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(recipient__in=CareRecipient.objects.visible_to(user).values("pk")) | Q(volunteer=user)
        )

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="recipient__community"))


class RecipientPairing(models.Model):
    """A volunteer paired with a household (结对帮扶). One active pairing per volunteer."""

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="recipient_pairings",
    )
    recipient = models.ForeignKey(
        CareRecipient,
        verbose_name=_("care recipient"),
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=255, blank=True)
    visit_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("household pairing")
        verbose_name_plural = _("household pairings")
        ordering = ["-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=Q(ended_on__isnull=True),
                name="recipient_pairing_one_active_per_volunteer",
                violation_error_message=_(
                    "This volunteer is already paired with a household. End that pairing first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="recipient_pairing_ends_after_start",
                violation_error_message=_("A pairing cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.volunteer} ↔ {self.recipient}"


class VisitKind(models.TextChoices):
    VISIT = "visit", _("Home visit")
    CALL = "call", _("Phone call")
    ERRAND = "errand", _("Errand")


class VisitQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(pairing__in=RecipientPairing.objects.visible_to(user).values("pk"))

    def manageable_by(self, user):
        return self.filter(pairing__in=RecipientPairing.objects.manageable_by(user).values("pk"))


class Visit(models.Model):
    """A visit, call or errand for the paired household."""

    pairing = models.ForeignKey(
        RecipientPairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="visits"
    )
    visited_on = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=VisitKind.choices, default=VisitKind.VISIT
    )
    notes = EncryptedTextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-pk"]

    def __str__(self):
        return f"{self.visited_on} · {self.get_kind_display()}"


class RequestChannel(models.TextChoices):
    STATION = "station", _("Service station")
    HOTLINE = "hotline", _("Hotline")
    WEB = "web", _("Web")
    QR = "qr", _("QR code")
    ON_BEHALF = "on_behalf", _("On behalf of a care recipient")


class RequestKind(models.TextChoices):
    NEED = "need", _("Need")
    MICRO_WISH = "micro_wish", _("Micro-wish")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    DISPATCHED = "dispatched", _("Dispatched to a team")
    OPEN = "open", _("Open for volunteers")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: Requests that still wait for someone to act: they can be overdue.
OPEN_STATUSES = (
    RequestStatus.SUBMITTED,
    RequestStatus.ACCEPTED,
    RequestStatus.DISPATCHED,
    RequestStatus.OPEN,
    RequestStatus.IN_PROGRESS,
)


class RequestDeadline(models.Model):
    """How many days a request of one service category may take, set by city staff."""

    service_category = models.OneToOneField(
        ServiceCategory, verbose_name=_("service category"), on_delete=models.CASCADE
    )
    days = models.PositiveSmallIntegerField(
        _("days to complete"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )

    class Meta:
        verbose_name = _("request deadline")
        verbose_name_plural = _("request deadlines")
        ordering = ["service_category"]

    def __str__(self):
        return f"{self.service_category} · {self.days}"


def _team_q(user) -> Q:
    teams = TeamMembership.objects.filter(user=user, status=TeamMembershipStatus.ACTIVE)
    return Q(dispatched_team__in=teams.values("team_id"))


class ServiceRequestQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        # any_of: the city's empty Q (every row) must not vanish when OR-ed with the others.
        return self.filter(
            any_of(
                community_q(user, manage=False, field="community"),
                _team_q(user),
                Q(assigned_volunteer=user),
                Q(status=RequestStatus.OPEN),
            )
        )

    def manageable_by(self, user):
        """Reviewing and dispatching is the community's work (and the organisations above)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="community"))

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return self.filter(status__in=OPEN_STATUSES, deadline__lt=today)


class ServiceRequest(models.Model):
    """A resident's request or micro-wish (群众需求 / 微心愿): 点单→审单→派单→接单→评单."""

    tracking_number = models.CharField(
        _("tracking number"), max_length=20, unique=True, editable=False
    )
    channel = models.CharField(_("channel"), max_length=16, choices=RequestChannel.choices)
    kind = models.CharField(
        _("kind"), max_length=16, choices=RequestKind.choices, default=RequestKind.NEED
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    care_recipient = models.ForeignKey(
        CareRecipient,
        verbose_name=_("care recipient"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    service_category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("service category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    title = models.CharField(_("what is needed"), max_length=128)
    description = models.TextField(_("details"), blank=True)
    requester_name = EncryptedTextField(_("requester's name"), blank=True)
    requester_phone = EncryptedTextField(_("requester's phone"), blank=True)
    requester_phone_hash = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False
    )
    requester_address = EncryptedTextField(_("requester's address"), blank=True)
    called_at = models.DateTimeField(_("call received at"), null=True, blank=True)
    submitted_ip_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    decline_reason = models.CharField(_("reason for declining"), max_length=255, blank=True)
    dispatched_team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    assigned_volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_requests",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completion_note = models.TextField(_("what was done"), blank=True)
    show_on_wall = models.BooleanField(
        _("show on the public wall"),
        default=True,
        help_text=_("Micro-wishes appear anonymised on the public wall while they are open."),
    )
    rating_token = models.CharField(max_length=43, unique=True, editable=False)
    rating_stars = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["community", "status"]),
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["requester_phone_hash", "created_at"]),
            models.Index(fields=["submitted_ip_hash", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating_stars__isnull=True)
                | Q(rating_stars__gte=1, rating_stars__lte=5),
                name="service_request_rating_1_to_5",
            )
        ]

    def __str__(self):
        return f"{self.tracking_number} · {self.title}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in OPEN_STATUSES
            and self.deadline is not None
            and self.deadline < timezone.localdate()
        )


class RequestEvidence(models.Model):
    """A photo showing a request was done."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="evidence"
    )
    photo = models.ImageField(_("photo"), upload_to="care/evidence/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence photo")
        verbose_name_plural = _("evidence photos")
        ordering = ["uploaded_at"]

    def __str__(self):
        return f"{self.request.tracking_number} · {self.pk}"


class RequestEvent(models.Model):
    """One step in a request's life, shown on its tracking page (who did what, when)."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.request.tracking_number} · {self.get_status_display()}"
