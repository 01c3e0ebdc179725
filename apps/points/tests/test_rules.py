"""Rules: bad input refused with a clear message and nothing saved; versions instead of edits."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.models import AuditEntry
from apps.points import services
from apps.points.models import PointsEntry, PointsRule, RuleKind
from apps.points.tests.helpers import START, YEAR, category, make_record, rule
from conftest import zh

pytestmark = pytest.mark.django_db


def _refused(field, message, **kwargs):
    def check(actor):
        before = PointsRule.objects.count()
        with pytest.raises(ValidationError) as caught:
            services.points_rule_create(actor=actor, **kwargs)
        assert zh(message) in caught.value.message_dict[field]
        assert PointsRule.objects.count() == before

    return check


@pytest.mark.parametrize(
    "field,message,data",
    [
        (
            "points",
            "Points cannot be below zero here: only deductions and ratings may be.",
            {"kind": RuleKind.HOUR, "points": "-1"},
        ),
        ("points", "A deduction must be below zero.", {"kind": RuleKind.DEDUCTION, "points": 5}),
        (
            "effective_to",
            "A rule cannot end before it starts.",
            {"kind": RuleKind.VISIT, "points": 1, "effective_to": datetime.date(2024, 12, 31)},
        ),
        (
            "cap_per_day",
            "A cap must be more than zero.",
            {"kind": RuleKind.HOUR, "points": 1, "cap_per_day": 0},
        ),
        (
            "stars",
            "Say which rating (1 to 5 stars) this rule scores.",
            {"kind": RuleKind.RATING, "points": 1},
        ),
        ("points", "Enter a number.", {"kind": RuleKind.HOUR, "points": "abc"}),
    ],
)
def test_bad_rules_are_refused(city_admin, field, message, data):
    _refused(field, message, effective_from=START, **data)(city_admin)


def test_a_category_only_on_hour_and_activity_rules(city_admin):
    _refused(
        "category",
        "Only points per hour and per activity depend on the service category.",
        kind=RuleKind.VISIT,
        points=1,
        category=category("elderly"),
        effective_from=START,
    )(city_admin)


def test_overlapping_dates_for_one_rule_are_refused(city_admin):
    services.points_rule_create(
        actor=city_admin,
        kind=RuleKind.HOUR,
        points="1.2",
        category=category("elderly"),
        effective_from=START,
        effective_to=datetime.date(2025, 12, 31),
    )
    with pytest.raises(ValidationError) as caught:
        services.points_rule_create(
            actor=city_admin,
            kind=RuleKind.HOUR,
            points="1.5",
            category=category("elderly"),
            effective_from=datetime.date(2025, 6, 1),
        )
    message = caught.value.message_dict["effective_from"][0]
    assert zh("further notice") not in message and "2025-12-31" in message
    assert PointsRule.objects.count() == 1
    # Another category, or the default for all categories, is another rule.
    services.points_rule_create(
        actor=city_admin, kind=RuleKind.HOUR, points=1, effective_from=START
    )
    later = services.points_rule_create(
        actor=city_admin,
        kind=RuleKind.HOUR,
        points="1.5",
        category=category("elderly"),
        effective_from=datetime.date(2026, 1, 1),
    )
    assert later.version == 2


def test_ratings_may_be_negative(city_admin):
    made = services.points_rule_create(
        actor=city_admin, kind=RuleKind.RATING, stars=1, points=-1, effective_from=START
    )
    assert made.points == Decimal("-1")
    assert AuditEntry.objects.filter(action="points_rule.create").count() == 1


@pytest.mark.parametrize("role", ["branch_secretary", "inspector", "volunteer"])
def test_only_the_city_changes_rules(request, role):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.points_rule_create(
            actor=actor, kind=RuleKind.VISIT, points=1, effective_from=START
        )
    assert not PointsRule.objects.exists()


def test_a_rule_without_entries_is_edited_in_place(city_admin):
    made = rule(RuleKind.VISIT, 1)
    changed = services.points_rule_change(actor=city_admin, rule=made, points=2)
    assert changed.pk == made.pk and changed.points == 2 and changed.version == 1
    assert AuditEntry.objects.filter(action="points_rule.update").count() == 1


def test_a_rule_with_entries_changes_into_a_new_version(city_admin, volunteer):
    elderly = rule(RuleKind.HOUR, "1.2", category=category("elderly"))
    services.points_post_for_record(record=make_record(volunteer))
    with pytest.raises(ValidationError) as caught:
        services.points_rule_change(actor=city_admin, rule=elderly, points="1.5")
    assert (
        zh(
            "Points were already posted under this rule: "
            "say from which day the new version applies."
        )
        in caught.value.message_dict["effective_from"]
    )
    new = services.points_rule_change(
        actor=city_admin, rule=elderly, points="1.5", effective_from=datetime.date(YEAR, 7, 1)
    )
    elderly.refresh_from_db()
    assert (new.version, new.points, new.effective_from) == (
        2,
        Decimal("1.5"),
        datetime.date(YEAR, 7, 1),
    )
    assert elderly.points == Decimal("1.2")
    assert elderly.effective_to == datetime.date(YEAR, 6, 30)
    assert PointsEntry.objects.get().rule_version == 1
    # A record served later posts under the new version.
    services.points_post_for_record(
        record=make_record(volunteer, day=datetime.date(YEAR, 7, 2), minutes=60)
    )
    assert PointsEntry.objects.order_by("pk").last().points == Decimal("1.50")


def test_a_new_version_from_the_first_day_withdraws_the_old(city_admin, volunteer):
    elderly = rule(RuleKind.HOUR, "1.2", category=category("elderly"))
    services.points_post_for_record(record=make_record(volunteer))
    new = services.points_rule_change(
        actor=city_admin, rule=elderly, points="1.5", effective_from=START
    )
    elderly.refresh_from_db()
    assert elderly.withdrawn_at is not None and new.effective_from == START
    with pytest.raises(ValidationError):
        services.points_rule_change(
            actor=city_admin, rule=elderly, points="2", effective_from=START
        )


def test_ending_a_rule_after_its_entries_is_allowed(city_admin, volunteer):
    hour = rule(RuleKind.HOUR, 1)
    services.points_post_for_record(record=make_record(volunteer, code="environment"))
    with pytest.raises(ValidationError):
        services.points_rule_change(
            actor=city_admin, rule=hour, effective_to=datetime.date(YEAR, 5, 31)
        )
    ended = services.points_rule_change(
        actor=city_admin, rule=hour, effective_to=datetime.date(YEAR, 12, 31)
    )
    assert ended.pk == hour.pk and ended.effective_to == datetime.date(YEAR, 12, 31)
