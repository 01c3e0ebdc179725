"""Reminders: who should hear about what today. Each is safe to run twice (keys)."""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User, VolunteerProfile, VolunteerStatus
from apps.care.models import RecipientPairing, ServiceRequest
from apps.communities.models import CommunityStaff
from apps.organizations.models import MANAGING_ROLES, OrganizationRole

from .models import NotificationKind
from .services import notifications_create

CHUNK = 2000


def _week(today: datetime.date) -> str:
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


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
    title = _("Your paired household is waiting for a visit")
    items = (
        (
            volunteer_id,
            f"visit_overdue:pairing:{pk}:{week}",
            title,
            _("The last visit was %(days)d days ago.") % {"days": days},
            url,
        )
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

    def items():
        for pk, number, title, community_id, deadline in requests:
            url = reverse("portal:request-detail", kwargs={"pk": pk})
            for user_id in staff.get(community_id, ()):
                yield (
                    user_id,
                    f"request_overdue:request:{pk}:{today.isoformat()}",
                    _("Request %(number)s is overdue") % {"number": number},
                    _("“%(title)s” was due on %(deadline)s.")
                    % {"title": title, "deadline": deadline.isoformat()},
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

    def items():
        for reviewer in reviewers().iterator(chunk_size=CHUNK):
            count = pending.manageable_by(reviewer).count()
            if count:
                yield (
                    reviewer.pk,
                    f"registration_review:digest:{today.isoformat()}",
                    _("%(count)d volunteer registrations wait for your review") % {"count": count},
                    "",
                    url,
                )

    return notifications_create(kind=NotificationKind.REGISTRATION_REVIEW, items=items())
