"""The coverage board's second section: the people served (households, visits, requests).

Shaped like ``apps.communities.coverage``: every figure is an aggregate over one organisation
subtree, counted with ``Count(filter=…)`` over ``Exists`` subqueries, so the section costs the
same four queries for a branch as for a city. Households are reached through their community's
party organisation; volunteers through their active party membership.

Drill-down rows never carry a household's whole name: ``masked_name`` is all a list shows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User, VolunteerProfile, VolunteerStatus
from apps.communities.coverage import Indicator, IndicatorSpec
from apps.communities.models import Community
from apps.core.scoping import get_user_scope
from apps.organizations.models import Membership, PartyOrganization

from .models import OPEN_STATUSES, CareRecipient, RecipientPairing, ServiceRequest, Visit

VOLUNTEERS_UNPAIRED = "volunteers-unpaired"
HOUSEHOLDS_NOT_VISITED = "households-not-visited"
FOUR_FACTS = "four-facts"
REQUESTS_OVERDUE = "requests-overdue"

#: A fact verified longer ago than this no longer counts as known (四清).
FACT_VALID_DAYS = 365

INDICATORS: dict[str, IndicatorSpec] = {
    spec.key: spec
    for spec in (
        IndicatorSpec(
            VOLUNTEERS_UNPAIRED,
            _("Party-member volunteers paired with a household"),
            _("active party-member volunteers"),
            _("Party-member volunteers without a household"),
            "member",
        ),
        IndicatorSpec(
            HOUSEHOLDS_NOT_VISITED,
            _("Pairings visited within their frequency"),
            _("active household pairings"),
            _("Households not visited within their frequency"),
            "pairing",
        ),
        IndicatorSpec(
            FOUR_FACTS,
            _("Households known on all four counts (四清率)"),
            _("active households"),
            _("Four-counts rate by community"),
            "four-facts",
        ),
        IndicatorSpec(
            REQUESTS_OVERDUE,
            _("Open requests within their deadline"),
            _("open requests"),
            _("Overdue requests"),
            "request",
        ),
    )
}


@dataclass(frozen=True)
class RatingSummary:
    """Residents' ratings of their requests: how many, and the average (1–5)."""

    count: int
    average: float | None


@dataclass(frozen=True)
class CareCoverage:
    indicators: list[Indicator]
    rating: RatingSummary


def _require_in_scope(user, organization: PartyOrganization) -> None:
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return
    if not any(organization.path.startswith(path) for path in scope.view_paths):
        raise PermissionDenied


def _in_subtree(organization: PartyOrganization, field: str = "community") -> Q:
    return Q(**{f"{field}__organization__path__startswith": organization.path})


def _party_member_volunteers(organization):
    """Active memberships in the subtree whose person is an active registered volunteer."""
    return Membership.objects.active().filter(
        Exists(
            VolunteerProfile.objects.filter(user=OuterRef("user_id"), status=VolunteerStatus.ACTIVE)
        ),
        organization__path__startswith=organization.path,
        user__is_active=True,
    )


def _paired(user_ref):
    return Exists(RecipientPairing.objects.active().filter(volunteer=user_ref))


def _active_pairings(organization):
    return RecipientPairing.objects.active().filter(
        _in_subtree(organization, "recipient__community"), recipient__is_active=True
    )


def _with_last_contact(pairings, today: datetime.date):
    """Annotate ``last_contact`` (the last visit, or the start) and what ``_overdue_q`` compares."""
    last_visit = (
        Visit.objects.filter(pairing=OuterRef("pk"))
        .order_by("-visited_on")
        .values("visited_on")[:1]
    )
    return pairings.annotate(
        last_visit=Subquery(last_visit, output_field=DateField()),
        last_contact=Coalesce(F("last_visit"), F("started_on"), output_field=DateField()),
        since_contact=ExpressionWrapper(
            Value(today, output_field=DateField()) - F("last_contact"),
            output_field=DurationField(),
        ),
        allowed=ExpressionWrapper(
            # SQLite multiplies durations only by plain integer fields.
            ExpressionWrapper(F("visit_every_days"), output_field=IntegerField())
            * Value(datetime.timedelta(days=1)),
            output_field=DurationField(),
        ),
    )


def _overdue_q() -> Q:
    return Q(since_contact__gt=F("allowed"))


def four_facts_known_q(today: datetime.date, prefix: str = "") -> Q:
    """Households whose four facts are all present and verified within the last year."""
    since = today - datetime.timedelta(days=FACT_VALID_DAYS)
    condition = Q()
    for fact, verified in CareRecipient.FOUR_FACTS:
        condition &= ~Q(**{f"{prefix}{fact}": ""}) & Q(**{f"{prefix}{verified}__gte": since})
    return condition


def _households(organization):
    return CareRecipient.objects.filter(_in_subtree(organization), is_active=True)


def _requests(organization):
    return ServiceRequest.objects.filter(_in_subtree(organization))


def care_coverage(
    *, user, organization: PartyOrganization, today: datetime.date | None = None
) -> CareCoverage:
    """The people-served indicators and the average rating, in four aggregate queries."""
    _require_in_scope(user, organization)
    today = today or timezone.localdate()
    volunteers = (
        _party_member_volunteers(organization)
        .annotate(paired=_paired(OuterRef("user_id")))
        .aggregate(total=Count("pk"), missing=Count("pk", filter=Q(paired=False)))
    )
    visits = _with_last_contact(_active_pairings(organization), today).aggregate(
        total=Count("pk"), missing=Count("pk", filter=_overdue_q())
    )
    households = _households(organization).aggregate(
        total=Count("pk"), missing=Count("pk", filter=~four_facts_known_q(today))
    )
    requests = _requests(organization).aggregate(
        total=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        missing=Count("pk", filter=Q(status__in=OPEN_STATUSES, deadline__lt=today)),
        rated=Count("pk", filter=Q(rating_stars__isnull=False)),
        average=Avg("rating_stars"),
    )
    figures = {
        VOLUNTEERS_UNPAIRED: volunteers,
        HOUSEHOLDS_NOT_VISITED: visits,
        FOUR_FACTS: households,
        REQUESTS_OVERDUE: requests,
    }
    average = requests["average"]
    return CareCoverage(
        indicators=[
            Indicator(spec=spec, total=figures[key]["total"], missing=figures[key]["missing"])
            for key, spec in INDICATORS.items()
        ],
        rating=RatingSummary(
            count=requests["rated"],
            average=None if average is None else round(float(average), 2),
        ),
    )


def masked_name(name: str) -> str:
    """A household's name as lists show it: the first character, the rest starred.

    Not ``apps.core.crypto.mask(name, keep_start=1, keep_end=0)``: with ``keep_end=0`` that
    helper appends ``name[-0:]``, which is the whole name.
    """
    if not name:
        return ""
    return name[:1] + "*" * (len(name) - 1)


def mask_households(rows) -> list:
    """The pairing rows of one page, each with ``household``: its recipient's masked name."""
    rows = list(rows)
    for row in rows:
        row.household = masked_name(row.recipient.name)
    return rows


def care_drilldown(
    *, user, organization: PartyOrganization, indicator: str, today: datetime.date | None = None
) -> QuerySet:
    """The rows behind one care indicator, for the drill-down page and the export.

    People carry ``branch_name`` (like the member rows of the first section); pairings carry
    ``last_contact`` and their recipient's ``masked_name``; communities carry ``households``
    and ``known``; requests their community and team. Raises ``KeyError`` for an unknown key.
    """
    spec = INDICATORS[indicator]
    _require_in_scope(user, organization)
    today = today or timezone.localdate()
    if spec.key == VOLUNTEERS_UNPAIRED:
        membership = _party_member_volunteers(organization).filter(user=OuterRef("pk"))
        return (
            User.objects.filter(Exists(membership))
            .filter(~_paired(OuterRef("pk")))
            .annotate(branch_name=Subquery(membership.values("organization__name")[:1]))
            .order_by("branch_name", "real_name", "pk")
        )
    if spec.key == HOUSEHOLDS_NOT_VISITED:
        return (
            _with_last_contact(_active_pairings(organization), today)
            .filter(_overdue_q())
            .select_related("recipient__community", "volunteer")
            # Only the name of the household is decrypted, and only to be masked.
            .only(
                "started_on",
                "visit_every_days",
                "recipient__name",
                "recipient__community__name",
                "volunteer__real_name",
                "volunteer__username",
                "volunteer__phone",
            )
            .order_by("last_contact", "pk")
        )
    if spec.key == FOUR_FACTS:
        active = Q(care_recipients__is_active=True)
        known = active & four_facts_known_q(today, prefix="care_recipients__")
        return (
            Community.objects.filter(organization__path__startswith=organization.path)
            .annotate(
                households=Count("care_recipients", filter=active),
                known=Count("care_recipients", filter=known),
            )
            .filter(households__gt=F("known"))
            .select_related("organization")
            .order_by("district", "street", "name", "pk")
        )
    return (
        _requests(organization)
        .overdue(today)
        .select_related("community", "dispatched_team")
        .only(
            "tracking_number",
            "title",
            "status",
            "deadline",
            "community__name",
            "dispatched_team__name",
        )
        .order_by("deadline", "pk")
    )
