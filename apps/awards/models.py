"""Assessment years and their roll-ups (年度考核汇总): one row per volunteer, team and
organisation a year, written by ``rollup.py`` in set-based SQL and frozen when the year closes.

Organisation rows keep numerators and denominators, not just rates, so a rate of a subtree is
always the sum of its parts divided by the sum of its parts.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.scoping import ScopedQuerySet, get_user_scope
from apps.organizations.models import PartyOrganization, paths_q
from apps.teams.models import Team


class YearStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class RunStatus(models.TextChoices):
    IDLE = "idle", _("Not run yet")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class AssessmentYearQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.all() if get_user_scope(user).can_view_any else self.none()

    def manageable_by(self, user):
        return self.all() if get_user_scope(user).is_city_admin else self.none()


class AssessmentYear(models.Model):
    """A year of assessment: its roll-up's progress, and whether its results are frozen."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=YearStatus.choices, default=YearStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    run_status = models.CharField(
        _("roll-up"), max_length=16, choices=RunStatus.choices, default=RunStatus.IDLE
    )
    #: Identifies the current run: parts of an older, abandoned run do not count.
    run_token = models.CharField(max_length=32, blank=True, editable=False)
    run_parts_total = models.PositiveIntegerField(_("parts"), default=0)
    run_parts_done = models.PositiveIntegerField(_("parts done"), default=0)
    run_started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    run_finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    run_message = models.TextField(_("message"), blank=True)
    submission_deadline = models.DateField(
        _("assessment deadline"),
        null=True,
        blank=True,
        help_text=_(
            "Branches hand in their assessment reports by this date; their secretaries are "
            "reminded in the week before."
        ),
    )

    objects = AssessmentYearQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment year")
        verbose_name_plural = _("assessment years")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)

    @property
    def is_closed(self) -> bool:
        return self.status == YearStatus.CLOSED

    @property
    def progress_percent(self) -> int:
        if self.run_status == RunStatus.DONE:
            return 100
        if not self.run_parts_total:
            return 0
        # The last step (the organisations) counts as one more part.
        return min(99, round(self.run_parts_done * 100 / (self.run_parts_total + 1)))


def closed_year_message(year) -> str:
    return _(
        "The assessment year %(year)s is closed: its results are frozen and cannot be changed."
    ) % {"year": year}


class SummaryQuerySet(ScopedQuerySet):
    """Rows reached through the organisation they belong to (``organization_field``)."""

    organization_field = "organization"

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q(f"{self.organization_field}__path", scope.view_paths))

    def manageable_by(self, user):
        # Results are written by the roll-up only.
        return self.none()

    def in_year(self, year: int):
        return self.filter(assessment_year__year=year)


class FrozenWhenClosed(models.Model):
    """A result row: refuses to be changed or deleted once its year is closed."""

    # Result rows are derived and written in bulk: the links are not checked by the database
    # (a deferred check per row per link costs more than the roll-up's own query).
    assessment_year = models.ForeignKey(
        AssessmentYear,
        verbose_name=_("year"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        # The unique constraints of each summary start with the year: no index of its own.
        db_index=False,
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._refuse_if_closed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_closed()
        return super().delete(*args, **kwargs)

    def _refuse_if_closed(self):
        status = (
            AssessmentYear.objects.filter(pk=self.assessment_year_id)
            .values_list("status", "year")
            .first()
        )
        if status and status[0] == YearStatus.CLOSED:
            raise ValidationError(closed_year_message(status[1]), code="year_closed")


class VolunteerSummaryQuerySet(SummaryQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(pk__in=super().visible_to(user).values("pk")) | Q(volunteer=user))


class VolunteerYearSummary(FrozenWhenClosed):
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.CASCADE,
        related_name="year_summaries",
        db_constraint=False,
        db_index=False,  # the unique key starts with the volunteer
    )
    #: The branch of the volunteer's active party membership; empty for citizens.
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # covered by the (year, organisation) index
    )
    approved_minutes = models.PositiveIntegerField(_("approved service time (minutes)"))
    records = models.PositiveIntegerField(_("approved records"))
    on_time_records = models.PositiveIntegerField(_("records entered on time"))
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=2)
    ratings = models.PositiveIntegerField(_("ratings"))
    rating_stars_total = models.PositiveIntegerField(_("stars in total"))
    average_rating = models.DecimalField(
        _("average rating"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    pledges_kept = models.PositiveIntegerField(_("pledges kept"))
    training_hours = models.DecimalField(_("training hours"), max_digits=8, decimal_places=1)
    visits = models.PositiveIntegerField(_("household visits"))
    rank_in_organization = models.PositiveIntegerField(
        _("rank in the organisation"), null=True, blank=True
    )

    objects = VolunteerSummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer's year summary")
        verbose_name_plural = _("volunteers' year summaries")
        ordering = ["organization_id", "rank_in_organization", "volunteer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "assessment_year"], name="volunteer_summary_once_a_year"
            )
        ]
        indexes = [models.Index(fields=["assessment_year", "organization"])]

    def __str__(self):
        return f"{self.assessment_year_id} · {self.volunteer_id}"

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.approved_minutes) / 60).quantize(Decimal("0.01"))


class TeamSummaryQuerySet(SummaryQuerySet):
    organization_field = "team__organization"

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__in=Team.objects.visible_to(user).values("pk"))


class TeamYearSummary(FrozenWhenClosed):
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        related_name="year_summaries",
        db_constraint=False,
    )
    members = models.PositiveIntegerField(_("members"))
    approved_minutes = models.PositiveIntegerField(_("approved service time (minutes)"))
    records = models.PositiveIntegerField(_("approved records"))
    activities = models.PositiveIntegerField(_("activities"))
    ratings = models.PositiveIntegerField(_("ratings"))
    average_rating = models.DecimalField(
        _("average rating"), max_digits=4, decimal_places=2, null=True, blank=True
    )

    objects = TeamSummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("team's year summary")
        verbose_name_plural = _("teams' year summaries")
        ordering = ["team_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment_year", "team"], name="team_summary_once_a_year"
            )
        ]

    def __str__(self):
        return f"{self.assessment_year_id} · {self.team_id}"

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.approved_minutes) / 60).quantize(Decimal("0.01"))


def _rate(part, whole):
    """A percentage to one decimal, or ``None`` when there is nothing to measure."""
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"))


class OrganizationYearSummary(FrozenWhenClosed):
    """The indicators of an organisation's whole subtree for a year."""

    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="year_summaries",
        db_constraint=False,
    )
    members = models.PositiveIntegerField(_("active members"))
    participating_members = models.PositiveIntegerField(_("members who served"))
    approved_minutes = models.PositiveBigIntegerField(_("members' approved service time (minutes)"))
    records = models.PositiveIntegerField(_("members' approved records"))
    on_time_records = models.PositiveIntegerField(_("records entered on time"))
    in_service_members = models.PositiveIntegerField(_("in-service members"))
    reported_members = models.PositiveIntegerField(_("reported to their community"))
    party_volunteers = models.PositiveIntegerField(_("party-member volunteers"))
    paired_volunteers = models.PositiveIntegerField(_("paired with a household"))
    households = models.PositiveIntegerField(_("households"))
    households_known = models.PositiveIntegerField(_("households known on four counts"))
    requests = models.PositiveIntegerField(_("requests"))
    requests_completed = models.PositiveIntegerField(_("requests completed"))
    ratings = models.PositiveIntegerField(_("ratings"))
    rating_stars_total = models.PositiveIntegerField(_("stars in total"))

    objects = SummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation's year summary")
        verbose_name_plural = _("organisations' year summaries")
        ordering = ["organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment_year", "organization"],
                name="organization_summary_once_a_year",
            )
        ]

    def __str__(self):
        return f"{self.assessment_year_id} · {self.organization_id}"

    @property
    def participation_rate(self):
        return _rate(self.participating_members, self.members)

    @property
    def hours_per_member(self):
        if not self.members:
            return None
        return (Decimal(self.approved_minutes) / 60 / self.members).quantize(Decimal("0.01"))

    @property
    def residence_report_rate(self):
        return _rate(self.reported_members, self.in_service_members)

    @property
    def pairing_rate(self):
        return _rate(self.paired_volunteers, self.party_volunteers)

    @property
    def four_facts_rate(self):
        return _rate(self.households_known, self.households)

    @property
    def request_completion_rate(self):
        return _rate(self.requests_completed, self.requests)

    @property
    def satisfaction(self):
        """Average stars (1–5) of the ratings of the members' approved service."""
        if not self.ratings:
            return None
        return (Decimal(self.rating_stars_total) / self.ratings).quantize(Decimal("0.01"))

    @property
    def on_time_rate(self):
        return _rate(self.on_time_records, self.records)


# ---------------------------------------------------------------------------------------------
# Awards (评选表彰): categories, quotas, nominations, publicity and objections, the decision and
# the award on the volunteer's record (Order 67 Art. 9); democratic appraisal (民主评议党员).
# ---------------------------------------------------------------------------------------------


class AwardKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    TEAM = "team", _("Team")


class AwardCategoryQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.all() if user.is_authenticated else self.none()

    def manageable_by(self, user):
        return self.all() if get_user_scope(user).is_city_admin else self.none()

    def active(self):
        return self.filter(active=True)


class AwardCategory(models.Model):
    """An award the city names each year, with the rules a candidate must meet.

    A rule left empty is not applied. The figures are read from the year's roll-up."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("awarded to"), max_length=16, choices=AwardKind.choices)
    description = models.TextField(_("description"), blank=True)
    awarding_unit = models.CharField(
        _("awarding unit"), max_length=128, help_text=_("e.g. 中共江城市委组织部")
    )
    party_members_only = models.BooleanField(
        _("party members only"),
        default=True,
        help_text=_("Volunteers only: the candidate must be an active party member."),
    )
    min_hours = models.DecimalField(
        _("minimum approved hours in the year"),
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    min_points = models.DecimalField(
        _("minimum points in the year"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    min_average_rating = models.DecimalField(
        _("minimum average rating"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
        help_text=_("1 to 5 stars; candidates without any rating do not meet it."),
    )
    max_rejected_records = models.PositiveSmallIntegerField(
        _("most rejected records allowed"),
        null=True,
        blank=True,
        help_text=_("0: a single rejected record in the year rules the candidate out."),
    )
    publicity_days = models.PositiveSmallIntegerField(
        _("publicity period (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = AwardCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("award category")
        verbose_name_plural = _("award categories")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class QuotaQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        # Quotas on the user's own subtree and on the organisations above it (their cap).
        own = paths_q("organization__path", scope.view_paths)
        above = Q()
        for path in scope.view_paths:
            above |= Q(organization__path__in=_ancestor_paths(path))
        return self.filter(own | above) if scope.view_paths else self.none()

    def manageable_by(self, user):
        return self.all() if get_user_scope(user).is_city_admin else self.none()


def _ancestor_paths(path: str) -> list[str]:
    """Materialised paths of every organisation above ``path`` (``/1/7/42/`` → ``/1/``,
    ``/1/7/``)."""
    steps = [step for step in path.split("/") if step]
    return ["/" + "/".join(steps[:i]) + "/" for i in range(1, len(steps))]


class Quota(models.Model):
    """How many candidates an organisation's whole subtree may nominate in a category and year.

    A nomination must fit every quota on the way up from its organisation."""

    assessment_year = models.ForeignKey(
        AssessmentYear, verbose_name=_("year"), on_delete=models.CASCADE, related_name="quotas"
    )
    category = models.ForeignKey(
        AwardCategory,
        verbose_name=_("award category"),
        on_delete=models.CASCADE,
        related_name="quotas",
    )
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="award_quotas",
    )
    places = models.PositiveIntegerField(_("places"))

    objects = QuotaQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["assessment_year", "category", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment_year", "category", "organization"], name="quota_once"
            )
        ]

    def __str__(self):
        return f"{self.assessment_year} · {self.category} · {self.organization}: {self.places}"


class NominationStatus(models.TextChoices):
    NOMINATED = "nominated", _("Nominated")
    PUBLICITY = "publicity", _("In publicity")
    AWARDED = "awarded", _("Awarded")
    NOT_AWARDED = "not_awarded", _("Not awarded")
    WITHDRAWN = "withdrawn", pgettext_lazy("nomination", "Withdrawn")


#: Nominations that count against quotas and block a second nomination of the same candidate.
LIVE_NOMINATION_STATUSES = (
    NominationStatus.NOMINATED,
    NominationStatus.PUBLICITY,
    NominationStatus.AWARDED,
)


class NominationQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.view_paths))

    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.manage_paths))

    def live(self):
        return self.filter(status__in=LIVE_NOMINATION_STATUSES)

    def in_publicity(self):
        return self.filter(status=NominationStatus.PUBLICITY)


class Nomination(models.Model):
    """A branch (or any organisation) puts a volunteer or team forward for an award."""

    assessment_year = models.ForeignKey(
        AssessmentYear,
        verbose_name=_("year"),
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    category = models.ForeignKey(
        AwardCategory,
        verbose_name=_("award category"),
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("nominating organisation"),
        on_delete=models.PROTECT,
        related_name="award_nominations",
    )
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="award_nominations",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="award_nominations",
    )
    deeds = models.TextField(_("main deeds"), help_text=_("主要事迹, shown in the publicity."))
    #: the year's figures when nominated, as shown in the publicity
    hours = models.DecimalField(_("hours"), max_digits=9, decimal_places=2, default=0)
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=NominationStatus.choices,
        default=NominationStatus.NOMINATED,
        db_index=True,
    )
    publicity_starts_on = models.DateField(_("publicity from"), null=True, blank=True)
    publicity_ends_on = models.DateField(_("publicity until"), null=True, blank=True)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("nominated by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("nominated at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)

    objects = NominationQuerySet.as_manager()

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["-assessment_year__year", "category__order", "organization__path", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(volunteer__isnull=False) & Q(team__isnull=True))
                | (Q(volunteer__isnull=True) & Q(team__isnull=False)),
                name="nomination_volunteer_or_team",
            ),
            models.UniqueConstraint(
                fields=["assessment_year", "category", "volunteer"],
                condition=Q(status__in=LIVE_NOMINATION_STATUSES),
                name="nomination_volunteer_once",
            ),
            models.UniqueConstraint(
                fields=["assessment_year", "category", "team"],
                condition=Q(status__in=LIVE_NOMINATION_STATUSES),
                name="nomination_team_once",
            ),
        ]
        indexes = [models.Index(fields=["assessment_year", "category", "status"])]

    def __str__(self):
        return f"{self.assessment_year} · {self.category} · {self.candidate_name}"

    @property
    def candidate_name(self) -> str:
        if self.volunteer_id:
            return self.volunteer.real_name or self.volunteer.username
        return self.team.name if self.team_id else ""

    def publicity_over(self, today) -> bool:
        return bool(self.publicity_ends_on and today > self.publicity_ends_on)


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class ObjectionQuerySet(ScopedQuerySet):
    """Those who handle the nomination see the objection; the one who raised it sees their own."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(nomination__in=Nomination.objects.visible_to(user).values("pk"))
            | Q(submitted_by=user)
        )

    def manageable_by(self, user):
        return self.all() if get_user_scope(user).is_city_admin else self.none()


class Objection(models.Model):
    """An objection raised during the publicity period (公示期异议)."""

    nomination = models.ForeignKey(
        Nomination,
        verbose_name=_("nomination"),
        on_delete=models.CASCADE,
        related_name="objections",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.CharField(_("contact"), max_length=64, blank=True)
    text = models.TextField(_("objection"))
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ObjectionStatus.choices,
        default=ObjectionStatus.OPEN,
        db_index=True,
    )
    resolution = models.TextField(_("finding"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = ObjectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.nomination} · {self.get_status_display()}"


class AwardQuerySet(ScopedQuerySet):
    """An award is seen by its volunteer, their organisations' managers and the city; a team's
    award by whoever sees the team."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        from apps.organizations.models import Membership

        members = Membership.objects.filter(paths_q("organization__path", scope.view_paths)).values(
            "user_id"
        )
        return self.filter(
            Q(volunteer=user)
            | Q(volunteer__in=members)
            | Q(team__in=Team.objects.visible_to(user).values("pk"))
        )

    def manageable_by(self, user):
        return self.all() if get_user_scope(user).is_city_admin else self.none()


class Award(models.Model):
    """An award on a volunteer's (or team's) record: name, date, awarding unit (Order 67 Art. 9).

    Written by the decision on a nomination, or entered by city staff for awards from elsewhere."""

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    name = models.CharField(_("award"), max_length=128)
    awarded_on = models.DateField(_("date"))
    awarding_unit = models.CharField(_("awarding unit"), max_length=128)
    category = models.ForeignKey(
        AwardCategory,
        verbose_name=_("award category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    assessment_year = models.ForeignKey(
        AssessmentYear,
        verbose_name=_("year"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    nomination = models.OneToOneField(
        Nomination,
        verbose_name=_("nomination"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="award",
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    objects = AwardQuerySet.as_manager()

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-awarded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(volunteer__isnull=False) & Q(team__isnull=True))
                | (Q(volunteer__isnull=True) & Q(team__isnull=False)),
                name="award_volunteer_or_team",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.awarded_on:%Y-%m-%d})"


class AppraisalGrade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent (优秀)")
    QUALIFIED = "qualified", _("Qualified (合格)")
    BASIC = "basic", _("Basically qualified (基本合格)")
    UNQUALIFIED = "unqualified", _("Unqualified (不合格)")


class AppraisalQuerySet(SummaryQuerySet):
    def manageable_by(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("organization__path", scope.manage_paths))


class DemocraticAppraisal(models.Model):
    """A member's grade in the branch's yearly democratic appraisal (民主评议党员).

    At most one third of a branch's members may be graded excellent."""

    assessment_year = models.ForeignKey(
        AssessmentYear,
        verbose_name=_("year"),
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    grade = models.CharField(_("grade"), max_length=16, choices=AppraisalGrade.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AppraisalQuerySet.as_manager()

    class Meta:
        verbose_name = _("democratic appraisal")
        verbose_name_plural = _("democratic appraisals")
        ordering = ["assessment_year", "organization__path", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment_year", "member"], name="appraisal_once_a_year"
            )
        ]

    def __str__(self):
        return f"{self.assessment_year} · {self.member_id} · {self.get_grade_display()}"
