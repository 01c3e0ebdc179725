"""Every write to a service record: submit, enter for a team, review, reopen, revoke.

A record's volunteer row is locked while the recording rules run, so two submissions for one
person at once cannot both pass the overlap and daily-cap checks. Approving locks the record,
so two reviewers approving at once approve (and post points) once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import prepared
from apps.core.inserts import insert_audited
from apps.core.services import audit_log
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus
from apps.teams.selectors import member_team_organization_sql

from . import signals, tasks
from .checks import content_fingerprint, refresh_flags
from .evidence import store_photos, validate_photos
from .models import QueuedCheck, RecordSource, RecordStatus, ServiceRecord
from .rules import check_record, day_and_overlaps_statement, found_in

#: What the volunteer (or whoever entered the record) may correct before approval.
EDITABLE_FIELDS = frozenset(
    {
        "activity_name",
        "category",
        "started_at",
        "ended_at",
        "duration_minutes",
        "place",
        "content",
        "responsible_person",
        "community",
        "care_recipient",
        "late_reason",
    }
)


def _lock_sql() -> tuple[str, bool]:
    """The statement that locks a volunteer's row (one parameter, the volunteer's key), and
    whether the database has row locks at all (SQLite serialises writers instead, as
    ``select_for_update`` knows too).

    "No key" lets other transactions still insert rows that refer to the volunteer (an audit
    entry, a notification) meanwhile. Written out: the ORM spent ten times longer compiling
    this statement than the database spent running it."""
    model = get_user_model()
    quote = connection.ops.quote_name
    no_key = "NO KEY " if connection.features.has_select_for_no_key_update else ""
    sql = (
        f"SELECT 1 FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} = %s FOR {no_key}UPDATE"
    )
    return sql, connection.features.has_select_for_update


def _lock_volunteer(volunteer) -> None:
    """Lock the volunteer's row until the transaction ends: the row lock imports take too."""
    sql, has_locks = _lock_sql()
    if has_locks:
        with connection.cursor() as cursor:
            prepared.execute(cursor, connection, sql, [volunteer.pk])


def _member_organization(volunteer, team) -> int | None:
    """The team's organisation when the volunteer is an active member of the active team."""
    sql, params = member_team_organization_sql(volunteer.pk, team.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql})", params)
        return cursor.fetchone()[0]


def _not_a_member() -> dict:
    message = _("You can log service only for an active team you are an active member of.")
    return {"team": [ValidationError(message, code="invalid_choice")]}


def _lock_and_read(volunteer, *, member_of=None, **span) -> dict:
    """Lock the volunteer's row, then read what the recording rules need
    (``rules.day_and_overlaps``): two statements in one round trip, the read running once the
    lock is held, so it sees every record the lock's previous holder committed.

    With ``member_of`` (a team), the read also answers the team's organisation when the
    volunteer is an active member of the active team (``teams.selectors.member_teams``) as
    ``"team_organization"``, None otherwise: checked under the lock, so a membership ended
    meanwhile is seen, and without a round trip of its own."""
    also = member_team_organization_sql(volunteer.pk, member_of.pk) if member_of else None
    statements = [day_and_overlaps_statement(**span, also=also)]
    lock, has_locks = _lock_sql()
    if has_locks:
        statements.insert(0, (lock, [volunteer.pk]))
    with connection.cursor() as cursor:
        prepared.execute_together(cursor, connection, statements)
        row = cursor.fetchone()
    found = found_in(row)
    found["team_organization"] = row[2] if also else None
    return found


def lock_record(record: ServiceRecord) -> ServiceRecord:
    return ServiceRecord.objects.select_for_update().get(pk=record.pk)


_lock_record = lock_record


def require_editable(record: ServiceRecord) -> None:
    """Approved records are locked; revoked ones are closed."""
    if record.status == RecordStatus.APPROVED:
        raise ValidationError(
            _(
                "This record has been approved and is locked. Ask a reviewer to reopen it, "
                "with a reason, if it needs correcting."
            ),
            code="locked",
        )
    if record.status == RecordStatus.REVOKED:
        raise ValidationError(
            _("This record has been revoked and can no longer be changed."), code="revoked"
        )


#: What a record must say, and the message when it does not (translated only then).
_REQUIRED_TEXT = (
    ("activity_name", gettext_lazy("Give the activity's name.")),
    ("content", gettext_lazy("Say what was done.")),
    ("place", gettext_lazy("Give the place.")),
    ("responsible_person", gettext_lazy("Name the person responsible.")),
)


def _required_text(fields: dict) -> dict:
    missing = {field: [str(message)] for field, message in _REQUIRED_TEXT if not fields.get(field)}
    if fields.get("category") is None:
        missing["category"] = [_("Choose a service category.")]
    return missing


#: The records' relations to other rows (``ServiceRecord(team=...)`` and the like).
_RELATIONS = tuple(
    field
    for field in ServiceRecord._meta.concrete_fields
    if field.is_relation and (field.many_to_one or field.one_to_one)
)


def _new_record(**values) -> ServiceRecord:
    """``ServiceRecord(**values)``: related rows given as instances are set by key and kept on
    the record as the constructor keeps them, without the checks it makes for each relation
    (whether the two rows may be related across databases, and the like), which on a submit
    cost more than the rest of building the record."""
    related = []
    for field in _RELATIONS:
        if field.name in values:
            value = values.pop(field.name)
            values[field.attname] = value.pk if value is not None else None
            if value is not None:
                related.append((field, value))
    record = ServiceRecord(**values)
    for field, value in related:
        field.set_cached_value(record, value)
    return record


def _duration(started_at, ended_at, duration_minutes: int | None) -> int:
    if duration_minutes is not None:
        return duration_minutes
    if started_at and ended_at and ended_at > started_at:
        return int((ended_at - started_at).total_seconds() // 60)
    return 0


@transaction.atomic
def service_record_submit(
    *,
    actor,
    volunteer,
    activity_name: str,
    category,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    place: str,
    content: str,
    duration_minutes: int | None = None,
    source: str = RecordSource.SELF_REPORTED,
    responsible_person: str = "",
    organization=None,
    team=None,
    activity=None,
    signup=None,
    community=None,
    care_recipient=None,
    request=None,
    late_reason: str = "",
    photos: Iterable = (),
    now: datetime.datetime | None = None,
    before_commit: Callable[[ServiceRecord], None] | None = None,
    alongside: tuple = (),
) -> ServiceRecord:
    """Record one service. Raises ValidationError (per field) when a recording rule is broken,
    with nothing saved. ``photos`` are uploaded files, checked and stored as evidence.
    ``before_commit(record)`` runs last, in the same transaction: the caller's own writes that
    go with the record, committed with it. ``alongside`` are writes of the caller's that do
    not need the record, sent in the record's own statement (``core.inserts.Alongside``: the
    portal sends the visitor's session so).

    Volunteers log their own service (``SELF_REPORTED``) only for a team they are an active
    member of, and only while it is active; ``team`` may then be a bare ``Team(pk=...)``, as
    the portal's form posts it: it is checked here, under the volunteer's lock."""
    photos = validate_photos(photos)
    own_team = team if source == RecordSource.SELF_REPORTED else None
    duration_minutes = _duration(started_at, ended_at, duration_minutes)
    activity_name = (activity_name or "").strip()
    content = (content or "").strip()
    place = (place or "").strip()
    responsible_person = (responsible_person or "").strip()
    organization_id = organization.pk if organization is not None else None
    if team is not None and organization_id is None and own_team is None:
        organization_id = team.organization_id
    if activity is not None:
        organization_id = organization_id or activity.organization_id
        team = team or activity.team
        community = community or activity.community
        if not responsible_person and activity.responsible_id:
            responsible_person = activity.responsible.get_full_name()
    missing = _required_text(
        {
            "activity_name": activity_name,
            "content": content,
            "place": place,
            "responsible_person": responsible_person,
            "category": category,
        }
    )
    if missing:
        if own_team is not None and _member_organization(volunteer, own_team) is None:
            missing.update(_not_a_member())
        raise ValidationError(missing)

    def lock_and_read(**span) -> dict:
        found = _lock_and_read(volunteer, member_of=own_team, **span)
        if own_team is not None and found["team_organization"] is None:
            raise ValidationError(_not_a_member())
        if own_team is not None and organization is None:
            nonlocal organization_id
            organization_id = found["team_organization"]
        return found

    result = check_record(
        volunteer=volunteer,
        activity_name=activity_name,
        started_at=started_at,
        ended_at=ended_at,
        duration_minutes=duration_minutes,
        late_reason=late_reason,
        now=now,
        read=lock_and_read,
    )
    record = _new_record(
        volunteer=volunteer,
        activity_name=activity_name[:128],
        category=category,
        started_at=started_at,
        ended_at=ended_at,
        duration_minutes=duration_minutes,
        place=place[:255],
        content=content,
        organization_id=organization_id,
        responsible_person=responsible_person[:64],
        team=team,
        activity=activity,
        signup=signup,
        community=community,
        care_recipient=care_recipient,
        request=request,
        source=source,
        is_late=result.is_late,
        late_reason=(late_reason or "").strip() if result.is_late else "",
        within_working_hours=result.within_working_hours,
        submitted_by=actor if actor is not None and actor.is_authenticated else None,
        content_fingerprint=content_fingerprint(content),
    )
    if now is not None:
        record.created_at = now
    insert_audited(
        record,
        actor=actor,
        action="service_record.submit",
        companions=(QueuedCheck,),  # waiting for the checks against formalism
        alongside=alongside,
        details={
            "source": source,
            "late": result.is_late,
            "minutes": duration_minutes,
            "photos": len(photos),
        },
    )
    if own_team is not None:
        # It may be a bare Team(pk=...): the caller reads the real team, if ever, from the row.
        ServiceRecord._meta.get_field("team").delete_cached_value(record)
    if photos:
        store_photos(actor=actor, record=record, photos=photos)
    check_after_commit(record)
    if before_commit is not None:
        before_commit(record)
    return record


def check_after_commit(record: ServiceRecord) -> None:
    """Run the checks against formalism once the record is committed, in a task: they never
    block a record and reviewers read the flags later, so the volunteer does not wait for them.

    The record was saved waiting for its checks (a ``QueuedCheck``); one task every few
    seconds checks all the records waiting (``tasks.check_waiting_records``).
    """
    transaction.on_commit(tasks.queue_waiting_checks)


def may_edit(actor, record: ServiceRecord) -> bool:
    """The volunteer, or whoever entered the record for them."""
    return bool(actor and actor.is_authenticated) and actor.pk in (
        record.volunteer_id,
        record.submitted_by_id,
    )


@transaction.atomic
def service_record_update(
    *, actor, record: ServiceRecord, now: datetime.datetime | None = None, **fields
) -> ServiceRecord:
    """Correct a record awaiting review or rejected: it goes (back) to review, the recording
    rules run again (against the volunteer's other records) and so do the checks.

    When the start or end changes and no duration is given, the duration becomes the new span.
    The deadline still counts from the first submission: a correction is not a late entry.
    """
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"service_record_update() cannot change {sorted(unknown)}")
    if not may_edit(actor, record):
        raise PermissionDenied(_("Only the volunteer or whoever entered the record may change it."))
    _lock_volunteer(record.volunteer)
    stored = lock_record(record)
    require_editable(stored)
    for field in ("activity_name", "place", "content", "responsible_person", "late_reason"):
        if field in fields:
            fields[field] = (fields[field] or "").strip()
    times_changed = any(
        field in fields and fields[field] != getattr(stored, field)
        for field in ("started_at", "ended_at")
    )
    if times_changed and fields.get("duration_minutes") is None:
        fields["duration_minutes"] = _duration(
            fields.get("started_at", stored.started_at),
            fields.get("ended_at", stored.ended_at),
            None,
        )
    values = {field: getattr(stored, field) for field in EDITABLE_FIELDS}
    values.update(fields)
    missing = _required_text(values)
    if missing:
        raise ValidationError(missing)
    result = check_record(
        volunteer=stored.volunteer,
        activity_name=values["activity_name"],
        started_at=values["started_at"],
        ended_at=values["ended_at"],
        duration_minutes=values["duration_minutes"],
        late_reason=values["late_reason"],
        exclude_pk=stored.pk,
        now=now,
        recorded_at=stored.created_at,
    )
    changed = sorted(f for f in fields if fields[f] != getattr(stored, f))
    for field, value in values.items():
        setattr(stored, field, value)
    previous_status = stored.status
    stored.activity_name = stored.activity_name[:128]
    stored.place = stored.place[:255]
    stored.responsible_person = stored.responsible_person[:64]
    stored.is_late = result.is_late
    stored.late_reason = stored.late_reason if result.is_late else ""
    stored.within_working_hours = result.within_working_hours
    stored.content_fingerprint = content_fingerprint(stored.content)
    stored.status = RecordStatus.SUBMITTED
    stored.save()
    audit_log(
        actor=actor,
        action="service_record.update",
        target=stored,
        details={"fields": changed, "previous_status": previous_status},
    )
    refresh_flags(stored)
    return stored


def _team_members(team: Team, volunteers: Iterable) -> None:
    ids = {v.pk for v in volunteers}
    members = set(
        TeamMembership.objects.filter(
            team=team, status=TeamMembershipStatus.ACTIVE, user_id__in=ids
        ).values_list("user_id", flat=True)
    )
    outsiders = [v for v in volunteers if v.pk not in members]
    if outsiders:
        raise ValidationError(
            {
                "volunteers": [
                    _("Not active members of %(team)s: %(names)s.")
                    % {"team": team.name, "names": "、".join(v.get_full_name() for v in outsiders)}
                ]
            }
        )


@transaction.atomic
def service_record_enter_for_team(
    *, actor, team: Team, volunteers: list, **fields
) -> list[ServiceRecord]:
    """A leader enters one activity for many of the team's volunteers at once: all or none."""
    if not Team.objects.manageable_by(actor).filter(pk=team.pk).exists():
        raise PermissionDenied
    if not volunteers:
        raise ValidationError({"volunteers": [_("Choose at least one volunteer.")]})
    _team_members(team, volunteers)
    # Lock everyone first, in one order, so two leaders entering overlapping teams cannot
    # deadlock on each other's volunteers.
    for volunteer in sorted(volunteers, key=lambda v: v.pk):
        _lock_volunteer(volunteer)
    records = []
    for volunteer in volunteers:
        try:
            records.append(
                service_record_submit(
                    actor=actor,
                    volunteer=volunteer,
                    team=team,
                    source=RecordSource.LEADER,
                    **fields,
                )
            )
        except ValidationError as error:
            name = volunteer.get_full_name()
            raise ValidationError(
                {
                    field: [f"{name}：{message}" for message in messages]
                    for field, messages in error.message_dict.items()
                }
            ) from error
    return records


# Review ---------------------------------------------------------------------------------------


def _require_reviewer(actor, record: ServiceRecord) -> None:
    if record.volunteer_id == actor.pk:
        raise PermissionDenied(_("Nobody reviews their own record."))
    if not ServiceRecord.objects.manageable_by(actor).filter(pk=record.pk).exists():
        raise PermissionDenied


def _require_status(record: ServiceRecord, *statuses: str, message: str) -> None:
    if record.status not in statuses:
        raise ValidationError(message, code="wrong_status")


@transaction.atomic
def service_record_approve(*, actor, record: ServiceRecord) -> ServiceRecord:
    _require_reviewer(actor, record)
    stored = _lock_record(record)
    _require_status(
        stored, RecordStatus.SUBMITTED, message=_("Only records awaiting review can be approved.")
    )
    stored.status = RecordStatus.APPROVED
    stored.reviewed_by = actor
    stored.reviewed_at = timezone.now()
    stored.review_note = ""
    stored.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])
    audit_log(actor=actor, action="service_record.approve", target=stored)
    signals.record_approved.send(sender=ServiceRecord, record=stored, actor=actor)
    return stored


@transaction.atomic
def service_record_reject(*, actor, record: ServiceRecord, reason: str) -> ServiceRecord:
    _require_reviewer(actor, record)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the record is rejected.")]})
    stored = _lock_record(record)
    _require_status(
        stored, RecordStatus.SUBMITTED, message=_("Only records awaiting review can be rejected.")
    )
    stored.status = RecordStatus.REJECTED
    stored.reviewed_by = actor
    stored.reviewed_at = timezone.now()
    stored.review_note = reason
    stored.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])
    audit_log(
        actor=actor, action="service_record.reject", target=stored, details={"reason": reason}
    )
    return stored


def service_record_bulk_approve(*, actor, records: Iterable[ServiceRecord]) -> tuple[int, list]:
    """Approve each record the actor may approve; returns (approved, [(record, message)])."""
    approved, refused = 0, []
    for record in records:
        try:
            service_record_approve(actor=actor, record=record)
            approved += 1
        except (ValidationError, PermissionDenied) as error:
            message = (
                error.messages[0]
                if isinstance(error, ValidationError)
                else (str(error) or _("You may not review this record."))
            )
            refused.append((record, message))
    return approved, refused


@transaction.atomic
def service_record_reopen(*, actor, record: ServiceRecord, reason: str) -> ServiceRecord:
    """Unlock an approved record for correction: back to review, with the reason on file."""
    _require_reviewer(actor, record)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the approved record is reopened.")]})
    stored = _lock_record(record)
    _require_status(
        stored, RecordStatus.APPROVED, message=_("Only approved records can be reopened.")
    )
    stored.status = RecordStatus.SUBMITTED
    stored.review_note = reason
    stored.save(update_fields=["status", "review_note", "updated_at"])
    audit_log(
        actor=actor,
        action="service_record.reopen",
        target=stored,
        details={"reason": reason, "approved_by": stored.reviewed_by_id},
    )
    signals.record_unapproved.send(sender=ServiceRecord, record=stored, actor=actor, reason=reason)
    return stored


@transaction.atomic
def service_record_revoke(*, actor, record: ServiceRecord, reason: str) -> ServiceRecord:
    """Withdraw a record found untrue: it stays on file, counted nowhere."""
    _require_reviewer(actor, record)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the record is revoked.")]})
    stored = _lock_record(record)
    _require_status(
        stored,
        RecordStatus.SUBMITTED,
        RecordStatus.APPROVED,
        message=_("Only records awaiting review or approved can be revoked."),
    )
    was_approved = stored.status == RecordStatus.APPROVED
    stored.status = RecordStatus.REVOKED
    stored.review_note = reason
    stored.reviewed_by = actor
    stored.reviewed_at = timezone.now()
    stored.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    audit_log(
        actor=actor, action="service_record.revoke", target=stored, details={"reason": reason}
    )
    if was_approved:
        signals.record_unapproved.send(
            sender=ServiceRecord, record=stored, actor=actor, reason=reason
        )
    return stored
