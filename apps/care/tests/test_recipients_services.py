"""Households, pairings and visits: the rules, and bad input refused with nothing saved."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.models import VolunteerStatus
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.volunteer_helpers import add_profile
from apps.care import selectors, services
from apps.care.models import CareRecipient, RecipientPairing, Visit
from apps.care.tests.recipients_fixtures import make_household, rworld  # noqa: F401
from apps.core.models import AuditEntry
from apps.core.scoping import get_user_scope

TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared with their English source (translations come later)."""
    with translation.override("en"):
        yield


def _message(error: ValidationError, field=None) -> str:
    with translation.override("en"):
        if field:
            return " ".join(str(m) for m in error.message_dict[field])
        return " ".join(str(m) for m in error.messages)


def _snapshot():
    return (
        CareRecipient.objects.count(),
        RecipientPairing.objects.count(),
        RecipientPairing.objects.active().count(),
        Visit.objects.count(),
        AuditEntry.objects.count(),
    )


# Households ----------------------------------------------------------------------------------


def test_create_and_verify(rworld):  # noqa: F811
    household = services.care_recipient_create(
        actor=rworld.cast.community_staff,
        community=rworld.community,
        name=" 测试老人丙 ",
        health="糖尿病（虚构）",
        correction_status="否",
    )
    assert household.name == "测试老人丙" and household.completeness == 0
    services.care_recipient_verify_fact(
        actor=rworld.cast.community_staff, recipient=household, fact="health"
    )
    household.refresh_from_db()
    assert household.health_verified_on == TODAY() and household.completeness == 1
    entry = AuditEntry.objects.get(action="care.recipient_create")
    assert "糖尿病" not in str(entry.details) and entry.details["facts"] == ["health"]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter the name of the person."),
        (
            {"health_verified_on": TODAY() + datetime.timedelta(days=1)},
            "health_verified_on",
            "A fact cannot be verified on a date in the future.",
        ),
        (
            {"correction_status": "社区矫正中"},
            "correction_status",
            "Only the community's staff and the city's staff may change this.",
        ),
    ],
)
def test_create_refuses_bad_input(rworld, kwargs, field, message):  # noqa: F811
    before = _snapshot()
    values = {"name": "测试老人丙", **kwargs}
    with pytest.raises(ValidationError) as caught:
        services.care_recipient_create(
            actor=rworld.cast.branch_secretary, community=rworld.community, **values
        )
    assert _message(caught.value, field) == message
    assert _snapshot() == before


def test_create_outside_own_communities_refused(rworld):  # noqa: F811
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.care_recipient_create(
            actor=rworld.cast.community_staff, community=rworld.other_community, name="测试"
        )
    assert _message(caught.value, "community") == (
        "You can only add households to communities you work for."
    )
    assert _snapshot() == before


def test_update_and_verify_refusals(rworld):  # noqa: F811
    household = rworld.household
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.care_recipient_update(actor=rworld.cast.inspector, recipient=household, health="x")
    with pytest.raises(ValidationError) as caught:
        services.care_recipient_update(
            actor=rworld.cast.community_staff,
            recipient=household,
            contact_verified_on=TODAY() + datetime.timedelta(days=3),
        )
    assert "contact_verified_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.care_recipient_verify_fact(
            actor=rworld.cast.community_staff, recipient=household, fact="income"
        )
    assert _message(caught.value, "fact") == "Choose one of the four facts."
    with pytest.raises(ValidationError) as caught:
        services.care_recipient_deactivate(
            actor=rworld.cast.community_staff, recipient=household, reason=" "
        )
    assert _message(caught.value, "reason") == "Say why the household leaves."
    assert _snapshot() == before
    household.refresh_from_db()
    assert household.health == "高血压（虚构）"


def test_deactivate_ends_pairings(rworld):  # noqa: F811
    services.care_recipient_deactivate(
        actor=rworld.cast.community_staff, recipient=rworld.household, reason="迁出"
    )
    rworld.pairing.refresh_from_db()
    assert rworld.pairing.ended_on == TODAY() and rworld.pairing.end_reason == "迁出"


def test_reveal_without_entitlement_is_refused(rworld):  # noqa: F811
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.care_recipient_reveal(
            user=rworld.cast.inspector, recipient=rworld.household, via="page"
        )
    assert _snapshot() == before


# Pairings ------------------------------------------------------------------------------------


def test_second_active_pairing_refused(rworld):  # noqa: F811
    second = make_household(rworld.community, name="测试老人丁")
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.recipient_pairing_create(
            actor=rworld.cast.community_staff, volunteer=rworld.cast.volunteer, recipient=second
        )
    assert _message(caught.value, "volunteer").startswith(
        "This volunteer is already paired with a household."
    )
    assert _snapshot() == before


def test_household_may_have_several_volunteers(rworld):  # noqa: F811
    pairing = services.recipient_pairing_create(
        actor=rworld.cast.community_staff,
        volunteer=rworld.spare,
        recipient=rworld.household,
        visit_every_days=14,
    )
    assert rworld.household.pairings.active().count() == 2
    assert pairing.created_by == rworld.cast.community_staff


@pytest.mark.parametrize("status", [VolunteerStatus.PENDING, VolunteerStatus.SUSPENDED, None])
def test_pairing_needs_an_active_volunteer(rworld, status):  # noqa: F811
    person = UserFactory()
    if status is not None:
        add_profile(person, status=status)
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.recipient_pairing_create(
            actor=rworld.cast.community_staff, volunteer=person, recipient=rworld.household
        )
    assert _message(caught.value, "volunteer") == (
        "Only a registered, active volunteer can be paired with a household."
    )
    assert _snapshot() == before


def test_pairing_by_someone_who_does_not_manage(rworld):  # noqa: F811
    before = _snapshot()
    for actor in (rworld.cast.inspector, rworld.cast.volunteer, rworld.cast.other_branch_secretary):
        with pytest.raises(PermissionDenied):
            services.recipient_pairing_create(
                actor=actor, volunteer=rworld.spare, recipient=rworld.household
            )
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("reason", "ended_on", "field", "message"),
    [
        ("", None, "reason", "Say why the pairing ends."),
        ("搬家", "future", "ended_on", "A pairing cannot end in the future."),
        ("搬家", "before", "ended_on", "A pairing cannot end before it starts."),
    ],
)
def test_end_refuses_bad_input(rworld, reason, ended_on, field, message):  # noqa: F811
    dates = {
        None: None,
        "future": TODAY() + datetime.timedelta(days=1),
        "before": rworld.pairing.started_on - datetime.timedelta(days=1),
    }
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.recipient_pairing_end(
            actor=rworld.cast.community_staff,
            pairing=rworld.pairing,
            reason=reason,
            ended_on=dates[ended_on],
        )
    assert _message(caught.value, field) == message
    assert _snapshot() == before


def test_handover_is_one_transaction(rworld):  # noqa: F811
    successor = services.recipient_pairing_handover(
        actor=rworld.cast.branch_secretary,
        pairing=rworld.pairing,
        new_volunteer=rworld.spare,
        reason="志愿者搬家",
    )
    rworld.pairing.refresh_from_db()
    assert rworld.pairing.ended_on == TODAY() and rworld.pairing.end_reason == "志愿者搬家"
    assert successor.volunteer == rworld.spare and successor.recipient == rworld.household
    assert successor.visit_every_days == rworld.pairing.visit_every_days


def test_failed_handover_leaves_the_old_pairing(rworld):  # noqa: F811
    busy = UserFactory()
    add_profile(busy)
    RecipientPairing.objects.create(
        volunteer=busy, recipient=make_household(rworld.community, name="测试老人戊")
    )
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.recipient_pairing_handover(
            actor=rworld.cast.community_staff,
            pairing=rworld.pairing,
            new_volunteer=busy,
            reason="志愿者搬家",
        )
    assert "new_volunteer" in caught.value.message_dict
    assert _snapshot() == before
    rworld.pairing.refresh_from_db()
    assert rworld.pairing.ended_on is None


# Visits --------------------------------------------------------------------------------------


def test_volunteer_records_a_visit(rworld):  # noqa: F811
    visit = services.visit_record(
        user=rworld.cast.volunteer,
        pairing=rworld.pairing,
        visited_on=TODAY(),
        duration_minutes=40,
        kind="call",
        notes=" 电话问候 ",
    )
    assert visit.notes == "电话问候" and visit.created_by == rworld.cast.volunteer


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (1, "A visit cannot be dated in the future."),
        (-41, "A visit cannot be dated before the pairing started."),
    ],
)
def test_visit_dates_refused(rworld, days, message):  # noqa: F811
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.visit_record(
            user=rworld.cast.volunteer,
            pairing=rworld.pairing,
            visited_on=TODAY() + datetime.timedelta(days=days),
            duration_minutes=30,
        )
    assert _message(caught.value, "visited_on") == message
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["team_leader", "inspector", "outsider"])
def test_visit_on_someone_elses_pairing_refused(rworld, role):  # noqa: F811
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.visit_record(
            user=getattr(rworld.cast, role),
            pairing=rworld.pairing,
            visited_on=TODAY(),
            duration_minutes=30,
        )
    assert _message(caught.value, "pairing") == "You can only record visits for your own pairing."
    assert _snapshot() == before


def test_visit_on_ended_pairing_and_bad_duration_refused(rworld):  # noqa: F811
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        services.visit_record(
            user=rworld.cast.volunteer,
            pairing=rworld.pairing,
            visited_on=TODAY(),
            duration_minutes=0,
        )
    assert "duration_minutes" in caught.value.message_dict
    RecipientPairing.objects.filter(pk=rworld.pairing.pk).update(ended_on=TODAY(), end_reason="x")
    rworld.pairing.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.visit_record(
            user=rworld.cast.volunteer,
            pairing=rworld.pairing,
            visited_on=TODAY(),
            duration_minutes=30,
        )
    assert _message(caught.value, "pairing") == (
        "This pairing has ended; visits can no longer be recorded."
    )
    assert _snapshot()[3] == before[3]


# Selectors -----------------------------------------------------------------------------------


def test_overdue_pairings(rworld):  # noqa: F811
    staff = rworld.cast.community_staff
    assert list(selectors.pairing_overdue_list(user=staff)) == [rworld.pairing]
    overdue = selectors.pairing_overdue_list(user=staff).get()
    assert overdue.due_on == rworld.visit.visited_on + datetime.timedelta(days=30)
    services.visit_record(
        user=rworld.cast.volunteer, pairing=rworld.pairing, visited_on=TODAY(), duration_minutes=5
    )
    assert not selectors.pairing_overdue_list(user=staff).exists()
    # Without visits the start counts: a new pairing is not overdue yet.
    services.recipient_pairing_create(
        actor=staff, volunteer=rworld.spare, recipient=rworld.household, visit_every_days=7
    )
    assert not selectors.pairing_overdue_list(user=staff).exists()
    assert not selectors.pairing_overdue_list(user=rworld.cast.other_branch_secretary).exists()


def test_four_facts_rate(rworld):  # noqa: F811
    assert selectors.community_four_facts_rate(community=rworld.community) == 1.0
    stale = TODAY() - datetime.timedelta(days=selectors.FACT_FRESH_DAYS + 1)
    make_household(rworld.community, name="测试老人己", contact_verified_on=stale)
    make_household(rworld.community, name="测试老人庚", health="")
    assert selectors.community_four_facts_rate(community=rworld.community) == pytest.approx(1 / 3)


def _grow_pairings(community, rows):
    for n in range(rows):
        household = make_household(community, name=f"测试{n}")
        volunteer = UserFactory()
        RecipientPairing.objects.create(
            volunteer=volunteer,
            recipient=household,
            started_on=TODAY() - datetime.timedelta(days=60),
        )


def test_overdue_list_queries_constant(rworld):  # noqa: F811
    def count():
        with CaptureQueriesContext(connection) as queries:
            rows = list(selectors.pairing_overdue_list(user=rworld.cast.community_staff))
        return len(queries), len(rows)

    get_user_scope(rworld.cast.community_staff)  # computed once per request, not per row
    _grow_pairings(rworld.community, 10)
    small, n_small = count()
    _grow_pairings(rworld.community, 90)
    large, n_large = count()
    assert (n_small, n_large) == (11, 101)
    # one query: the pairings the staff reach, last visits aggregated in SQL
    assert small == large == 1, (small, large)


def test_export_rows_queries_constant(rworld):  # noqa: F811
    def count():
        with CaptureQueriesContext(connection) as queries:
            rows = list(selectors.care_recipient_export_rows(user=rworld.cast.branch_secretary))
        return len(queries), rows

    get_user_scope(rworld.cast.branch_secretary)
    _grow_pairings(rworld.community, 10)
    small, rows = count()
    _grow_pairings(rworld.community, 90)
    large, more = count()
    assert small == large == 2, (small, large)  # households with entitlement, categories
    assert len(more) == 101
    # The secretary reaches the branch's paired volunteer only: whole fields for that one.
    assert {r.pk for r, whole in more if whole} == {rworld.household.pk}


def test_list_page_query_url(rworld):  # noqa: F811
    assert reverse("portal:care-recipient-list") == "/care/households/"
