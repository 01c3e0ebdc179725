"""Points (积分制): effective-dated rules and the append-only ledger they post to.

A rule belongs to a series (its kind, service category and, for ratings, star count); a series
has one version in effect on any day. Once a version has posted entries it is never edited: a
change becomes a new version, and re-scoring the past is an explicit recalculation that writes
reversing entries and new ones. The database itself refuses to update or delete an entry
(migration 0002 adds the triggers).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory, VolunteerProfile
from apps.activities.models import Activity
from apps.core.scoping import ScopedQuerySet, get_user_scope


class RuleKind(models.TextChoices):
    HOUR = "hour", _("Per approved hour of service")
    ACTIVITY = "activity", _("Per activity taken part in")
    TRAINING = "training", _("Per hour of training")
    PLEDGE = "pledge", _("Per pledge kept")
    VISIT = "visit", _("Per household visit")
    RATING = "rating", _("Per rating by those served")
    BONUS = "bonus", _("Bonus")
    DEDUCTION = "deduction", _("Deduction")
    BASE = "base", _("Yearly base")


#: Kinds whose points depend on the service category (null category: every category).
CATEGORY_KINDS = {RuleKind.HOUR, RuleKind.ACTIVITY}
#: Kinds whose points may be below zero: deductions must be, a poor rating may be.
NEGATIVE_KINDS = {RuleKind.DEDUCTION, RuleKind.RATING}


class PointsRuleQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        # Everyone may know how points are earned.
        return self.all() if user.is_authenticated else self.none()

    def manageable_by(self, user):
        return self.all() if get_user_scope(user).is_city_admin else self.none()

    def current(self):
        return self.filter(withdrawn_at__isnull=True)

    def in_effect(self, day):
        return self.current().filter(
            Q(effective_to__isnull=True) | Q(effective_to__gte=day), effective_from__lte=day
        )

    def series(self, *, kind, category_id=None, stars=None):
        return self.filter(kind=kind, category_id=category_id, stars=stars)


class PointsRule(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("service category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only for points per hour and per activity. Empty: every category."),
    )
    stars = models.PositiveSmallIntegerField(
        _("stars"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Only for ratings: the number of stars this rule scores."),
    )
    points = models.DecimalField(
        _("points"),
        max_digits=8,
        decimal_places=2,
        help_text=_(
            "Per hour, per activity, per training hour, per pledge, per visit, per rating or "
            "per year; for bonuses and deductions the largest single adjustment (deductions "
            "below zero)."
        ),
    )
    cap_per_day = models.DecimalField(
        _("cap per day"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    cap_per_activity = models.DecimalField(
        _("cap per activity"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    cap_per_year = models.DecimalField(
        _("cap per year"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    effective_from = models.DateField(_("in effect from"))
    effective_to = models.DateField(
        _("in effect until"), null=True, blank=True, help_text=_("Empty: until further notice.")
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    #: A version replaced as a whole by a later one (its entries keep pointing at it).
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = PointsRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["kind", "category__sort_order", "stars", "-effective_from", "-version"]
        indexes = [models.Index(fields=["kind", "category", "effective_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="points_rule_ends_after_start",
                violation_error_message=_("A rule cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=sorted(NEGATIVE_KINDS)) | Q(points__gte=0),
                name="points_rule_points_not_negative",
                violation_error_message=_("Only deductions and ratings may be below zero."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.DEDUCTION) | Q(points__lt=0),
                name="points_rule_deduction_negative",
                violation_error_message=_("A deduction must be below zero."),
            ),
            models.CheckConstraint(
                condition=(Q(cap_per_day__isnull=True) | Q(cap_per_day__gt=0))
                & (Q(cap_per_activity__isnull=True) | Q(cap_per_activity__gt=0))
                & (Q(cap_per_year__isnull=True) | Q(cap_per_year__gt=0)),
                name="points_rule_caps_positive",
                violation_error_message=_("A cap must be more than zero."),
            ),
        ]

    def __str__(self):
        label = self.get_kind_display()
        if self.category_id:
            label = f"{label} · {self.category}"
        if self.stars:
            label = f"{label} · {self.stars}★"
        return f"{label} · v{self.version}"

    def clean(self):
        errors = {}
        if self.points is not None:
            if self.kind == RuleKind.DEDUCTION and self.points >= 0:
                errors["points"] = _("A deduction must be below zero.")
            elif self.kind not in NEGATIVE_KINDS and self.points < 0:
                errors["points"] = _(
                    "Points cannot be below zero here: only deductions and ratings may be."
                )
        for cap in ("cap_per_day", "cap_per_activity", "cap_per_year"):
            value = getattr(self, cap)
            if value is not None and value <= 0:
                errors[cap] = _("A cap must be more than zero.")
        if self.category_id and self.kind not in CATEGORY_KINDS:
            errors["category"] = _(
                "Only points per hour and per activity depend on the service category."
            )
        if self.kind == RuleKind.RATING and not self.stars:
            errors["stars"] = _("Say which rating (1 to 5 stars) this rule scores.")
        elif self.stars and self.kind != RuleKind.RATING:
            errors["stars"] = _("Only rating rules have stars.")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            errors["effective_to"] = _("A rule cannot end before it starts.")
        if errors:
            raise ValidationError(errors)
        if not (self.kind and self.effective_from):
            return
        overlapping = self.overlapping().first()
        if overlapping is not None:
            raise ValidationError(
                {
                    "effective_from": _(
                        "%(rule)s is already in effect from %(start)s to %(end)s: the dates of "
                        "one rule may not overlap."
                    )
                    % {
                        "rule": overlapping,
                        "start": overlapping.effective_from.isoformat(),
                        "end": (
                            overlapping.effective_to.isoformat()
                            if overlapping.effective_to
                            else _("further notice")
                        ),
                    }
                }
            )

    def overlapping(self):
        """Other current versions of this rule's series whose dates overlap this one's."""
        others = PointsRule.objects.current().series(
            kind=self.kind, category_id=self.category_id, stars=self.stars
        )
        if self.pk:
            others = others.exclude(pk=self.pk)
        others = others.filter(
            Q(effective_to__isnull=True) | Q(effective_to__gte=self.effective_from)
        )
        if self.effective_to:
            others = others.filter(effective_from__lte=self.effective_to)
        return others

    def covers(self, day) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class SourceType(models.TextChoices):
    RECORD = "record", _("Service record")
    TRAINING = "training", _("Training record")
    PLEDGE = "pledge", _("Pledge")
    VISIT = "visit", _("Household visit")
    EVALUATION = "evaluation", _("Rating")
    YEAR = "year", _("Year")
    ADJUSTMENT = "adjustment", _("Adjustment by staff")


class PointsEntryQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """One's own entries; staff see them where they see the volunteer's profile."""
        if not user.is_authenticated:
            return self.none()
        if get_user_scope(user).is_city_admin:
            return self.all()
        profiles = VolunteerProfile.objects.visible_to(user).values("user_id")
        return self.filter(Q(volunteer__in=profiles) | Q(volunteer=user))

    def manageable_by(self, user):
        # The ledger is append-only: nobody changes an entry.
        return self.none()

    def in_year(self, year: int):
        return self.filter(counted_on__year=year)

    def live(self):
        """Entries that still count: neither reversed nor a reversal."""
        return self.filter(reverses__isnull=True, reversed_by__isnull=True)


class PointsEntry(models.Model):
    """One line of a volunteer's points (积分明细). Never updated or deleted."""

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="points_entries",
    )
    points = models.DecimalField(_("points"), max_digits=10, decimal_places=2)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    rule = models.ForeignKey(
        PointsRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="entries"
    )
    rule_version = models.PositiveIntegerField(_("rule version"))
    source_type = models.CharField(_("source"), max_length=16, choices=SourceType.choices)
    source_id = models.BigIntegerField(_("source ID"))
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500)
    counted_on = models.DateField(_("counts for"), db_index=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    #: Makes posting twice post once: source, rule, volunteer and how often that was reversed.
    posting_key = models.CharField(max_length=120, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), default=timezone.now)

    objects = PointsEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-counted_on", "-id"]
        indexes = [
            models.Index(fields=["source_type", "source_id"]),
            models.Index(fields=["volunteer", "kind", "counted_on"]),
            # The yearly roll-up sums a year's points per volunteer from this index alone.
            models.Index(fields=["volunteer", "counted_on", "points"], name="points_entry_tally"),
        ]

    def __str__(self):
        return f"{self.counted_on:%Y-%m-%d} {self.points:+} · {self.reason}"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class PointsTally(models.Model):
    """A volunteer's points in one year (entries by the year they count for), as the yearly
    roll-up reads them. Kept by a database trigger on every new ledger entry (``tallies``; the
    ledger is append-only, so inserts are all there is); ``tallies.points_tally_recount``
    rebuilds a year from the ledger."""

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the unique key starts with the volunteer
    )
    year = models.PositiveSmallIntegerField(_("year"))
    points = models.DecimalField(_("points"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("points tally")
        verbose_name_plural = _("points tallies")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "year"], name="points_tally_once")
        ]

    def __str__(self):
        return f"{self.year} · {self.volunteer_id}: {self.points}"


ZERO = Decimal("0")
CENT = Decimal("0.01")


def cents(value) -> Decimal:
    """A sum of points to the cent (SQLite sums decimals as floats)."""
    return Decimal(value if value is not None else 0).quantize(CENT)
