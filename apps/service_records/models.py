"""Service records (志愿服务记录, MCA Order 67 Art. 7) and what hangs off them: evidence photos,
evaluations by those served, certificates, imports.

A record changes only through ``services`` (submit, review, reopen), which apply the recording
rules in ``rules.py`` and the checks against formalism in ``checks.py``.
"""

import datetime
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ServiceCategory
from apps.activities.models import Activity, Signup
from apps.care.models import CareRecipient, ServiceRequest
from apps.communities.models import Community, any_of, community_q
from apps.core.scoping import ScopedQuerySet, get_user_scope
from apps.core.storage import import_upload_to, private_storage
from apps.organizations.models import Membership, PartyOrganization, paths_q
from apps.teams.models import Team, leads_team_q

#: The longest a record may span from start to end: one day's service (longer service is
#: recorded day by day). The recording rules' overlap read relies on it to look only at the
#: records that end within this span after a new one starts (``rules.day_and_overlaps``).
RECORD_MAX_SPAN = datetime.timedelta(hours=24)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class RecordSource(models.TextChoices):
    CHECK_IN = "check_in", _("Check-in and check-out")
    SELF_REPORTED = "self_reported", _("Logged by the volunteer")
    LEADER = "leader", _("Entered by a leader")
    IMPORT = "import", _("Imported")


class RecordStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REVOKED = "revoked", _("Revoked")


def record_reach_q(user, *, manage: bool, prefix: str = "") -> Q:
    """Records (at ``prefix``) a user reaches as a reviewer or overseer.

    The city reaches all; an organisation role reaches records of its subtree's teams, of
    activities its subtree organised and of its subtree's members (the home branch sees a
    member's service wherever it happened, 双报到); a team leader reaches the team's records;
    community staff the records of service in their community.
    """
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return Q()
    paths = scope.manage_paths if manage else scope.view_paths
    conditions = [
        leads_team_q(user, field=f"{prefix}team"),
        community_q(user, manage=manage, field=f"{prefix}community"),
    ]
    if paths:
        members = Membership.objects.active().filter(paths_q("organization__path", paths))
        conditions += [
            paths_q(f"{prefix}team__organization__path", paths),
            paths_q(f"{prefix}organization__path", paths),
            Q(**{f"{prefix}volunteer__in": members.values("user_id")}),
        ]
    return any_of(*conditions)


class ServiceRecordQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(any_of(record_reach_q(user, manage=False), Q(volunteer=user)))

    def manageable_by(self, user):
        """Records the user may review. Nobody reviews their own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(record_reach_q(user, manage=True)).exclude(volunteer=user)

    def approved(self):
        return self.filter(status=RecordStatus.APPROVED)

    def pending(self):
        return self.filter(status=RecordStatus.SUBMITTED)

    def counting(self):
        """Records that count towards hours: approved only (never unapproved hours in totals)."""
        return self.approved()

    def in_year(self, year: int):
        return self.filter(service_date__year=year)

    def flagged(self):
        return self.exclude(flags=[])


class ServiceRecord(models.Model):
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,  # the indexes in Meta start with the volunteer
    )
    activity_name = models.CharField(_("activity name"), max_length=128)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("service category"),
        on_delete=models.PROTECT,
        # A dozen categories: a filter by one alone reads a large share of the table, better
        # scanned; the reports group by category over a span read through other indexes.
        db_index=False,
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    #: The local (Asia/Shanghai) date of the start, kept for fast year and day queries.
    service_date = models.DateField(_("date"), editable=False, db_index=True)
    duration_minutes = models.PositiveIntegerField(
        _("service time (minutes)"),
        validators=[MinValueValidator(1)],
        help_text=_("Time actually served; travel to and from is not counted."),
    )
    place = models.CharField(_("place"), max_length=255)
    content = models.TextField(_("service content"))
    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organising unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    responsible_person = models.CharField(_("person responsible"), max_length=64)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,  # the (team, status) index starts with the team
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,  # a partial index in Meta: most records have none
    )
    signup = models.OneToOneField(
        Signup,
        verbose_name=_("sign-up"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_record",
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,  # a partial index in Meta: most records have none
    )
    care_recipient = models.ForeignKey(
        CareRecipient,
        verbose_name=_("person served"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,  # a partial index in Meta: most records have none
    )
    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
        db_index=False,  # a partial index in Meta: most records have none
    )
    source = models.CharField(_("source"), max_length=16, choices=RecordSource.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=RecordStatus.choices, default=RecordStatus.SUBMITTED
    )
    within_working_hours = models.BooleanField(_("within working hours"), default=False)
    is_late = models.BooleanField(
        _("late entry (补录)"),
        default=False,
        help_text=_("Recorded more than the allowed working days after the service."),
    )
    late_reason = models.TextField(_("reason for the late entry"), blank=True)
    #: The record's ratings (how many, their stars): kept by database triggers on evaluations
    #: (``tallies``), never by Django, so the tallies below follow the record row alone.
    ratings_count = models.IntegerField(_("ratings"), db_default=0, editable=False)
    rating_stars_total = models.IntegerField(_("stars in total"), db_default=0, editable=False)
    #: Checks against formalism: ``[{"code": ..., "reason": ...}]``; shown to reviewers.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    #: Normalised content hash, to find near-identical descriptions across records.
    content_fingerprint = models.CharField(max_length=40, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index in Meta: most records have none
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    #: Unique by a constraint in Meta, not ``unique=True``: looked up whole, never by prefix,
    #: so it needs no second index for LIKE (which ``unique=True`` adds on PostgreSQL).
    evaluation_token = models.CharField(max_length=43, default=_new_token, editable=False)
    #: Shown, never searched or sorted by: no index for every submit to write.
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["volunteer", "started_at"]),
            # Holding what "my records" sums (``selectors._own_totals``), so that reading a
            # volunteer's figures visits this index only, not a table page per record. The
            # price: a save() moves ``updated_at``, so it writes this index (and so every
            # other) anew where it might have updated the row in place; most saves change
            # the status or times, indexed already, and the triggers' rating counts and the
            # checks' flags are written by UPDATEs that leave ``updated_at`` alone.
            models.Index(
                fields=["volunteer", "service_date"],
                include=["status", "duration_minutes", "updated_at"],
                name="record_volunteer_day",
            ),
            # The recording rules' overlap read (``rules.day_and_overlaps``): the records that
            # end after a new one starts are the few since then, where those that start before
            # it ends are the volunteer's whole history.
            models.Index(fields=["volunteer", "ended_at"], name="record_volunteer_ended"),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["status", "service_date"]),
            # Compared whole, never by prefix: a plain index (a CharField's db_index adds a
            # second one for LIKE on PostgreSQL).
            models.Index(fields=["content_fingerprint"], name="record_fingerprint"),
            # Most records name no activity, community, household, request or reviewer (yet):
            # the indexes hold only those that do, so a submit writes fewer index entries.
            *(
                models.Index(
                    fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"record_{name}"
                )
                for name in ("activity", "community", "care_recipient", "request", "reviewed_by")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["evaluation_token"], name="record_evaluation_token"),
            models.CheckConstraint(
                condition=Q(ended_at__gt=F("started_at")),
                name="record_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0),
                name="record_duration_positive",
                violation_error_message=_("The service time must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(is_late=False) | ~Q(late_reason=""),
                name="record_late_entry_has_reason",
                violation_error_message=_("A late entry needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__lte=F("started_at") + RECORD_MAX_SPAN),
                name="record_spans_at_most_a_day",
                violation_error_message=_(
                    "One record covers at most 24 hours from start to end: record longer "
                    "service day by day."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.activity_name} · {self.service_date:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        self.prepare_insert()
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            # The ratings columns belong to the database: a save of a record read before a
            # rating came in must not write the old count back.
            kwargs["update_fields"] = SAVED_FIELDS
        super().save(*args, **kwargs)

    def prepare_insert(self) -> None:
        """What every save does before writing (``core.inserts`` calls it too)."""
        if self.started_at:
            self.service_date = timezone.localtime(self.started_at).date()

    @property
    def hours(self):
        return round(self.duration_minutes / 60, 2)

    @property
    def is_locked(self) -> bool:
        return self.status == RecordStatus.APPROVED


#: What a save of a stored record writes: every column but those the database keeps.
SAVED_FIELDS = [
    field.name
    for field in ServiceRecord._meta.concrete_fields
    if not field.primary_key and field.name not in {"ratings_count", "rating_stars_total"}
]


class QueuedCheck(models.Model):
    """A record waiting for the checks against formalism: written with the record when it is
    submitted or imported, deleted by the task that checks the waiting records in batches
    (``checks.check_waiting_records``).

    A row of its own rather than a flag on the record: the record, with its many indexes, is
    written once when it is saved and not again when the checks find nothing (most records),
    where clearing a flag would rewrite the row and every one of its index entries.
    """

    record = models.OneToOneField(
        ServiceRecord,
        verbose_name=_("service record"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="queued_check",
    )

    class Meta:
        verbose_name = _("record waiting for checks")
        verbose_name_plural = _("records waiting for checks")

    def __str__(self):
        return str(self.record_id)


class RecordTally(models.Model):
    """A volunteer's approved service in one year and team, as the yearly roll-up reads it.

    Kept by database triggers on every write to records (and, through the record's ratings
    columns, to evaluations), on PostgreSQL and SQLite alike (``tallies``). Records count by
    their service date's year; ``team_key`` is the team's id, 0 for none (a plain number, so
    the unique key has no NULL). ``tallies.record_tally_recount`` rebuilds a year from the
    records and ``tallies.record_tally_differences`` lists what does not match.
    """

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the unique key starts with the volunteer
    )
    year = models.PositiveSmallIntegerField(_("year"))
    team_key = models.BigIntegerField(_("team"), default=0)
    approved_minutes = models.IntegerField(_("approved service time (minutes)"), default=0)
    records = models.IntegerField(_("approved records"), default=0)
    on_time_records = models.IntegerField(_("records entered on time"), default=0)
    ratings = models.IntegerField(_("ratings"), default=0)
    rating_stars = models.IntegerField(_("stars in total"), default=0)

    class Meta:
        verbose_name = _("service tally")
        verbose_name_plural = _("service tallies")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "year", "team_key"], name="record_tally_once"
            )
        ]

    def __str__(self):
        return f"{self.year} · {self.volunteer_id} · {self.team_key}"


class RecordChildQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(record__in=ServiceRecord.objects.visible_to(user).values("pk"))

    def manageable_by(self, user):
        return self.filter(record__in=ServiceRecord.objects.manageable_by(user).values("pk"))


class Evidence(models.Model):
    """A photo of the service. Its perceptual hash finds the same photo in other records."""

    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("record"), on_delete=models.CASCADE, related_name="evidence"
    )
    image = models.ImageField(_("photo"), upload_to="evidence/%Y/%m/")
    #: 64-bit perceptual hash (imagehash.phash) as 16 hex digits.
    phash = models.CharField(_("perceptual hash"), max_length=16, db_index=True, editable=False)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = RecordChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence photo")
        verbose_name_plural = _("evidence photos")
        ordering = ["record", "pk"]

    def __str__(self):
        return f"{self.record} #{self.pk}"


class RaterKind(models.TextChoices):
    RESIDENT = "resident", _("Person served")
    COMMUNITY_STAFF = "community_staff", _("Community staff")


class Evaluation(models.Model):
    """An evaluation of the service by those served (Art. 10): 1–5 stars and a comment."""

    record = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("record"),
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    rater_kind = models.CharField(_("rated by"), max_length=16, choices=RaterKind.choices)
    stars = models.PositiveSmallIntegerField(
        _("stars"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True, max_length=500)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rater's account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("evaluated on"), auto_now_add=True)

    objects = RecordChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "rater_kind"],
                name="evaluation_once_per_record_and_rater",
                violation_error_message=_("This service has already been rated."),
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5),
                name="evaluation_stars_1_5",
                violation_error_message=_("Choose between 1 and 5 stars."),
            ),
        ]

    def __str__(self):
        return f"{self.record} ★{self.stars}"


class IssuerProfileQuerySet(ScopedQuerySet):
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


class IssuerProfile(models.Model):
    """What an organisation prints on the certificates it issues (民发〔2015〕149号)."""

    organization = models.OneToOneField(
        PartyOrganization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="issuer_profile",
    )
    person_in_charge = models.CharField(_("person in charge"), max_length=64)
    contact = models.CharField(_("contact"), max_length=64)
    seal_image = models.ImageField(
        _("seal image"),
        upload_to="seals/",
        blank=True,
        help_text=_("A transparent PNG of the seal, printed in the seal slot."),
    )

    objects = IssuerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate issuer")
        verbose_name_plural = _("certificate issuers")

    def __str__(self):
        return str(self.organization)


class CertificateStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")
    REJECTED = "rejected", _("Rejected")
    REVOKED = "revoked", _("Revoked")


class CertificateQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.all()
        return self.filter(paths_q("issuer__path", scope.view_paths) | Q(volunteer=user))

    def manageable_by(self, user):
        """Certificates the user may issue, refuse or revoke (the issuing organisation)."""
        if not user.is_authenticated:
            return self.none()
        scope = get_user_scope(user)
        if scope.is_city_admin:
            return self.exclude(volunteer=user)
        return self.filter(paths_q("issuer__path", scope.manage_paths)).exclude(volunteer=user)


class Certificate(models.Model):
    """A volunteer service certificate (志愿服务证明): free, truthful, numbered and verifiable.

    The printed facts are copied in when it is issued, so a later change to the volunteer or
    the records does not change a certificate already handed out.
    """

    number = models.CharField(_("certificate number"), max_length=32, unique=True, null=True)
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issuer = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("issuing organisation"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    purpose = models.CharField(_("purpose"), max_length=128, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CertificateStatus.choices,
        default=CertificateStatus.REQUESTED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    # Facts printed on the certificate, copied in at issue.
    volunteer_name = models.CharField(_("name"), max_length=64, blank=True)
    id_type = models.CharField(_("ID type"), max_length=32, blank=True)
    id_number_masked = models.CharField(_("ID number"), max_length=32, blank=True)
    volunteer_number = models.CharField(_("volunteer number"), max_length=16, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=8, decimal_places=1, default=0)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    content = models.TextField(_("service content"), blank=True)
    issuer_name = models.CharField(_("issuer"), max_length=128, blank=True)
    person_in_charge = models.CharField(_("person in charge"), max_length=64, blank=True)
    handler_name = models.CharField(_("handled by"), max_length=64, blank=True)
    contact = models.CharField(_("contact"), max_length=64, blank=True)
    issued_on = models.DateField(_("date of issue"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for refusing"), blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)
    verification_token = models.CharField(
        max_length=43, unique=True, default=_new_token, editable=False
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("service certificate")
        verbose_name_plural = _("service certificates")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="certificate_period_ends_after_start",
                violation_error_message=_("The period cannot end before it starts."),
            )
        ]

    def __str__(self):
        return self.number or _("Certificate request #%(pk)s") % {"pk": self.pk}


class ImportKind(models.TextChoices):
    SERVICE_RECORDS = "service_records", _("Service records")
    VOLUNTEERS = "volunteers", _("Volunteers")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    FAILED = "failed", _("Refused")
    DONE = "done", _("Imported")


class ImportJobQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if get_user_scope(user).is_city_admin:
            return self.all()
        return self.filter(created_by=user)

    def manageable_by(self, user):
        return self.visible_to(user)


class ImportJob(models.Model):
    """An uploaded Excel file and what became of it: all rows imported, or none and a report."""

    kind = models.CharField(_("kind"), max_length=32, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to=import_upload_to, storage=private_storage)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    imported_rows = models.PositiveIntegerField(_("rows imported"), default=0)
    #: ``[{"row": 3, "column": "开始时间", "message": "..."}]``
    errors = models.JSONField(_("problems"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0 if self.status in (ImportStatus.PENDING, ImportStatus.RUNNING) else 100
        return min(100, round(self.processed_rows * 100 / self.total_rows))
