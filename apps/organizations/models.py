from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import ScopedQuerySet, get_user_scope

PATH_SEPARATOR = "/"


def paths_q(field: str, paths) -> Q:
    """``Q`` matching rows whose organisation path lies under any of ``paths``."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


class OrganizationKind(models.TextChoices):
    CITY_COMMITTEE = "city_committee", _("City committee")
    PARTY_COMMITTEE = "party_committee", _("Party committee")
    WORKING_COMMITTEE = "working_committee", _("Working committee")
    LEADING_GROUP = "leading_group", _("Leading party group")
    GENERAL_BRANCH = "general_branch", _("General branch")
    BRANCH = "branch", _("Party branch")
    OTHER = "other", _("Other")


class PartyOrganizationQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(
            paths_q("path", scope.view_paths) | Q(pk__in=scope.member_organization_ids)
        )

    def manageable_by(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("path", scope.manage_paths))

    def subtree_of(self, organization, *, include_self: bool = True):
        queryset = self.filter(path__startswith=organization.path)
        return queryset if include_self else queryset.exclude(pk=organization.pk)


class PartyOrganization(models.Model):
    """A party organisation in the city's tree: 市委 → 党委 → 党总支 → 党支部.

    ``path`` is a materialised path of primary keys (``/1/7/42/``), so a whole subtree is one
    indexed ``LIKE '/1/7/%'`` query. ``save()`` keeps the paths of the subtree consistent when
    an organisation moves.
    """

    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=64, blank=True)
    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        help_text=_("The organisation's code in the party membership information system."),
        error_messages={"unique": _("Another organisation already uses this code.")},
    )
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=1, editable=False)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PartyOrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["path"]

    def __str__(self):
        return self.name

    @transaction.atomic
    def save(self, *args, **kwargs):
        parent_path = PATH_SEPARATOR
        if self.parent_id is not None:
            parent_path = (
                PartyOrganization.objects.select_for_update()
                .values_list("path", flat=True)
                .get(pk=self.parent_id)
            )
        if self.pk is None:
            self.path = ""
            super().save(*args, **kwargs)
            self.path = f"{parent_path}{self.pk}{PATH_SEPARATOR}"
            self.depth = self.path.count(PATH_SEPARATOR) - 1
            PartyOrganization.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
            return
        old_path, old_depth = (
            PartyOrganization.objects.select_for_update()
            .values_list("path", "depth")
            .get(pk=self.pk)
        )
        if parent_path.startswith(old_path):
            raise ValueError("an organisation cannot be moved under itself")
        self.path = f"{parent_path}{self.pk}{PATH_SEPARATOR}"
        self.depth = self.path.count(PATH_SEPARATOR) - 1
        kwargs.pop("force_insert", None)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "path", "depth"}
        super().save(*args, **kwargs)
        if old_path != self.path:
            # One UPDATE re-roots every descendant: the subtree moves with its root.
            PartyOrganization.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + (self.depth - old_depth),
            )

    def get_absolute_url(self):
        return reverse("dashboard:organization-detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        if self.parent_id is None:
            return
        if self.pk and self.parent_id == self.pk:
            raise ValidationError(
                {"parent": _("An organisation cannot be its own parent.")}, code="tree_cycle"
            )
        if self.pk and self.path:
            parent_path = (
                PartyOrganization.objects.filter(pk=self.parent_id)
                .values_list("path", flat=True)
                .first()
            )
            if parent_path and parent_path.startswith(self.path):
                raise ValidationError(
                    {
                        "parent": _(
                            "An organisation cannot be placed under one of its own "
                            "sub-organisations."
                        )
                    },
                    code="tree_cycle",
                )

    def ancestors(self):
        ids = [int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]]
        return PartyOrganization.objects.filter(pk__in=ids).order_by("depth")

    def descendants(self, *, include_self: bool = False):
        return PartyOrganization.objects.subtree_of(self, include_self=include_self)


class MembershipCategory(models.TextChoices):
    FULL = "full", _("Full member")
    PROBATIONARY = "probationary", _("Probationary member")


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", _("In service")
    RETIRED = "retired", _("Retired")
    MOBILE = "mobile", _("Mobile (away from home)")
    OTHER = "other", _("Other")


class PersonInOrganizationQuerySet(ScopedQuerySet):
    """Rows tying a person to an organisation: seen by the subtree above it and the person."""

    def active(self):
        return self.filter(ended_on__isnull=True)

    def visible_to(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(paths_q("organization__path", scope.view_paths) | Q(user=user))

    def manageable_by(self, user):
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.manage_paths))


class Membership(models.Model):
    """A party member's membership of one organisation. At most one is active per person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=MembershipCategory.choices,
        default=MembershipCategory.FULL,
    )
    employment = models.CharField(
        _("employment status"),
        max_length=16,
        choices=EmploymentStatus.choices,
        default=EmploymentStatus.EMPLOYED,
    )
    joined_party_on = models.DateField(_("joined the party on"), null=True, blank=True)
    started_on = models.DateField(_("in this organisation since"), default=timezone.localdate)
    ended_on = models.DateField(_("left on"), null=True, blank=True)
    end_reason = models.CharField(_("reason for leaving"), max_length=255, blank=True)

    objects = PersonInOrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("party membership")
        verbose_name_plural = _("party memberships")
        ordering = ["organization__path", "user__real_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_active_per_user",
                violation_error_message=_(
                    "This person already has an active party membership. End it (transfer "
                    "out) before adding another."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="membership_ends_after_start",
                violation_error_message=_("A membership cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.organization}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class RoleKind(models.TextChoices):
    SECRETARY = "secretary", _("Secretary")
    DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
    ADMIN = "admin", _("Administrator")
    INSPECTOR = "inspector", _("Inspector (read only)")


#: Role kinds that may change what lies in their subtree; the others only look.
MANAGING_ROLES = frozenset({RoleKind.SECRETARY, RoleKind.DEPUTY_SECRETARY, RoleKind.ADMIN})


class OrganizationRole(models.Model):
    """A role on an organisation; it reaches the organisation's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="organization_roles",
    )
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="roles",
    )
    kind = models.CharField(_("role"), max_length=32, choices=RoleKind.choices)
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = PersonInOrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation role")
        verbose_name_plural = _("organisation roles")
        ordering = ["organization__path", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "kind"],
                condition=Q(ended_on__isnull=True),
                name="role_one_active_per_kind",
                violation_error_message=_("This person already holds this role here."),
            ),
        ]

    def __str__(self):
        return f"{self.organization} · {self.get_kind_display()} · {self.user}"

    @property
    def is_managing(self) -> bool:
        return self.kind in MANAGING_ROLES
