from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory
from apps.core.scoping import ScopedQuerySet, get_user_scope
from apps.organizations.models import PartyOrganization, paths_q


class TeamKind(models.TextChoices):
    GENERAL = "general", _("General")
    LEGAL = "legal", _("Legal aid")
    MEDICAL = "medical", _("Medical")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    PLANNING = "planning", _("Planning and building")
    EDUCATION = "education", _("Education and tutoring")
    EMERGENCY = "emergency", _("Emergency response")
    OTHER_PROFESSIONAL = "other_professional", _("Other professional")


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Team leader")
    DEPUTY = "deputy", _("Deputy leader")
    MEMBER = "member", _("Member")


class TeamMembershipStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")
    DECLINED = "declined", _("Declined")
    LEFT = "left", _("Left")


#: Memberships that hold a place in the team (or are about to): one per person and team.
OPEN_STATUSES = (
    TeamMembershipStatus.APPLIED,
    TeamMembershipStatus.INVITED,
    TeamMembershipStatus.ACTIVE,
)
LEADING_ROLES = (TeamRole.LEADER, TeamRole.DEPUTY)


def leads_team_q(user, field: str = "pk") -> Q:
    """``Q`` on rows whose team (at ``field``) ``user`` leads or deputises."""
    led = TeamMembership.objects.filter(
        user=user, status=TeamMembershipStatus.ACTIVE, role__in=LEADING_ROLES
    ).values("team_id")
    return Q(**{f"{field}__in": led})


class TeamQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        if not user.is_authenticated:
            return self.none()
        member_of = TeamMembership.objects.filter(
            user=user, status=TeamMembershipStatus.ACTIVE
        ).values("team_id")
        return self.filter(paths_q("organization__path", scope.view_paths) | Q(pk__in=member_of))

    def manageable_by(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(paths_q("organization__path", scope.manage_paths) | leads_team_q(user))

    def directory(self):
        """Active teams anyone signed in may browse and apply to (the portal's team pages)."""
        return self.filter(is_active=True)


class Team(models.Model):
    """A party-member volunteer team (志愿服务队), owned by a party organisation."""

    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("owning organisation"),
        on_delete=models.PROTECT,
        related_name="teams",
    )
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(
        _("kind"), max_length=32, choices=TeamKind.choices, default=TeamKind.GENERAL
    )
    service_categories = models.ManyToManyField(
        ServiceCategory, verbose_name=_("service categories"), blank=True
    )
    brand_name = models.CharField(
        _("brand or project name"), max_length=128, blank=True, help_text=_("品牌项目, if any.")
    )
    description = models.TextField(_("description"), blank=True)
    founded_on = models.DateField(_("founded on"), default=timezone.localdate)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["organization__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="team_unique_name_per_organization",
                violation_error_message=_("This organisation already has a team with this name."),
            )
        ]

    def __str__(self):
        return self.name


class FamilyGroupQuerySet(ScopedQuerySet):
    """Family groups follow their team's scope."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__in=Team.objects.visible_to(user).values("pk"))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__in=Team.objects.manageable_by(user).values("pk"))


class FamilyGroup(models.Model):
    """Family members who volunteer together (家庭式、亲子式), led by one adult."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="family_groups"
    )
    name = models.CharField(_("family name"), max_length=64)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("head of the family"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = FamilyGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("family group")
        verbose_name_plural = _("family groups")
        ordering = ["team", "name"]

    def __str__(self):
        return self.name


class TeamMembershipQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(team__in=Team.objects.visible_to(user).values("pk")) | Q(user=user))

    def manageable_by(self, user):
        return self.filter(team__in=Team.objects.manageable_by(user).values("pk"))

    def active(self):
        return self.filter(status=TeamMembershipStatus.ACTIVE)


class TeamMembership(models.Model):
    """A person's place in a team: applied, invited, active, declined or left."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="team_memberships",
    )
    role = models.CharField(
        _("role"), max_length=16, choices=TeamRole.choices, default=TeamRole.MEMBER
    )
    status = models.CharField(_("status"), max_length=16, choices=TeamMembershipStatus.choices)
    family_group = models.ForeignKey(
        FamilyGroup,
        verbose_name=_("family group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("guardian"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For a minor: the adult who volunteers with them."),
    )
    message = models.CharField(_("message"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    decline_reason = models.CharField(_("reason"), max_length=255, blank=True)

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["team", "role", "user__real_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=Q(status__in=["applied", "invited", "active"]),
                name="team_membership_one_open_per_person",
                violation_error_message=_(
                    "This person already belongs to this team or has a pending application "
                    "or invitation."
                ),
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(status="active", role="leader"),
                name="team_one_active_leader",
                violation_error_message=_("This team already has a leader."),
            ),
        ]

    def __str__(self):
        return f"{self.team} · {self.user} · {self.get_role_display()}"


def teams_led_by(user):
    return Team.objects.filter(leads_team_q(user))
