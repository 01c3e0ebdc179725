import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
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
