"""Every write to points: rules and their versions, posting, reversing, syncing, adjusting and
recalculating.

Posting is planned in batches: the rules come from one query, the totals the caps need from
one grouped query per batch, and the entries go in with one ``INSERT … ON CONFLICT DO
NOTHING``. The unique ``posting_key`` (source, rule, volunteer, earlier reversals of that
source and rule) makes posting twice post once; the volunteer's row is locked while posting so
caps are computed on settled totals.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import TrainingRecord, VolunteerProfile, VolunteerStatus
from apps.care.models import Visit
from apps.communities.models import Pledge, PledgeStatus
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log
from apps.service_records.models import Evaluation, RecordStatus, ServiceRecord

from .models import ZERO, PointsEntry, PointsRule, RuleKind, SourceType, cents

CENT = Decimal("0.01")
BATCH = 2000
RULE_FIELDS = (
    "kind",
    "category",
    "stars",
    "points",
    "cap_per_day",
    "cap_per_activity",
    "cap_per_year",
    "effective_from",
    "effective_to",
    "note",
)


def _fmt(value: Decimal) -> str:
    """A number as people write it: 1.5, 10, -1 (no exponent, no trailing zeros)."""
    return format(Decimal(value).normalize(), "f")


def _q(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _lock_volunteers(ids) -> None:
    list(get_user_model().objects.select_for_update().filter(pk__in=sorted(set(ids))).values("pk"))


def _require_city_admin(actor) -> None:
    if not get_user_scope(actor).is_city_admin:
        raise PermissionDenied(_("Only the city's administrators change points rules."))


def _dec(value, field: str):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: [_("Enter a number.")]}) from None


# Rules ----------------------------------------------------------------------------------------


def _snapshot(rule: PointsRule) -> dict:
    return {
        field: str(value) if value is not None else None
        for field in RULE_FIELDS
        for value in [getattr(rule, f"{field}_id" if field == "category" else field)]
    }


def _next_version(rule: PointsRule) -> int:
    versions = PointsRule.objects.series(
        kind=rule.kind, category_id=rule.category_id, stars=rule.stars
    ).values_list("version", flat=True)
    return max(versions, default=0) + 1


@transaction.atomic
def points_rule_create(
    *,
    actor,
    kind: str,
    points,
    effective_from: datetime.date,
    category=None,
    stars: int | None = None,
    effective_to: datetime.date | None = None,
    cap_per_day=None,
    cap_per_activity=None,
    cap_per_year=None,
    note: str = "",
) -> PointsRule:
    """A new rule (the first version of its series, or a later one for other dates)."""
    _require_city_admin(actor)
    rule = PointsRule(
        kind=kind,
        category=category,
        stars=stars,
        points=_dec(points, "points"),
        effective_from=effective_from,
        effective_to=effective_to,
        cap_per_day=_dec(cap_per_day, "cap_per_day"),
        cap_per_activity=_dec(cap_per_activity, "cap_per_activity"),
        cap_per_year=_dec(cap_per_year, "cap_per_year"),
        note=(note or "").strip(),
        created_by=actor,
    )
    rule.full_clean()
    rule.version = _next_version(rule)
    rule.save()
    audit_log(actor=actor, action="points_rule.create", target=rule, details=_snapshot(rule))
    return rule


@transaction.atomic
def points_rule_change(*, actor, rule: PointsRule, **changes) -> PointsRule:
    """Change a rule. One that has posted entries is never edited: the change becomes a new
    version from ``effective_from`` (required then), and the old version ends the day before
    (or is withdrawn, when the new one starts on or before its first day). Ending a version
    (``effective_to`` only) is allowed while no entry counts after the new end.

    Returns the rule now in effect from the given date (the same row or the new version).
    The entries already posted keep their version; :func:`points_recalculate` re-scores them.
    """
    _require_city_admin(actor)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
    for field in ("points", "cap_per_day", "cap_per_activity", "cap_per_year"):
        if field in changes:
            changes[field] = _dec(changes[field], field)
    stored = PointsRule.objects.select_for_update().get(pk=rule.pk)
    if stored.withdrawn_at:
        raise ValidationError(_("This version was withdrawn; change the version in effect."))
    before = _snapshot(stored)
    entries = stored.entries.all()
    if not entries.exists():
        for field, value in changes.items():
            setattr(stored, field, value)
        stored.full_clean()
        stored.save()
        audit_log(
            actor=actor,
            action="points_rule.update",
            target=stored,
            details={"before": before, "after": _snapshot(stored)},
        )
        return stored
    if set(changes) <= {"effective_to", "note"}:
        end = changes.get("effective_to", stored.effective_to)
        if end is not None and entries.filter(counted_on__gt=end).exists():
            raise ValidationError(
                {
                    "effective_to": [
                        _(
                            "Points were already posted under this rule after %(date)s: "
                            "make a new version and recalculate instead."
                        )
                        % {"date": end.isoformat()}
                    ]
                }
            )
        for field, value in changes.items():
            setattr(stored, field, value)
        stored.full_clean()
        stored.save(update_fields=list(changes))
        audit_log(
            actor=actor,
            action="points_rule.update",
            target=stored,
            details={"before": before, "after": _snapshot(stored)},
        )
        return stored
    start = changes.get("effective_from")
    if start is None:
        raise ValidationError(
            {
                "effective_from": [
                    _(
                        "Points were already posted under this rule: say from which day the "
                        "new version applies."
                    )
                ]
            }
        )
    if stored.effective_to and start > stored.effective_to:
        raise ValidationError(
            {
                "effective_from": [
                    _("This version ends on %(date)s: add a new rule for later dates.")
                    % {"date": stored.effective_to.isoformat()}
                ]
            }
        )
    new = PointsRule(created_by=actor)
    for field in RULE_FIELDS:
        setattr(new, field, getattr(stored, field))
    for field, value in changes.items():
        setattr(new, field, value)
    if (new.kind, new.category_id, new.stars) != (stored.kind, stored.category_id, stored.stars):
        raise ValidationError(
            _("A new version keeps the kind, category and stars; add a separate rule instead.")
        )
    if start <= stored.effective_from:
        stored.withdrawn_at = timezone.now()
        stored.save(update_fields=["withdrawn_at"])
    else:
        stored.effective_to = start - datetime.timedelta(days=1)
        stored.save(update_fields=["effective_to"])
    new.full_clean()
    new.version = _next_version(new)
    new.save()
    audit_log(
        actor=actor,
        action="points_rule.new_version",
        target=new,
        details={"replaces": stored.pk, "before": before, "after": _snapshot(new)},
    )
    return new


class _RuleBook:
    """Every current rule, loaded once; finds the one in effect for a source."""

    def __init__(self):
        self.by_kind = defaultdict(list)
        for rule in PointsRule.objects.current().select_related("category"):
            self.by_kind[rule.kind].append(rule)

    def find(self, kind, day, *, category_id=None, stars=None) -> PointsRule | None:
        fallback = None
        for rule in self.by_kind.get(kind, ()):
            if not rule.covers(day) or rule.stars != stars:
                continue
            if rule.category_id == category_id and category_id is not None:
                return rule
            if rule.category_id is None:
                fallback = rule
        return fallback


# Planning and posting -------------------------------------------------------------------------


@dataclass
class _Candidate:
    volunteer_id: int
    rule: PointsRule
    raw: Decimal
    counted_on: datetime.date
    source_type: str
    source_id: int
    reason: str
    activity_id: int | None = None


def _reversal_counts(candidates) -> dict:
    by_type = defaultdict(set)
    for c in candidates:
        by_type[c.source_type].add(c.source_id)
    condition = Q(pk__in=[])
    for source_type, ids in by_type.items():
        condition |= Q(source_type=source_type, source_id__in=ids)
    rows = (
        PointsEntry.objects.filter(condition, reverses__isnull=False)
        .values("source_type", "source_id", "rule_id", "volunteer_id")
        .annotate(n=Count("pk"))
    )
    return {
        (r["source_type"], r["source_id"], r["rule_id"], r["volunteer_id"]): r["n"] for r in rows
    }


def _key(c: _Candidate, reversals: dict) -> str:
    n = reversals.get((c.source_type, c.source_id, c.rule.pk, c.volunteer_id), 0)
    return f"{c.source_type}:{c.source_id}:{c.rule.pk}:{c.volunteer_id}:{n}"


def _totals(candidates):
    """Net points so far per (volunteer, kind) by day, activity and year: one grouped query."""
    capped = [c for c in candidates if c.raw > 0 and _has_cap(c.rule)]
    day, activity, year = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    if not capped:
        return day, activity, year
    years = {c.counted_on.year for c in capped}
    rows = (
        PointsEntry.objects.filter(
            volunteer_id__in={c.volunteer_id for c in capped},
            kind__in={c.rule.kind for c in capped},
            counted_on__gte=datetime.date(min(years), 1, 1),
            counted_on__lte=datetime.date(max(years), 12, 31),
        )
        .values("volunteer_id", "kind", "counted_on", "activity_id")
        .annotate(total=Sum("points"))
    )
    for r in rows:
        v, k = r["volunteer_id"], r["kind"]
        total = cents(r["total"])
        day[(v, k, r["counted_on"])] += total
        year[(v, k, r["counted_on"].year)] += total
        if r["activity_id"]:
            activity[(v, k, r["activity_id"])] += total
    return day, activity, year


def _has_cap(rule) -> bool:
    return any(
        value is not None for value in (rule.cap_per_day, rule.cap_per_activity, rule.cap_per_year)
    )


def _apply_caps(c: _Candidate, totals) -> tuple[Decimal, str]:
    day, activity, year = totals
    amount = _q(c.raw)
    note = ""
    keys = [
        (c.rule.cap_per_day, day, (c.volunteer_id, c.rule.kind, c.counted_on), "day"),
        (c.rule.cap_per_year, year, (c.volunteer_id, c.rule.kind, c.counted_on.year), "year"),
    ]
    if c.activity_id:
        keys.insert(
            1,
            (c.rule.cap_per_activity, activity, (c.volunteer_id, c.rule.kind, c.activity_id), "a"),
        )
    if amount > 0:
        for cap, table, key, which in keys:
            if cap is None:
                continue
            room = max(cap - table[key], ZERO)
            if amount > room:
                amount = room
                note = {
                    "day": _("capped at the daily limit of %(cap)s"),
                    "a": _("capped at the limit of %(cap)s per activity"),
                    "year": _("capped at the yearly limit of %(cap)s"),
                }[which] % {"cap": cap}
    for _cap, table, key, _which in keys:
        table[key] += amount
    return amount, note


def _post(candidates: list[_Candidate], *, actor=None) -> list[str]:
    """Insert the entries the candidates call for; returns the keys of those inserted."""
    if not candidates:
        return []
    reversals = _reversal_counts(candidates)
    keyed = [(_key(c, reversals), c) for c in candidates]
    existing = set(
        PointsEntry.objects.filter(posting_key__in=[k for k, _c in keyed]).values_list(
            "posting_key", flat=True
        )
    )
    keyed = [(k, c) for k, c in keyed if k not in existing]
    totals = _totals([c for _k, c in keyed])
    keyed.sort(key=lambda kc: (kc[1].volunteer_id, kc[1].counted_on, kc[1].source_id))
    now = timezone.now()
    entries, seen = [], set()
    for key, c in keyed:
        if key in seen:
            continue
        seen.add(key)
        amount, note = _apply_caps(c, totals)
        reason = f"{c.reason}（{note}）" if note else c.reason
        entries.append(
            PointsEntry(
                volunteer_id=c.volunteer_id,
                points=amount,
                kind=c.rule.kind,
                rule=c.rule,
                rule_version=c.rule.version,
                source_type=c.source_type,
                source_id=c.source_id,
                activity_id=c.activity_id,
                reason=reason[:500],
                counted_on=c.counted_on,
                posting_key=key,
                created_by=actor if actor is not None and actor.is_authenticated else None,
                created_at=now,
            )
        )
    # The unique key is the second line of defence: a concurrent poster's row wins quietly.
    PointsEntry.objects.bulk_create(entries, ignore_conflicts=True, batch_size=BATCH)
    return [e.posting_key for e in entries]


def _reverse(entries, *, reason: str, actor=None) -> list[str]:
    now = timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Reversed: %(reason)s") % {"reason": reason}
    reversals = [
        PointsEntry(
            volunteer_id=e.volunteer_id,
            points=-e.points,
            kind=e.kind,
            rule_id=e.rule_id,
            rule_version=e.rule_version,
            source_type=e.source_type,
            source_id=e.source_id,
            activity_id=e.activity_id,
            reason=text[:500],
            counted_on=e.counted_on,
            reverses_id=e.pk,
            posting_key=f"reversal:{e.pk}",
            created_by=actor if actor is not None and actor.is_authenticated else None,
            created_at=now,
        )
        for e in entries
    ]
    PointsEntry.objects.bulk_create(reversals, ignore_conflicts=True, batch_size=BATCH)
    return [r.posting_key for r in reversals]


def _hours(minutes) -> Decimal:
    return Decimal(minutes) / Decimal(60)


def _record_candidates(records, book: _RuleBook, *, kinds=None) -> list[_Candidate]:
    """Hour, activity and rating points for approved records (records need category,
    activity and evaluations loaded)."""
    out = []
    kinds = kinds or {RuleKind.HOUR, RuleKind.ACTIVITY, RuleKind.RATING}
    for record in records:
        day = record.service_date
        rule = book.find(RuleKind.HOUR, day, category_id=record.category_id)
        if rule and RuleKind.HOUR in kinds:
            hours = _hours(record.duration_minutes)
            out.append(
                _Candidate(
                    volunteer_id=record.volunteer_id,
                    rule=rule,
                    raw=hours * rule.points,
                    counted_on=day,
                    source_type=SourceType.RECORD,
                    source_id=record.pk,
                    activity_id=record.activity_id,
                    reason=_("%(hours)s h of %(category)s service × %(rate)s points: %(name)s")
                    % {
                        "hours": _fmt(_q(hours)),
                        "category": record.category.name,
                        "rate": _fmt(rule.points),
                        "name": record.activity_name,
                    },
                )
            )
        rule = record.activity_id and book.find(
            RuleKind.ACTIVITY, day, category_id=record.category_id
        )
        if rule and RuleKind.ACTIVITY in kinds:
            out.append(
                _Candidate(
                    volunteer_id=record.volunteer_id,
                    rule=rule,
                    raw=rule.points,
                    counted_on=day,
                    source_type=SourceType.RECORD,
                    source_id=record.pk,
                    activity_id=record.activity_id,
                    reason=_("Took part in the activity %(name)s") % {"name": record.activity_name},
                )
            )
        if RuleKind.RATING in kinds:
            for evaluation in record.evaluations.all():
                out.extend(_rating_candidates([(evaluation, record)], book))
    return out


def _rating_candidates(pairs, book: _RuleBook) -> list[_Candidate]:
    out = []
    for evaluation, record in pairs:
        rule = book.find(RuleKind.RATING, record.service_date, stars=evaluation.stars)
        if rule:
            out.append(
                _Candidate(
                    volunteer_id=record.volunteer_id,
                    rule=rule,
                    raw=rule.points,
                    counted_on=record.service_date,
                    source_type=SourceType.EVALUATION,
                    source_id=evaluation.pk,
                    activity_id=record.activity_id,
                    reason=_("Rated %(stars)s stars by %(rater)s: %(name)s")
                    % {
                        "stars": evaluation.stars,
                        "rater": evaluation.get_rater_kind_display(),
                        "name": record.activity_name,
                    },
                )
            )
    return out


def _records_with_children(queryset):
    return queryset.select_related("category").prefetch_related("evaluations")


@transaction.atomic
def points_post_for_record(*, record: ServiceRecord, actor=None) -> list[PointsEntry]:
    """Post an approved record's points (hours × category coefficient, per activity, ratings
    already given). Posting twice posts once. Returns the record's live entries."""
    _lock_volunteers([record.volunteer_id])
    stored = _records_with_children(ServiceRecord.objects.filter(pk=record.pk)).first()
    if stored is None or stored.status != RecordStatus.APPROVED:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        candidates = _record_candidates([stored], _RuleBook())
    _post(candidates, actor=actor)
    return list(_record_entries(stored).live())


def _record_entries(record):
    return PointsEntry.objects.filter(
        Q(source_type=SourceType.RECORD, source_id=record.pk)
        | Q(
            source_type=SourceType.EVALUATION,
            source_id__in=Evaluation.objects.filter(record_id=record.pk).values("pk"),
        )
    )


@transaction.atomic
def points_reverse_for_record(
    *, record: ServiceRecord, actor=None, reason: str = ""
) -> list[PointsEntry]:
    """Reverse the points a record (and its ratings) posted, once. Returns the reversals."""
    _lock_volunteers([record.volunteer_id])
    live = list(_record_entries(record).live())
    if not live:
        return []
    reason = (reason or "").strip() or _("the record no longer counts")
    keys = _reverse(live, reason=reason, actor=actor)
    return list(PointsEntry.objects.filter(posting_key__in=keys))


# The yearly sync -------------------------------------------------------------------------------


def _missing(queryset, source_type, *, kind=None):
    live = PointsEntry.objects.live().filter(source_type=source_type, source_id=OuterRef("pk"))
    if kind:
        live = live.filter(kind=kind)
    return queryset.exclude(Exists(live))


def _batches(queryset, size=BATCH):
    batch = []
    for row in queryset.iterator(chunk_size=size):
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _post_batches(queryset, build, *, actor=None) -> int:
    posted = 0
    for batch in _batches(queryset):
        candidates = build(batch)
        if candidates:
            _lock_volunteers(c.volunteer_id for c in candidates)
            posted += len(_post(candidates, actor=actor))
    return posted


def _pledge_day(pledge: Pledge) -> datetime.date:
    if pledge.confirmed_at:
        day = timezone.localdate(pledge.confirmed_at)
        if day.year == pledge.year:
            return day
    return datetime.date(pledge.year, 12, 31)


def _sources(year: int, today: datetime.date, window=None):
    """The sources of each kind of a year (or a date window), for sync and recalculation."""
    start, end = window or (datetime.date(year, 1, 1), min(today, datetime.date(year, 12, 31)))
    records = ServiceRecord.objects.approved().filter(service_date__range=(start, end))
    return {
        "records": _records_with_children(records).order_by("volunteer_id", "started_at"),
        "training": TrainingRecord.objects.filter(held_on__range=(start, end)).order_by(
            "user_id", "held_on", "pk"
        ),
        "pledges": Pledge.objects.filter(
            status=PledgeStatus.CONFIRMED, year__gte=start.year, year__lte=end.year
        ).order_by("user_id", "pk"),
        "visits": Visit.objects.filter(visited_on__range=(start, end))
        .select_related("pairing")
        .order_by("pairing__volunteer_id", "visited_on", "pk"),
        "ratings": Evaluation.objects.filter(
            record__status=RecordStatus.APPROVED, record__service_date__range=(start, end)
        )
        .select_related("record")
        .order_by("record__volunteer_id", "pk"),
        "profiles": VolunteerProfile.objects.filter(
            status=VolunteerStatus.ACTIVE, submitted_at__date__lte=datetime.date(end.year, 12, 31)
        ).order_by("user_id"),
        "window": (start, end),
    }


def _builders(book: _RuleBook, window):
    start, end = window

    def records(batch):
        return _record_candidates(batch, book, kinds={RuleKind.HOUR, RuleKind.ACTIVITY})

    def training(batch):
        out = []
        for t in batch:
            rule = book.find(RuleKind.TRAINING, t.held_on)
            if rule:
                out.append(
                    _Candidate(
                        volunteer_id=t.user_id,
                        rule=rule,
                        raw=t.hours * rule.points,
                        counted_on=t.held_on,
                        source_type=SourceType.TRAINING,
                        source_id=t.pk,
                        reason=_("%(hours)s h of training × %(rate)s points: %(name)s")
                        % {
                            "hours": _fmt(t.hours),
                            "rate": _fmt(rule.points),
                            "name": t.name,
                        },
                    )
                )
        return out

    def pledges(batch):
        out = []
        for p in batch:
            day = _pledge_day(p)
            rule = start <= day <= end and book.find(RuleKind.PLEDGE, day)
            if rule:
                out.append(
                    _Candidate(
                        volunteer_id=p.user_id,
                        rule=rule,
                        raw=rule.points,
                        counted_on=day,
                        source_type=SourceType.PLEDGE,
                        source_id=p.pk,
                        reason=_("Pledge for %(year)s confirmed as kept") % {"year": p.year},
                    )
                )
        return out

    def visits(batch):
        out = []
        for v in batch:
            rule = book.find(RuleKind.VISIT, v.visited_on)
            if rule:
                out.append(
                    _Candidate(
                        volunteer_id=v.pairing.volunteer_id,
                        rule=rule,
                        raw=rule.points,
                        counted_on=v.visited_on,
                        source_type=SourceType.VISIT,
                        source_id=v.pk,
                        reason=_("%(kind)s for the paired household on %(date)s")
                        % {"kind": v.get_kind_display(), "date": v.visited_on.isoformat()},
                    )
                )
        return out

    def ratings(batch):
        return _rating_candidates([(e, e.record) for e in batch], book)

    def bases(batch):
        out = []
        for year in range(start.year, end.year + 1):
            day = datetime.date(year, 1, 1)
            rule = start <= day <= end and book.find(RuleKind.BASE, day)
            if not rule:
                continue
            for profile in batch:
                if timezone.localdate(profile.submitted_at).year > year:
                    continue
                out.append(
                    _Candidate(
                        volunteer_id=profile.user_id,
                        rule=rule,
                        raw=rule.points,
                        counted_on=day,
                        source_type=SourceType.YEAR,
                        source_id=year,
                        reason=_("Yearly base points for %(year)s") % {"year": year},
                    )
                )
        return out

    return {
        "records": records,
        "training": training,
        "pledges": pledges,
        "visits": visits,
        "ratings": ratings,
        "profiles": bases,
    }


SYNC_SOURCES = {
    "records": (SourceType.RECORD, RuleKind.HOUR),
    "training": (SourceType.TRAINING, None),
    "pledges": (SourceType.PLEDGE, None),
    "visits": (SourceType.VISIT, None),
    "ratings": (SourceType.EVALUATION, None),
}


def points_sync(*, year: int, today: datetime.date | None = None) -> dict[str, int]:
    """Post what is missing for a year: approved records without points, training, kept
    pledges, household visits, ratings and the yearly base. Idempotent; each batch commits on
    its own so a long run holds no lock for long. Returns the entries posted per source."""
    today = today or timezone.localdate()
    if year > today.year:
        raise ValidationError(_("Points cannot be synced for a year that has not begun."))
    book = _RuleBook()
    sources = _sources(year, today)
    builders = _builders(book, sources["window"])
    posted = {}
    with translation.override(settings.LANGUAGE_CODE):
        for name, (source_type, kind) in SYNC_SOURCES.items():
            queryset = _missing(sources[name], source_type, kind=kind)
            with transaction.atomic():
                posted[name] = _post_batches(queryset, builders[name])
        base_live = PointsEntry.objects.live().filter(
            source_type=SourceType.YEAR,
            source_id=year,
            kind=RuleKind.BASE,
            volunteer_id=OuterRef("user_id"),
        )
        with transaction.atomic():
            posted["base"] = _post_batches(
                sources["profiles"].exclude(Exists(base_live)), builders["profiles"]
            )
    return posted


# Adjustments by staff ---------------------------------------------------------------------------


@transaction.atomic
def points_adjust(
    *, actor, volunteer, points, reason: str, counted_on: datetime.date | None = None
) -> PointsEntry:
    """A bonus (points above zero) or a deduction (below zero) by staff, with its reason."""
    scope = get_user_scope(actor)
    if not (
        scope.is_city_admin
        or VolunteerProfile.objects.manageable_by(actor).filter(user=volunteer).exists()
    ):
        raise PermissionDenied(_("You may only adjust the points of volunteers you manage."))
    reason = (reason or "").strip()
    amount = _dec(points, "points")
    errors = {}
    if not reason:
        errors["reason"] = [_("Say why the points are adjusted.")]
    if amount is None or amount == 0:
        errors["points"] = [_("Give a number of points other than zero.")]
    if errors:
        raise ValidationError(errors)
    amount = _q(amount)
    day = counted_on or timezone.localdate()
    kind = RuleKind.BONUS if amount > 0 else RuleKind.DEDUCTION
    rule = _RuleBook().find(kind, day)
    if rule is None:
        message = (
            _("No bonus rule is in effect on %(date)s.")
            if kind == RuleKind.BONUS
            else _("No deduction rule is in effect on %(date)s.")
        )
        raise ValidationError({"points": [message % {"date": day.isoformat()}]})
    if abs(amount) > abs(rule.points):
        raise ValidationError(
            {
                "points": [
                    _("A single adjustment may not exceed %(max)s points.")
                    % {"max": _fmt(abs(rule.points))}
                ]
            }
        )
    _lock_volunteers([volunteer.pk])
    if rule.cap_per_year is not None:
        so_far = (
            PointsEntry.objects.filter(
                volunteer=volunteer, kind=kind, counted_on__year=day.year
            ).aggregate(total=Sum("points"))["total"]
            or ZERO
        )
        if abs(so_far + amount) > rule.cap_per_year:
            raise ValidationError(
                {
                    "points": [
                        _("This would pass the yearly limit of %(cap)s (%(left)s left).")
                        % {
                            "cap": _fmt(rule.cap_per_year),
                            "left": _fmt(max(rule.cap_per_year - abs(so_far), ZERO)),
                        }
                    ]
                }
            )
    audit = audit_log(
        actor=actor,
        action="points.adjust",
        target=volunteer,
        details={"points": str(amount), "reason": reason, "rule": rule.pk},
    )
    return PointsEntry.objects.create(
        volunteer=volunteer,
        points=amount,
        kind=kind,
        rule=rule,
        rule_version=rule.version,
        source_type=SourceType.ADJUSTMENT,
        source_id=audit.pk,
        reason=reason[:500],
        counted_on=day,
        posting_key=f"{SourceType.ADJUSTMENT}:{audit.pk}",
        created_by=actor,
    )


# Recalculation ---------------------------------------------------------------------------------

RECALCULATED = {
    RuleKind.HOUR: ("records", SourceType.RECORD),
    RuleKind.ACTIVITY: ("records", SourceType.RECORD),
    RuleKind.TRAINING: ("training", SourceType.TRAINING),
    RuleKind.PLEDGE: ("pledges", SourceType.PLEDGE),
    RuleKind.VISIT: ("visits", SourceType.VISIT),
    RuleKind.RATING: ("ratings", SourceType.EVALUATION),
    RuleKind.BASE: ("profiles", SourceType.YEAR),
}


class _DryRun(Exception):
    pass


def _volunteer_of(name, source):
    return {
        "records": lambda s: s.volunteer_id,
        "training": lambda s: s.user_id,
        "pledges": lambda s: s.user_id,
        "visits": lambda s: s.pairing.volunteer_id,
        "ratings": lambda s: s.record.volunteer_id,
        "profiles": lambda s: s.user_id,
    }[name](source)


def _rescore(rule: PointsRule, *, today, reason, actor, only=None, only_sources=None) -> dict:
    """Reverse the live entries of the rule's kind in its window and post afresh under the
    rules in effect now. Returns {volunteer_id: (old entries, new entries)}."""
    if rule.kind not in RECALCULATED:
        raise ValidationError(_("Bonuses and deductions are never recalculated."))
    name, source_type = RECALCULATED[rule.kind]
    end = rule.effective_to or today
    window = (rule.effective_from, min(end, today))
    sources = _sources(window[0].year, today, window=window)
    queryset = sources[name]
    if only is not None:
        volunteer_field = {
            "records": "volunteer_id",
            "training": "user_id",
            "pledges": "user_id",
            "visits": "pairing__volunteer_id",
            "ratings": "record__volunteer_id",
            "profiles": "user_id",
        }[name]
        queryset = queryset.filter(**{f"{volunteer_field}__in": only})
    items = list(queryset)
    if name == "pledges":
        items = [p for p in items if window[0] <= _pledge_day(p) <= window[1]]
    if only_sources is not None and source_type != SourceType.YEAR:
        items = [s for s in items if s.pk in only_sources]
    old = defaultdict(list)
    entries = PointsEntry.objects.live().filter(kind=rule.kind)
    if source_type == SourceType.YEAR:
        years = list(range(window[0].year, window[1].year + 1))
        entries = entries.filter(
            source_type=source_type,
            source_id__in=[y for y in years if window[0] <= datetime.date(y, 1, 1)],
            volunteer_id__in=[p.user_id for p in items],
        )
    else:
        entries = entries.filter(source_type=source_type, source_id__in=[s.pk for s in items])
    entries = list(entries)
    for entry in entries:
        old[entry.volunteer_id].append(entry)
    volunteers = {_volunteer_of(name, s) for s in items} | set(old)
    _lock_volunteers(volunteers)
    _reverse(entries, reason=reason, actor=actor)
    book = _RuleBook()
    with translation.override(settings.LANGUAGE_CODE):
        candidates = [
            c
            for c in _builders(book, window)[name](items)
            if c.rule.kind == rule.kind
            and (name != "records" or c.rule.kind in {RuleKind.HOUR, RuleKind.ACTIVITY})
        ]
    keys = _post(candidates, actor=actor)
    new = defaultdict(list)
    for entry in PointsEntry.objects.filter(posting_key__in=keys):
        new[entry.volunteer_id].append(entry)
    return {v: (old.get(v, []), new.get(v, [])) for v in volunteers}


def _shape(entries):
    return sorted((e.source_type, e.source_id, e.rule_id, e.points) for e in entries)


def _changed(result: dict) -> dict:
    return {v: (o, n) for v, (o, n) in result.items() if _shape(o) != _shape(n)}


def _changed_sources(changed: dict) -> set:
    """The sources whose entries would differ (source ids of the rule's kind)."""
    by_source = defaultdict(lambda: ([], []))
    for old, new in changed.values():
        for side, entries in ((0, old), (1, new)):
            for entry in entries:
                by_source[entry.source_id][side].append(entry)
    return {s for s, (o, n) in by_source.items() if _shape(o) != _shape(n)}


def _preview(rule_change, *, today) -> dict:
    try:
        with transaction.atomic():
            result = _changed(_rescore(rule_change, today=today, reason="preview", actor=None))
            raise _DryRun
    except _DryRun:
        pass
    return result


def points_recalculate_preview(
    *, rule_change: PointsRule, today: datetime.date | None = None
) -> list[tuple]:
    """What a recalculation under ``rule_change`` would change, without changing anything:
    ``[(volunteer, old points, new points)]`` for each volunteer whose entries would differ."""
    today = today or timezone.localdate()
    changed = _preview(rule_change, today=today)
    users = get_user_model().objects.in_bulk(list(changed))
    return sorted(
        (
            (users[v], sum((e.points for e in o), ZERO), sum((e.points for e in n), ZERO))
            for v, (o, n) in changed.items()
        ),
        key=lambda row: row[0].pk,
    )


@transaction.atomic
def points_recalculate(
    *, actor, rule_change: PointsRule, reason: str, today: datetime.date | None = None
) -> list[tuple]:
    """Re-score the past under the rules in effect now, for the kind and dates of
    ``rule_change``: reversing entries and new ones for each volunteer whose points change,
    never an edit. Audited. Returns what :func:`points_recalculate_preview` showed."""
    _require_city_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the points are recalculated.")]})
    today = today or timezone.localdate()
    changed = _preview(rule_change, today=today)
    if changed:
        # Caps make a volunteer's entries depend on each other: then re-score the volunteer's
        # whole window; without caps only the sources that change.
        capped = any(_has_cap(r) for r in _RuleBook().by_kind.get(rule_change.kind, ()))
        _rescore(
            rule_change,
            today=today,
            reason=reason,
            actor=actor,
            only=list(changed),
            only_sources=None if capped else _changed_sources(changed),
        )
    users = get_user_model().objects.in_bulk(list(changed))
    rows = sorted(
        (
            (users[v], sum((e.points for e in o), ZERO), sum((e.points for e in n), ZERO))
            for v, (o, n) in changed.items()
        ),
        key=lambda row: row[0].pk,
    )
    audit_log(
        actor=actor,
        action="points.recalculate",
        target=rule_change,
        details={
            "reason": reason,
            "volunteers": len(rows),
            "changes": [[u.pk, str(o), str(n)] for u, o, n in rows[:200]],
        },
    )
    return rows
