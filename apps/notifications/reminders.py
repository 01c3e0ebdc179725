"""Reminders: who should hear about what today. Each is safe to run twice (keys).

A key is kind + object + period (``activity_tomorrow:activity:12:2026-06-16``); the unique
constraint on (user, key) keeps one notification per person however often, or however many
workers at once, a reminder runs. Texts are rendered in the recipient's language
(``selectors.recipient_languages``). Every reminder reads in batches and inserts in bulk, so a
daily run over 100,000 volunteers keeps its memory bounded (see ``benchmark_reminders``).

Awards (issue 6): the volunteer hears of an award on their record and the city's
administrators of each objection (both from ``receivers``), and of nominations waiting.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import User, VolunteerProfile, VolunteerStatus
from apps.activities.models import ActivityStatus, Attendance, Campaign, Signup, SignupStatus
from apps.awards.models import AssessmentYear, Nomination, NominationStatus, YearStatus
from apps.care.models import RecipientPairing, ServiceRequest
from apps.communities.models import CommunityStaff
from apps.core.workdays import add_working_days, recording_deadline
from apps.organizations.models import (
    MANAGING_ROLES,
    PATH_SEPARATOR,
    Membership,
    OrganizationRole,
    PartyOrganization,
    RoleKind,
)
from apps.service_records.models import Certificate, CertificateStatus, RecordStatus, ServiceRecord
from apps.teams.models import LEADING_ROLES, TeamMembership, TeamMembershipStatus

from .models import NotificationKind
from .selectors import recipient_languages
from .services import notifications_create

CHUNK = 2000
#: Attended sign-ups older than this are no longer chased for a record.
NOT_LOGGED_LOOKBACK_DAYS = 30
#: "Nearing the deadline": at most this many working days left.
DEADLINE_WARNING_WORKING_DAYS = 2
CAMPAIGN_DAYS_AHEAD = 7
ASSESSMENT_DAYS_AHEAD = 7


class _Texts:
    """Renders (title, body) in the recipient's language, once per language and arguments."""

    def __init__(self, render: Callable[..., tuple[str, str]]):
        self.render = render
        self.memo: dict[tuple, tuple[str, str]] = {}
        self.languages: dict[int, str] | None = None

    def __call__(self, user_id: int, *args) -> tuple[str, str]:
        if self.languages is None:  # read once per reminder run, when the first text is due
            self.languages = recipient_languages()
        language = self.languages.get(user_id, settings.LANGUAGE_CODE)
        memo_key = (language, *args)
        texts = self.memo.get(memo_key)
        if texts is None:
            with translation.override(language):
                texts = self.render(*args)
            self.memo[memo_key] = texts
        return texts


def _link(name: str, query: str = "", **kwargs) -> str:
    return reverse(name, kwargs=kwargs or None) + query


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _week(today: datetime.date) -> str:
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


# --- Care: visits, requests, registrations ------------------------------------------------


def overdue_pairings(today: datetime.date):
    """(pairing id, volunteer id, days since the last visit) for active pairings overdue."""
    rows = (
        RecipientPairing.objects.active()
        .filter(started_on__lte=today)
        .annotate(last_visit=Max("visits__visited_on"))
        .values_list("pk", "volunteer_id", "visit_every_days", "started_on", "last_visit")
        .order_by("pk")
    )
    for pk, volunteer_id, every, started_on, last_visit in rows.iterator(chunk_size=CHUNK):
        since = last_visit or started_on
        if (today - since).days > every:
            yield pk, volunteer_id, (today - since).days


def remind_visits_overdue(*, today: datetime.date) -> int:
    """One notification per overdue pairing per ISO week, to its volunteer."""
    week = _week(today)
    url = reverse("portal:my-household")
    texts = _Texts(
        lambda days: (
            _("Your paired household is waiting for a visit"),
            _("The last visit was %(days)d days ago.") % {"days": days},
        )
    )
    items = (
        (volunteer_id, f"visit_overdue:pairing:{pk}:{week}", *texts(volunteer_id, days), url)
        for pk, volunteer_id, days in overdue_pairings(today)
    )
    return notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items)


def remind_requests_overdue(*, today: datetime.date) -> int:
    """The community's active staff hear about each overdue request, once a day."""
    requests = (
        ServiceRequest.objects.overdue(today)
        .values_list("pk", "tracking_number", "title", "community_id", "deadline")
        .order_by("pk")
    )
    requests = list(requests)
    staff: dict[int, list[int]] = {}
    community_ids = {r[3] for r in requests}
    for user_id, community_id in (
        CommunityStaff.objects.active()
        .filter(community_id__in=community_ids)
        .values_list("user_id", "community_id")
    ):
        staff.setdefault(community_id, []).append(user_id)
    texts = _Texts(
        lambda number, title, deadline: (
            _("Request %(number)s is overdue") % {"number": number},
            _("“%(title)s” was due on %(deadline)s.")
            % {"title": title, "deadline": deadline.isoformat()},
        )
    )

    def items():
        for pk, number, title, community_id, deadline in requests:
            url = reverse("portal:request-detail", kwargs={"pk": pk})
            for user_id in staff.get(community_id, ()):
                yield (
                    user_id,
                    f"request_overdue:request:{pk}:{today.isoformat()}",
                    *texts(user_id, number, title, deadline),
                    url,
                )

    return notifications_create(kind=NotificationKind.REQUEST_OVERDUE, items=items())


def reviewers():
    """People holding a managing role on an organisation today."""
    ids = (
        OrganizationRole.objects.filter(ended_on__isnull=True, kind__in=MANAGING_ROLES)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")


def remind_registrations_pending(*, today: datetime.date) -> int:
    """A daily digest to each reviewer of the pending registrations they may review."""
    url = reverse("admin:accounts_volunteerprofile_changelist") + "?status__exact=pending"
    pending = VolunteerProfile.objects.filter(status=VolunteerStatus.PENDING)
    if not pending.exists():
        return 0
    texts = _Texts(
        lambda count: (
            _("%(count)d volunteer registrations wait for your review") % {"count": count},
            "",
        )
    )

    def items():
        for reviewer in reviewers().iterator(chunk_size=CHUNK):
            count = pending.manageable_by(reviewer).count()
            if count:
                yield (
                    reviewer.pk,
                    f"registration_review:digest:{today.isoformat()}",
                    *texts(reviewer.pk, count),
                    url,
                )

    return notifications_create(kind=NotificationKind.REGISTRATION_REVIEW, items=items())


# --- Activities -------------------------------------------------------------------------


def remind_activity_tomorrow(*, now: datetime.datetime) -> int:
    """Each volunteer with a confirmed place on a published activity starting 24–48 hours
    from now hears once per activity and start date (a daily run covers every start)."""
    signups = (
        Signup.objects.filter(
            status=SignupStatus.CONFIRMED,
            activity__status=ActivityStatus.PUBLISHED,
            activity__starts_at__gte=now + datetime.timedelta(hours=24),
            activity__starts_at__lt=now + datetime.timedelta(hours=48),
        )
        .values_list(
            "volunteer_id",
            "activity_id",
            "activity__title",
            "activity__starts_at",
            "activity__place",
        )
        .order_by("pk")
    )
    texts = _Texts(
        lambda title, starts_at, place: (
            _("“%(title)s” starts at %(start)s") % {"title": title, "start": _local(starts_at)},
            _("Place: %(place)s. If you cannot come, cancel your place so someone else may go.")
            % {"place": place},
        )
    )

    links: dict[int, str] = {}

    def items():
        rows = signups.iterator(chunk_size=CHUNK)
        for volunteer_id, activity_id, title, starts_at, place in rows:
            day = timezone.localtime(starts_at).date().isoformat()
            if activity_id not in links:
                links[activity_id] = _link("portal:activity-detail", pk=activity_id)
            yield (
                volunteer_id,
                f"activity_tomorrow:activity:{activity_id}:{day}",
                *texts(volunteer_id, title, starts_at, place),
                links[activity_id],
            )

    return notifications_create(kind=NotificationKind.ACTIVITY_TOMORROW, items=items())


def not_logged_signups(*, now: datetime.datetime):
    """Sign-ups whose service is done (attended, or checked out) without a service record,
    for activities that ended in the last ``NOT_LOGGED_LOOKBACK_DAYS`` days."""
    return Signup.objects.filter(
        Q(attendance=Attendance.ATTENDED) | Q(checked_out_at__isnull=False),
        service_record__isnull=True,
        activity__ends_at__lte=now,
        activity__ends_at__gte=now - datetime.timedelta(days=NOT_LOGGED_LOOKBACK_DAYS),
    ).exclude(status=SignupStatus.CANCELLED)


def remind_service_not_logged(*, now: datetime.datetime) -> int:
    """The volunteer hears once a week about each attended sign-up still without a record."""
    week = _week(timezone.localdate(now))
    url = _link("portal:record-new")
    signups = (
        not_logged_signups(now=now)
        .values_list("pk", "volunteer_id", "activity__title", "activity__ends_at")
        .order_by("pk")
    )
    texts = _Texts(
        lambda title, day: (
            _("Log your service at “%(title)s”") % {"title": title},
            _("You served on %(date)s but no service record has been submitted yet.")
            % {"date": day},
        )
    )

    def items():
        for pk, volunteer_id, title, ends_at in signups.iterator(chunk_size=CHUNK):
            day = timezone.localtime(ends_at).date().isoformat()
            yield (
                volunteer_id,
                f"service_not_logged:signup:{pk}:{week}",
                *texts(volunteer_id, title, day),
                url,
            )

    return notifications_create(kind=NotificationKind.SERVICE_NOT_LOGGED, items=items())


# --- Who reviews what --------------------------------------------------------------------


def _ancestors() -> dict[int, tuple[int, ...]]:
    """Organisation id → ids on its path (itself included): one query over the tree."""
    rows = PartyOrganization.objects.values_list("pk", "path").order_by()
    return {
        pk: tuple(int(part) for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part)
        for pk, path in rows.iterator(chunk_size=CHUNK)
    }


def _managing_roles():
    return OrganizationRole.objects.active().filter(
        kind__in=MANAGING_ROLES, organization__is_active=True, user__is_active=True
    )


def _leaderships():
    return TeamMembership.objects.filter(
        status=TeamMembershipStatus.ACTIVE, role__in=LEADING_ROLES, user__is_active=True
    )


def _city_admin_ids() -> set[int]:
    roles = _managing_roles().filter(kind=RoleKind.ADMIN, organization__depth=1)
    return set(roles.values_list("user_id", flat=True)) | set(
        User.objects.filter(is_superuser=True, is_active=True).values_list("pk", flat=True)
    )


def reviewer_counts(records) -> dict[int, int]:
    """How many of ``records`` each reviewer may review, computed set-based.

    Reviewers, as in ``ServiceRecord.objects.manageable_by``: the team's active leaders and
    deputies; holders of a managing role on an organisation whose subtree holds the record's
    team, organising unit or the volunteer's branch; the city's administrators. Nobody
    reviews their own record. (Community staff also reach records of their community; they
    are not sent this digest.) Records are grouped by (team, team's organisation, organising
    unit, volunteer's branch) in the database, so the Python work is per group, not per record
    or per reviewer, and the number of queries is the same whatever the size.
    """
    ancestors = _ancestors()
    holders: dict[int, set[int]] = defaultdict(set)
    for user_id, organization_id in _managing_roles().values_list("user_id", "organization_id"):
        holders[organization_id].add(user_id)
    leaders: dict[int, set[int]] = defaultdict(set)
    for user_id, team_id in _leaderships().values_list("user_id", "team_id"):
        leaders[team_id].add(user_id)
    city = _city_admin_ids()
    branch = Membership.objects.active().filter(user=OuterRef("volunteer_id"))
    grouped = records.annotate(branch=Subquery(branch.values("organization_id")[:1]))
    fields = ["team_id", "team__organization_id", "organization_id", "branch"]
    reach_memo: dict[tuple, frozenset[int]] = {}

    def reach(signature: tuple) -> frozenset[int]:
        found = reach_memo.get(signature)
        if found is None:
            team_id, *organizations = signature
            people = set(city) | leaders.get(team_id, set())
            for organization_id in {o for o in organizations if o}:
                for ancestor in ancestors.get(organization_id, ()):
                    people |= holders.get(ancestor, set())
            found = reach_memo[signature] = frozenset(people)
        return found

    counts: dict[int, int] = defaultdict(int)
    rows = grouped.values_list(*fields).annotate(n=Count("pk")).order_by()
    for *signature, n in rows.iterator(chunk_size=CHUNK):
        for user_id in reach(tuple(signature)):
            counts[user_id] += n
    # A reviewer's own records count for the others, not for them.
    possible = (
        Q(volunteer__in=_managing_roles().values("user_id"))
        | Q(volunteer__in=_leaderships().values("user_id"))
        | Q(volunteer__in=list(city))
    )
    own = grouped.filter(possible).values_list(*fields, "volunteer_id").annotate(n=Count("pk"))
    for *signature, volunteer_id, n in own.order_by().iterator(chunk_size=CHUNK):
        if volunteer_id in reach(tuple(signature)):
            counts[volunteer_id] -= n
    return {user_id: n for user_id, n in counts.items() if n > 0}


def remind_records_to_review(*, today: datetime.date) -> int:
    """A daily digest to each reviewer: how many submitted records wait for them."""
    counts = reviewer_counts(ServiceRecord.objects.filter(status=RecordStatus.SUBMITTED))
    url = _link("portal:review-queue")
    texts = _Texts(
        lambda count: (
            _("%(count)d service records wait for your review") % {"count": count},
            _("Review them within 10 working days of the service."),
        )
    )
    items = (
        (user_id, f"records_to_review:digest:{today.isoformat()}", *texts(user_id, n), url)
        for user_id, n in sorted(counts.items())
    )
    return notifications_create(kind=NotificationKind.RECORDS_TO_REVIEW, items=items)


# --- The recording deadline ---------------------------------------------------------------


def deadline_near_days(today: datetime.date) -> dict[datetime.date, datetime.date]:
    """Service day → its recording deadline, for the days whose deadline lies within the
    next ``DEADLINE_WARNING_WORKING_DAYS`` working days (today included).

    The deadline never moves back as the service day moves back, so the walk from today
    stops at the first deadline already past: a few dozen calendar look-ups at most.
    """
    last = add_working_days(today, DEADLINE_WARNING_WORKING_DAYS)
    days: dict[datetime.date, datetime.date] = {}
    day = today
    for _step in range(90):
        deadline = recording_deadline(day)
        if deadline < today:
            break
        if deadline <= last:
            days[day] = deadline
        day -= datetime.timedelta(days=1)
    return days


def remind_deadline_near(*, now: datetime.datetime) -> int:
    """Close to the 10-working-day deadline: the volunteer whose attended sign-up has no
    record yet (once per sign-up), and the reviewers of submitted records (a daily digest)."""
    today = timezone.localdate(now)
    days = deadline_near_days(today)
    if not days:
        return 0
    first, last = min(days), max(days)
    signups = (
        not_logged_signups(now=now)
        .filter(
            activity__ends_at__gte=_day_start(first),
            activity__ends_at__lt=_day_start(last + datetime.timedelta(days=1)),
        )
        .values_list("pk", "volunteer_id", "activity__title", "activity__ends_at")
        .order_by("pk")
    )
    record_new = _link("portal:record-new")
    volunteer_texts = _Texts(
        lambda title, deadline: (
            _("Log “%(title)s” by %(deadline)s") % {"title": title, "deadline": deadline},
            _("After that the record counts as a late entry and needs a reason."),
        )
    )

    def volunteer_items():
        for pk, volunteer_id, title, ends_at in signups.iterator(chunk_size=CHUNK):
            deadline = days.get(timezone.localtime(ends_at).date())
            if deadline is None:  # pragma: no cover - the filter keeps to the window
                continue
            yield (
                volunteer_id,
                f"deadline_near:signup:{pk}:{deadline.isoformat()}",
                *volunteer_texts(volunteer_id, title, deadline.isoformat()),
                record_new,
            )

    created = notifications_create(kind=NotificationKind.DEADLINE_NEAR, items=volunteer_items())
    records = ServiceRecord.objects.filter(
        status=RecordStatus.SUBMITTED, service_date__range=(first, last)
    )
    counts = reviewer_counts(records)
    review_queue = _link("portal:review-queue")
    reviewer_texts = _Texts(
        lambda count: (
            _("%(count)d records you review are close to their deadline") % {"count": count},
            _("Their 10 working days end within two working days."),
        )
    )
    items = (
        (
            user_id,
            f"deadline_near:review:{today.isoformat()}",
            *reviewer_texts(user_id, n),
            review_queue,
        )
        for user_id, n in sorted(counts.items())
    )
    return created + notifications_create(kind=NotificationKind.DEADLINE_NEAR, items=items)


# --- Certificates and campaign days -------------------------------------------------------


def remind_certificates_waiting(*, today: datetime.date) -> int:
    """A daily digest to the managers (secretaries, deputies, administrators) of each issuing
    organisation: how many certificate requests wait for them (never their own)."""
    requested = (
        Certificate.objects.filter(status=CertificateStatus.REQUESTED)
        .values_list("issuer_id", "volunteer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_issuer: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for issuer_id, volunteer_id, n in requested:
        per_issuer[issuer_id].append((volunteer_id, n))
    if not per_issuer:
        return 0
    counts: dict[int, int] = defaultdict(int)
    managers = _managing_roles().filter(organization_id__in=list(per_issuer))
    for user_id, issuer_id in managers.values_list("user_id", "organization_id").distinct():
        counts[user_id] += sum(n for volunteer, n in per_issuer[issuer_id] if volunteer != user_id)
    url = _link("admin:service_records_certificate_changelist", "?status__exact=requested")
    texts = _Texts(
        lambda count: (
            _("%(count)d certificate requests wait for you") % {"count": count},
            _("Issue or refuse them in the administration."),
        )
    )
    items = (
        (user_id, f"certificates_waiting:digest:{today.isoformat()}", *texts(user_id, n), url)
        for user_id, n in sorted(counts.items())
        if n > 0
    )
    return notifications_create(kind=NotificationKind.CERTIFICATES_WAITING, items=items)


def remind_campaign_ahead(*, today: datetime.date) -> int:
    """Campaign days in the next week: the active leaders of active teams owned by the
    launching organisation's subtree hear once per campaign and date."""
    campaigns = list(
        Campaign.objects.filter(
            date__gte=today, date__lte=today + datetime.timedelta(days=CAMPAIGN_DAYS_AHEAD)
        )
        .values_list("pk", "name", "date", "organization__path")
        .order_by("date", "pk")
    )
    if not campaigns:
        return 0
    leaders = list(
        _leaderships()
        .filter(team__is_active=True)
        .values_list("user_id", "team__organization__path")
        .order_by("user_id")
    )
    url = _link("portal:activity-list")
    texts = _Texts(
        lambda name, date: (
            _("Campaign day “%(name)s” on %(date)s") % {"name": name, "date": date},
            _("Plan your team's activity for the day and publish it in time."),
        )
    )

    def items():
        for pk, name, date, path in campaigns:
            for user_id, team_path in leaders:
                if team_path.startswith(path):
                    yield (
                        user_id,
                        f"campaign_ahead:campaign:{pk}:{date.isoformat()}",
                        *texts(user_id, name, date.isoformat()),
                        url,
                    )

    return notifications_create(kind=NotificationKind.CAMPAIGN_AHEAD, items=items())


# --- The annual assessment ----------------------------------------------------------------


def remind_assessment_deadline(*, today: datetime.date) -> int:
    """In the week before an open assessment year's deadline (set by city staff), everyone
    who manages an organisation hears once per year and deadline."""
    years = list(
        AssessmentYear.objects.filter(
            status=YearStatus.OPEN,
            submission_deadline__gte=today,
            submission_deadline__lte=today + datetime.timedelta(days=ASSESSMENT_DAYS_AHEAD),
        ).values_list("year", "submission_deadline")
    )
    if not years:
        return 0
    managers = list(_managing_roles().values_list("user_id", flat=True).distinct().order_by())
    texts = _Texts(
        lambda year, deadline: (
            _("The %(year)s assessment is due on %(deadline)s")
            % {"year": year, "deadline": deadline},
            _("Check your organisation's records and hand in the assessment report in time."),
        )
    )

    def items():
        for year, deadline in years:
            url = _link("dashboard:rollup-detail", year=year)
            for user_id in sorted(managers):
                yield (
                    user_id,
                    f"assessment_deadline:{year}:{deadline.isoformat()}",
                    *texts(user_id, year, deadline.isoformat()),
                    url,
                )

    return notifications_create(kind=NotificationKind.ASSESSMENT_DEADLINE, items=items())


# --- Awards: the decision, objections, nominations waiting --------------------------------

#: Nominated, but publicity not started after this many days: the city hears about it.
NOMINATION_STALE_DAYS = 7


def _link_or(name: str, fallback: str, **kwargs) -> str:
    """The URL of ``name``, or ``fallback`` while the page is not installed (the award pages
    arrive with their own part; a notification is worth sending without its link)."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return fallback


def notify_award_granted(award) -> int:
    """The volunteer hears once about an award on their record."""
    if not award.volunteer_id:
        return 0
    texts = _Texts(
        lambda name, unit, day: (
            _("You have been awarded “%(name)s”") % {"name": name},
            _("Awarded by %(unit)s on %(date)s. It is on your volunteer record.")
            % {"unit": unit, "date": day},
        )
    )
    item = (
        award.volunteer_id,
        f"award_granted:award:{award.pk}",
        *texts(award.volunteer_id, award.name, award.awarding_unit, award.awarded_on.isoformat()),
        _link_or("portal:award-list", "/awards/"),
    )
    return notifications_create(kind=NotificationKind.AWARD_GRANTED, items=[item])


def notify_objection_raised(objection) -> int:
    """The city's administrators hear once about each objection raised in a publicity period."""
    nomination = Nomination.objects.select_related(
        "category", "assessment_year", "volunteer", "team"
    ).get(pk=objection.nomination_id)
    url = _link_or(
        "dashboard:nomination-detail",
        f"/dashboard/awards/nominations/{nomination.pk}/",
        pk=nomination.pk,
    )
    texts = _Texts(
        lambda candidate, category, year: (
            _("Objection to the nomination of %(candidate)s") % {"candidate": candidate},
            _(
                "“%(category)s” %(year)s: an objection was raised in the publicity period. Look "
                "into it before the decision."
            )
            % {"category": category, "year": year},
        )
    )
    args = (nomination.candidate_name, nomination.category.name, nomination.assessment_year.year)
    items = (
        (user_id, f"objection_raised:objection:{objection.pk}", *texts(user_id, *args), url)
        for user_id in sorted(_city_admin_ids())
    )
    return notifications_create(kind=NotificationKind.OBJECTION_RAISED, items=items)


def nominations_waiting(today: datetime.date) -> tuple[int, int]:
    """(publicity over and awaiting the decision, nominated over a week ago and not yet in
    publicity)."""
    to_decide = Nomination.objects.filter(
        status=NominationStatus.PUBLICITY, publicity_ends_on__lt=today
    ).count()
    stale_before = _day_start(today - datetime.timedelta(days=NOMINATION_STALE_DAYS))
    to_publicise = Nomination.objects.filter(
        status=NominationStatus.NOMINATED, created_at__lt=stale_before
    ).count()
    return to_decide, to_publicise


def remind_nominations_waiting(*, today: datetime.date) -> int:
    """A daily digest to the city's administrators: nominations whose publicity period has
    ended and that wait for the decision, and nominations left more than a week without
    publicity."""
    to_decide, to_publicise = nominations_waiting(today)
    if not (to_decide or to_publicise):
        return 0
    url = _link_or("dashboard:award-index", "/dashboard/awards/")

    def render(decide, publicise):
        lines = []
        if decide:
            lines.append(
                _("%(count)d: the publicity period has ended; decide whether to award.")
                % {"count": decide}
            )
        if publicise:
            lines.append(
                _(
                    "%(count)d: nominated more than %(days)d days ago; the publicity has not "
                    "started."
                )
                % {"count": publicise, "days": NOMINATION_STALE_DAYS}
            )
        title = _("%(count)d nominations wait for you") % {"count": decide + publicise}
        return title, "\n".join(lines)

    texts = _Texts(render)
    items = (
        (
            user_id,
            f"nominations_waiting:digest:{today.isoformat()}",
            *texts(user_id, to_decide, to_publicise),
            url,
        )
        for user_id in sorted(_city_admin_ids())
    )
    return notifications_create(kind=NotificationKind.NOMINATIONS_WAITING, items=items)


# --- The daily run ------------------------------------------------------------------------


def run_daily(*, now: datetime.datetime) -> dict[str, int]:
    """Every reminder once, as beat runs them over a day (the benchmark times this)."""
    today = timezone.localdate(now)
    return {
        "activity_tomorrow": remind_activity_tomorrow(now=now),
        "records_to_review": remind_records_to_review(today=today),
        "service_not_logged": remind_service_not_logged(now=now),
        "deadline_near": remind_deadline_near(now=now),
        "certificates_waiting": remind_certificates_waiting(today=today),
        "campaign_ahead": remind_campaign_ahead(today=today),
        "assessment_deadline": remind_assessment_deadline(today=today),
        "nominations_waiting": remind_nominations_waiting(today=today),
        "visits_overdue": remind_visits_overdue(today=today),
        "requests_overdue": remind_requests_overdue(today=today),
        "registrations_pending": remind_registrations_pending(today=today),
    }
