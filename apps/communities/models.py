import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory
from apps.core.fields import EncryptedTextField
from apps.core.scoping import ScopedQuerySet, get_user_scope
from apps.organizations.models import Membership, PartyOrganization, paths_q
from apps.teams.models import Team


def any_of(*conditions: Q) -> Q:
    """OR of ``conditions``; an empty ``Q`` (every row) wins instead of vanishing from the OR."""
    combined = Q(pk__in=[])
    for condition in conditions:
        if not condition:
            return Q()
        combined |= condition
    return combined


def community_q(user, *, manage: bool, field: str = "") -> Q:
    """``Q`` on communities (``field`` = path to the community) that ``user`` reaches.

    The city's administrators reach all; a secretary reaches the communities whose party
    organisation lies in their subtree; community staff reach their own community.
    """
    prefix = f"{field}__" if field else ""
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return Q()
    paths = scope.manage_paths if manage else scope.view_paths
    staffed = CommunityStaff.objects.active().filter(user=user).values("community_id")
    return paths_q(f"{prefix}organization__path", paths) | Q(
        **{f"{prefix}pk__in" if not field else f"{field}__in": staffed}
    )


class CommunityKind(models.TextChoices):
    COMMUNITY = "community", _("Urban community")
    VILLAGE = "village", _("Village")


class CommunityQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=False))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True))

    def directory(self):
        """Active communities anyone signed in may choose (registration, residence reports)."""
        return self.filter(is_active=True)

    def editable_by(self, user):
        """The community's own record is kept by the party organisations above it, not its staff."""
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.manage_paths))


class Community(models.Model):
    """A community (社区) or village (村)."""

    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(
        _("kind"), max_length=16, choices=CommunityKind.choices, default=CommunityKind.COMMUNITY
    )
    district = models.CharField(_("district"), max_length=64)
    street = models.CharField(_("street or town"), max_length=64)
    address = models.CharField(_("address"), max_length=255, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("party organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="communities",
        help_text=_("The community's own party organisation; its secretaries see the community."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["district", "street", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "street", "name"],
                name="community_unique_name_per_street",
                violation_error_message=_("This street already has a community with this name."),
            )
        ]

    def __str__(self):
        return self.name


class CommunityStaffQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(ended_on__isnull=True)

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(any_of(community_q(user, manage=False, field="community"), Q(user=user)))

    def manageable_by(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        # Staff are appointed by the party organisation above the community, not by each other.
        return self.filter(paths_q("community__organization__path", scope.manage_paths))


class CommunityStaff(models.Model):
    """A person working for a community (社区工作者): confirms reports, publishes posts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="community_staff_roles",
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="staff"
    )
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("until"), null=True, blank=True)

    objects = CommunityStaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("community staff")
        verbose_name_plural = _("community staff")
        ordering = ["community", "user__real_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "community"],
                condition=Q(ended_on__isnull=True),
                name="community_staff_one_active",
                violation_error_message=_("This person already works for this community."),
            )
        ]

    def __str__(self):
        return f"{self.community} · {self.user}"


class ServicePointKind(models.TextChoices):
    STATION = "station", _("Service station")
    POINT = "point", _("Service point")


class VenueType(models.TextChoices):
    COMMUNITY = "community", _("Community premises")
    SHOP = "shop", _("Shop")
    CLINIC = "clinic", _("Clinic")
    MALL = "mall", _("Shopping mall")
    SCHOOL = "school", _("School")
    OTHER = "other", _("Other")


class CommunityChildQuerySet(ScopedQuerySet):
    """Rows that belong to one community and follow its scope."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=False, field="community"))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="community"))


class ServicePoint(models.Model):
    """A volunteer service station or point (志愿服务站点)."""

    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="service_points",
    )
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=ServicePointKind.choices)
    venue_type = models.CharField(
        _("venue"), max_length=16, choices=VenueType.choices, default=VenueType.COMMUNITY
    )
    address = models.CharField(_("address"), max_length=255)
    opening_hours = models.CharField(_("opening hours"), max_length=128, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    services = models.TextField(_("services offered"), blank=True)
    service_categories = models.ManyToManyField(
        ServiceCategory, verbose_name=_("service categories"), blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = CommunityChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        ordering = ["community", "kind", "name"]

    def __str__(self):
        return self.name


class TeamPairingQuerySet(ScopedQuerySet):
    def active(self, on: datetime.date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=on), started_on__lte=on)

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            any_of(
                community_q(user, manage=False, field="community"),
                Q(team__in=Team.objects.visible_to(user).values("pk")),
            )
        )

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        # Pairings are agreed by the team's owning organisation (or the city).
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("team__organization__path", scope.manage_paths))


class TeamPairing(models.Model):
    """A team paired with a community or village (队社结对)."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="pairings"
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="pairings"
    )
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    agreement_note = models.TextField(_("agreement"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = TeamPairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("team–community pairing")
        verbose_name_plural = _("team–community pairings")
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="pairing_ends_after_start",
                violation_error_message=_("A pairing cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["team", "community"],
                condition=Q(ended_on__isnull=True),
                name="pairing_one_open_per_team_and_community",
                violation_error_message=_("This team is already paired with this community."),
            ),
        ]

    def __str__(self):
        return f"{self.team} ↔ {self.community}"


class ResidenceReportStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    RETURNED = "returned", _("Returned")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ENDED = "ended", _("Ended (moved away)")


def _home_branch_q(user, *, manage: bool, field: str) -> Q:
    """Rows whose person's active party membership lies in the user's subtree (dual affiliation)."""
    scope = get_user_scope(user)
    paths = scope.manage_paths if manage else scope.view_paths
    members = (
        Membership.objects.active().filter(paths_q("organization__path", paths)).values("user_id")
    )
    return Q(**{f"{field}__in": members})


class ResidenceReportQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            any_of(
                community_q(user, manage=False, field="community"),
                _home_branch_q(user, manage=False, field="user"),
                Q(user=user),
            )
        )

    def manageable_by(self, user):
        """Confirming or returning a report is the community's decision."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="community"))


class ResidenceReport(models.Model):
    """An in-service party member reporting to the community where they live (在职党员社区报到)."""

    number = models.CharField(_("receipt number"), max_length=20, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="residence_reports",
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="residence_reports",
    )
    home_address = EncryptedTextField(
        _("home address"), help_text=_("Stored encrypted; seen by the community's staff.")
    )
    skills_offered = models.CharField(_("what I can offer"), max_length=255, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ResidenceReportStatus.choices,
        default=ResidenceReportStatus.PENDING,
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    return_reason = models.CharField(_("reason for returning"), max_length=255, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = ResidenceReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("residence report")
        verbose_name_plural = _("residence reports")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="residence_report_one_pending",
                violation_error_message=_(
                    "You already have a report awaiting confirmation. Withdraw it or wait for "
                    "the community's answer."
                ),
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="confirmed"),
                name="residence_report_one_confirmed",
                violation_error_message=_("This member is already reported to a community."),
            ),
        ]

    def __str__(self):
        return f"{self.number} · {self.user} → {self.community}"


class PostQuerySet(CommunityChildQuerySet):
    def published(self):
        return self.filter(is_published=True)

    def visible_to(self, user):
        """The community's scope, plus published posts of the community a member reported to."""
        if not user.is_authenticated:
            return self.none()
        reported = ResidenceReport.objects.filter(
            user=user, status=ResidenceReportStatus.CONFIRMED
        ).values("community_id")
        return self.filter(
            any_of(
                community_q(user, manage=False, field="community"),
                Q(is_published=True, community__in=reported),
            )
        )


class Post(models.Model):
    """A post (岗位) a community publishes for reported party members to claim."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="posts"
    )
    title = models.CharField(_("title"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    service_category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("service category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    slots = models.PositiveSmallIntegerField(_("places"), validators=[MinValueValidator(1)])
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["community", "-starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slots__gte=1),
                name="post_has_places",
                violation_error_message=_("A post needs at least one place."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="post_ends_after_start",
                violation_error_message=_("A post cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.title


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: Claims that take (or may take) a place on the post.
HOLDING_CLAIMS = (ClaimStatus.PENDING, ClaimStatus.APPROVED)


class PostClaimQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            any_of(
                community_q(user, manage=False, field="post__community"),
                _home_branch_q(user, manage=False, field="user"),
                Q(user=user),
            )
        )

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="post__community"))


class PostClaim(models.Model):
    """A member's claim on a post (认领岗位); the community approves it."""

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="claims"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="post_claims",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason"), max_length=255, blank=True)

    objects = PostClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("post claim")
        verbose_name_plural = _("post claims")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "user"],
                condition=Q(status__in=["pending", "approved"]),
                name="post_claim_one_open_per_person",
                violation_error_message=_("You have already claimed this post."),
            )
        ]

    def __str__(self):
        return f"{self.post} · {self.user}"


class PledgeStatus(models.TextChoices):
    MADE = "made", _("Made")
    KEPT_REPORTED = "kept_reported", _("Reported as kept")
    CONFIRMED = "confirmed", _("Confirmed as kept")
    NOT_KEPT = "not_kept", _("Not kept")


class PledgeQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            any_of(
                community_q(user, manage=False, field="community"),
                _home_branch_q(user, manage=False, field="user"),
                Q(user=user),
            )
        )

    def manageable_by(self, user):
        """Confirming a pledge kept is the community's decision."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(community_q(user, manage=True, field="community"))


class Pledge(models.Model):
    """A member's yearly pledge (承诺) to their residence community, and whether it was kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="pledges",
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="pledges"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    content = models.TextField(_("pledge"))
    target = models.CharField(
        _("target"), max_length=255, help_text=_("How keeping it is measured.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PledgeStatus.choices, default=PledgeStatus.MADE
    )
    evidence = models.TextField(_("evidence"), blank=True)
    reported_kept_at = models.DateTimeField(_("reported kept at"), null=True, blank=True)
    review_note = models.CharField(
        _("reviewer's note"),
        max_length=255,
        blank=True,
        help_text=_("Why the community found the pledge not kept."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)

    objects = PledgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["-year", "community"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "year"],
                name="pledge_one_per_member_and_year",
                violation_error_message=_("You have already made a pledge for this year."),
            )
        ]

    def __str__(self):
        return f"{self.year} · {self.user}"
