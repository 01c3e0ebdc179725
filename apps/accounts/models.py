import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core import crypto
from apps.core.fields import EncryptedTextField
from apps.core.scoping import ScopedQuerySet, visibility_q

from .choices import Ethnicity, Gender, PoliticalStatus
from .validators import (
    id_number_birth_date,
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)


class UserQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(visibility_q("accounts.User", user, manage=False))

    def manageable_by(self, user):
        return self.filter(visibility_q("accounts.User", user, manage=True))

    def with_id_number(self, id_number: str):
        return self.filter(id_number_hash=crypto.blind_index(normalize_id_number(id_number)))


class PlatformUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in: volunteer, staff member, secretary or team leader.

    The ID number is stored encrypted; ``id_number_hash`` is a keyed blind index that keeps
    it unique and searchable by exact value without revealing it in a database dump.
    """

    first_name = None
    last_name = None

    real_name = models.CharField(_("real name"), max_length=64, blank=True)
    phone = models.CharField(
        _("mobile phone"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_phone],
        error_messages={"unique": _("This mobile number is already registered.")},
    )
    id_number = EncryptedTextField(
        _("ID number"),
        blank=True,
        default="",
        validators=[validate_id_number],
        help_text=_("Resident identity card number (18 characters). Stored encrypted."),
    )
    id_number_hash = models.CharField(
        _("ID number fingerprint"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
    )
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    ethnicity = models.CharField(
        _("ethnicity"), max_length=2, choices=Ethnicity.choices, blank=True
    )
    political_status = models.CharField(
        _("political status"),
        max_length=32,
        choices=PoliticalStatus.choices,
        default=PoliticalStatus.MASSES,
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of notifications; empty means the platform's default."),
    )

    objects = PlatformUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["real_name", "username"]

    def __str__(self):
        if self.real_name:
            return f"{self.real_name}（{self.username}）"
        return self.username

    def get_full_name(self):
        return self.real_name or self.username

    def get_short_name(self):
        return self.real_name or self.username

    @property
    def id_number_masked(self) -> str:
        return crypto.mask(self.id_number)

    @property
    def birth_date(self) -> datetime.date | None:
        return id_number_birth_date(self.id_number) if self.id_number else None

    @property
    def is_party_member(self) -> bool:
        return self.political_status in {
            PoliticalStatus.PARTY_MEMBER,
            PoliticalStatus.PROBATIONARY_MEMBER,
        }

    def clean_fields(self, exclude=None):
        # Normalise before the field validators run: "139 0000 1111" is a valid number.
        self.phone = normalize_phone(self.phone) or None
        self.id_number = normalize_id_number(self.id_number)
        super().clean_fields(exclude)

    def clean(self):
        super().clean()
        if self.id_number:
            clash = User.objects.with_id_number(self.id_number).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError(
                    {"id_number": _("A user with this ID number is already registered.")},
                    code="id_number_taken",
                )

    def save(self, *args, **kwargs):
        self.phone = normalize_phone(self.phone) or None
        self.id_number = normalize_id_number(self.id_number)
        self.id_number_hash = crypto.blind_index(self.id_number) if self.id_number else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "id_number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "id_number_hash"}
        super().save(*args, **kwargs)


class ServiceCategory(models.Model):
    """A kind of service (助老, 助残, 法律 …), maintained by city staff."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AvailableTime(models.TextChoices):
    WEEKDAY_DAYTIME = "weekday_daytime", _("Weekdays, daytime")
    WEEKDAY_EVENING = "weekday_evening", _("Weekdays, evenings")
    WEEKEND_DAYTIME = "weekend_daytime", _("Weekends, daytime")
    WEEKEND_EVENING = "weekend_evening", _("Weekends, evenings")
    FLEXIBLE = "flexible", _("Flexible")


class VolunteerProfileQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        reached = visibility_q("accounts.VolunteerProfile", user, manage=False)
        if not reached:  # an empty Q reaches every row, and would vanish when OR-ed
            return self.all()
        return self.filter(reached | Q(user=user))

    def manageable_by(self, user):
        return self.filter(visibility_q("accounts.VolunteerProfile", user, manage=True)).exclude(
            user=user
        )


class VolunteerProfile(models.Model):
    """A registered volunteer (MCA Order 67 Art. 5), party member or citizen alike.

    The identity fields (name, gender, ID number) live on the user; a change to them after
    approval goes through a ``ProfileChangeRequest``.
    """

    user = models.OneToOneField(
        "accounts.User",
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="volunteer_profile",
    )
    volunteer_number = models.CharField(
        _("volunteer number"), max_length=16, unique=True, editable=False
    )
    status = models.CharField(
        _("status"), max_length=16, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    birth_date = models.DateField(_("date of birth"))
    residence_area = models.CharField(
        _("residence area"), max_length=128, help_text=_("District and street or town.")
    )
    residence_community = models.ForeignKey(
        "communities.Community",
        verbose_name=_("residence community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registered_volunteers",
    )
    skills = models.TextField(_("skills"), blank=True)
    service_categories = models.ManyToManyField(
        ServiceCategory, verbose_name=_("service categories"), blank=True
    )
    available_times = models.JSONField(_("available time"), default=list, blank=True)
    consent_at = models.DateTimeField(_("consented to data use at"))
    guardian_name = models.CharField(_("guardian's name"), max_length=64, blank=True)
    guardian_phone = models.CharField(
        _("guardian's mobile phone"), max_length=11, blank=True, validators=[validate_phone]
    )
    guardian_relation = models.CharField(_("relation to the guardian"), max_length=32, blank=True)
    guardian_consent_at = models.DateTimeField(_("guardian consented at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=255, blank=True)

    objects = VolunteerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer profile")
        verbose_name_plural = _("volunteer profiles")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self):
        return f"{self.user.get_full_name()}（{self.volunteer_number}）"


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ProfileChangeRequestQuerySet(ScopedQuerySet):
    """Change requests follow their profile's scope."""

    def pending(self):
        return self.filter(status=ChangeRequestStatus.PENDING)

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(profile__in=VolunteerProfile.objects.visible_to(user).values("pk"))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(profile__in=VolunteerProfile.objects.manageable_by(user).values("pk"))


class ProfileChangeRequest(models.Model):
    """A volunteer's change to verified identity fields, applied only once staff approve it."""

    profile = models.ForeignKey(
        VolunteerProfile,
        verbose_name=_("volunteer profile"),
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    changes = models.JSONField(_("requested changes"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.PENDING,
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=255, blank=True)

    objects = ProfileChangeRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("profile change request")
        verbose_name_plural = _("profile change requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile"],
                condition=Q(status="pending"),
                name="profile_change_one_pending",
                violation_error_message=_("A change to this profile is already awaiting review."),
            )
        ]

    def __str__(self):
        return f"{self.profile} · {self.get_status_display()}"


class TrainingRecordQuerySet(ScopedQuerySet):
    """A volunteer sees their own training; staff see it where they see the volunteer's profile."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        profiles = VolunteerProfile.objects.visible_to(user).values("user_id")
        return self.filter(Q(user__in=profiles) | Q(user=user))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(user__in=VolunteerProfile.objects.manageable_by(user).values("user_id"))


class TrainingRecord(models.Model):
    """Training a volunteer received (MCA Order 67 Art. 8)."""

    user = models.ForeignKey(
        "accounts.User",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="training_records",
    )
    name = models.CharField(_("training name"), max_length=128)
    content = models.TextField(_("main content"))
    hours = models.DecimalField(
        _("hours of study"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("200"))],
    )
    organizer = models.CharField(_("organised by"), max_length=128)
    held_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = TrainingRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.name} · {self.user.get_full_name()}"
