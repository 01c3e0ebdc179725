"""Assessment years and their roll-ups (年度考核汇总): one row per volunteer, team and
organisation a year, written by ``rollup.py`` in set-based SQL and frozen when the year closes.

Organisation rows keep numerators and denominators, not just rates, so a rate of a subtree is
always the sum of its parts divided by the sum of its parts.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
                fields=["assessment_year", "volunteer"], name="volunteer_summary_once_a_year"
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
