"""Reads with rules on households, pairings and visits.

Who sees a household's personal fields whole is decided here and nowhere else
(:func:`sensitive_fields_for`); lists are always masked.
"""

from __future__ import annotations

import datetime
import re

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.communities.models import CommunityStaff
from apps.core.scoping import get_user_scope
from apps.organizations.models import Membership, paths_q

from ..models import CareRecipient, RecipientPairing, Visit

__all__ = [
    "FACT_FRESH_DAYS",
    "GENERAL_FIELDS",
    "STAFF_ONLY_FIELDS",
    "care_recipient_list",
    "care_recipient_present",
    "care_recipient_export_rows",
    "community_four_facts_rate",
    "mask_value",
    "pairing_overdue_list",
    "recipient_pairing_current",
    "recipient_pairing_list",
    "sensitive_fields_for",
    "visit_list",
]

#: A fact verified longer ago than this no longer counts towards the 四清率 (no setting yet).
FACT_FRESH_DAYS = 365

#: Fields the paired volunteer, their secretary, community and city staff see whole.
GENERAL_FIELDS = frozenset({"name", "family_situation", "health", "address", "contact"})
#: Fields only the community's staff and the city's administrators see whole.
STAFF_ONLY_FIELDS = frozenset({"correction_status"})
ALL_FIELDS = GENERAL_FIELDS | STAFF_ONLY_FIELDS

TEXT_MASK = "＊＊＊"
_PHONE = re.compile(r"\d{7,}")


def mask_value(field: str, value: str) -> str:
    """The masked form of one sensitive value: never enough to identify anyone."""
    if field == "correction_status":
        # Even whether someone is under community correction is protected: always the same.
        return TEXT_MASK
    if not value:
        return ""
    if field == "name":
        return value[0] + "*" * max(len(value) - 1, 1)
    if field == "contact":
        phones = _PHONE.findall(value)
        if phones:
            return " ".join(f"{p[:3]}{'*' * (len(p) - 7)}{p[-4:]}" for p in phones)
    return TEXT_MASK


class AddDays(Func):
    """``date + n days`` in SQL, for PostgreSQL (date + integer) and SQLite (date modifiers)."""

    output_field = DateField()
    arity = 2
    template = "(%(expressions)s)"
    arg_joiner = " + "

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="date(%(expressions)s || ' days')",
            arg_joiner=", '+' || ",
            **extra_context,
        )


# Entitlement ---------------------------------------------------------------------------------


def _staffed_communities(user):
    return CommunityStaff.objects.active().filter(user=user).values("community_id")


def _members_pairings(user):
    """Active pairings of volunteers whose party membership lies in the user's managed subtree."""
    scope = get_user_scope(user)
    members = Membership.objects.active().filter(paths_q("organization__path", scope.manage_paths))
    return RecipientPairing.objects.active().filter(volunteer__in=members.values("user_id"))


def _annotate_entitlement(queryset, user):
    """Annotate each recipient with what makes the user entitled to its whole fields."""
    scope = get_user_scope(user)
    if scope.is_city_admin:
        return queryset.annotate(
            entitled_staff=Value(True, output_field=BooleanField()),
            entitled_general=Value(True, output_field=BooleanField()),
        )
    staff = Q(community__in=_staffed_communities(user))
    general = staff | Exists(
        RecipientPairing.objects.active().filter(recipient=OuterRef("pk"), volunteer=user)
    )
    if scope.manage_paths:
        general |= Exists(_members_pairings(user).filter(recipient=OuterRef("pk")))
    return queryset.annotate(
        entitled_staff=ExpressionWrapper(staff, output_field=BooleanField()),
        entitled_general=ExpressionWrapper(general, output_field=BooleanField()),
    )


def _fields_from_flags(*, staff: bool, general: bool) -> frozenset[str]:
    if staff:
        return ALL_FIELDS
    if general:
        return GENERAL_FIELDS
    return frozenset()


def sensitive_fields_for(*, user, recipient: CareRecipient) -> frozenset[str]:
    """The sensitive fields of ``recipient`` that ``user`` may see whole (empty: masked only).

    The paired volunteer, the community's staff, the paired volunteer's branch secretary (a
    managing role over their active party membership) and the city's administrators see the
    personal fields; community-correction status only the community's and the city's staff.
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    row = (
        _annotate_entitlement(CareRecipient.objects.filter(pk=recipient.pk), user)
        .values("entitled_staff", "entitled_general")
        .first()
    )
    if row is None:
        return frozenset()
    return _fields_from_flags(staff=row["entitled_staff"], general=row["entitled_general"])


def care_recipient_present(
    *, recipient: CareRecipient, whole_fields: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The sensitive fields of a recipient for display: whole where given, masked otherwise."""
    return {
        field: (
            getattr(recipient, field)
            if field in whole_fields
            else mask_value(field, getattr(recipient, field))
        )
        for field in CareRecipient.SENSITIVE_FIELDS
    }


# Lists ---------------------------------------------------------------------------------------


def care_recipient_list(
    *,
    user,
    community=None,
    category=None,
    active_only: bool = True,
    manageable_only: bool = False,
):
    """Households the user reaches, for list pages and the API (show them masked)."""
    base = CareRecipient.objects.all()
    queryset = base.manageable_by(user) if manageable_only else base.visible_to(user)
    if active_only:
        queryset = queryset.filter(is_active=True)
    if community is not None:
        queryset = queryset.filter(community=community)
    if category is not None:
        queryset = queryset.filter(categories=category)
    return (
        queryset.select_related("community")
        .prefetch_related("categories")
        .annotate(active_pairing_count=Count("pairings", filter=Q(pairings__ended_on__isnull=True)))
        .order_by("community__name", "pk")
    )


def care_recipient_export_rows(*, user):
    """Households the user manages, each with the fields the user may see whole.

    Yields ``(recipient, whole_fields)``; three queries however many rows.
    """
    queryset = _annotate_entitlement(
        CareRecipient.objects.manageable_by(user)
        .filter(is_active=True)
        .select_related("community")
        .prefetch_related("categories")
        .order_by("community__name", "pk"),
        user,
    )
    for recipient in queryset:
        yield (
            recipient,
            _fields_from_flags(staff=recipient.entitled_staff, general=recipient.entitled_general),
        )


def community_four_facts_rate(*, community, today: datetime.date | None = None) -> float | None:
    """四清率: the share of active households whose four facts are known and freshly verified.

    The facts are encrypted, so "known" is read in Python; None when there is no household.
    """
    today = today or timezone.localdate()
    fresh_since = today - datetime.timedelta(days=FACT_FRESH_DAYS)
    fields = [name for pair in CareRecipient.FOUR_FACTS for name in pair]
    households = list(
        CareRecipient.objects.filter(community=community, is_active=True).only(*fields)
    )
    if not households:
        return None
    clear = sum(
        1
        for household in households
        if all(
            getattr(household, fact)
            and (getattr(household, verified) or datetime.date.min) >= fresh_since
            for fact, verified in CareRecipient.FOUR_FACTS
        )
    )
    return clear / len(households)


def recipient_pairing_list(*, user, recipient: CareRecipient | None = None, active_only=False):
    queryset = RecipientPairing.objects.visible_to(user).select_related(
        "volunteer", "recipient", "recipient__community"
    )
    if recipient is not None:
        queryset = queryset.filter(recipient=recipient)
    if active_only:
        queryset = queryset.active()
    return queryset.annotate(last_visited_on=Max("visits__visited_on")).order_by(
        "ended_on", "-started_on", "pk"
    )


def recipient_pairing_current(*, user) -> RecipientPairing | None:
    """The user's own active pairing, if any."""
    return (
        RecipientPairing.objects.active()
        .filter(volunteer=user)
        .select_related("recipient", "recipient__community")
        .first()
    )


def pairing_overdue_list(*, user, today: datetime.date | None = None):
    """Active pairings the user reaches whose last visit (or start) is older than their rhythm."""
    today = today or timezone.localdate()
    return (
        RecipientPairing.objects.visible_to(user)
        .active()
        .select_related("volunteer", "recipient", "recipient__community")
        .annotate(last_visited_on=Max("visits__visited_on"))
        .annotate(due_on=AddDays(Coalesce("last_visited_on", "started_on"), F("visit_every_days")))
        .filter(due_on__lt=today)
        .order_by("due_on", "pk")
    )


def visit_list(*, user, pairing: RecipientPairing | None = None):
    queryset = Visit.objects.visible_to(user).select_related("pairing", "created_by")
    if pairing is not None:
        queryset = queryset.filter(pairing=pairing)
    return queryset.order_by("-visited_on", "-pk")
