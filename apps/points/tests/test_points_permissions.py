"""The points API and admin pages for every role, and their query budgets.

Rules are public to everyone signed in and changed by the city's administrators alone. The
ledger is read only: a volunteer sees their own entries, staff those of the volunteers whose
profile they see (the branch and the district above it, the residence community's staff);
nobody adds, changes or deletes an entry.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.tests.matrix import OUTSIDE_ADMIN, admin_url, case, parametrize, run_case
from apps.points import services
from apps.points.models import PointsEntry, PointsRule, RuleKind
from apps.points.tests.helpers import make_record, rule

ADMIN_MODELS = {PointsRule, PointsEntry}
API = {"api": True}
SIGNED_IN = {"default": 200, "anonymous": 403}
CITY_WRITES = {"default": 403, "anonymous": 403}


@pytest.fixture
def pworld(world, profile):
    world.rule = rule(RuleKind.HOUR, 1)
    world.spare_rule = rule(RuleKind.VISIT, 1)
    record = make_record(world.cast.volunteer, code="environment")
    world.entry = services.points_post_for_record(record=record)[0]
    return world


def obj(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def admin_obj(attribute):
    return lambda w: {"object_id": getattr(w, attribute).pk}


API_CASES = [
    case("api:points-rule-list", **SIGNED_IN, **API),
    case(
        "api:points-rule-list",
        "POST",
        data=lambda w: {"kind": "pledge", "points": "2", "effective_from": "2025-01-01"},
        **CITY_WRITES,
        city_admin=201,
        **API,
    ),
    case("api:points-rule-detail", kwargs=obj("rule"), **SIGNED_IN, **API),
    case(
        "api:points-rule-detail",
        "PATCH",
        kwargs=obj("spare_rule"),
        data=lambda w: {"note": "上门走访每次1分"},
        **CITY_WRITES,
        city_admin=200,
        **API,
    ),
    case("api:points-entry-list", **SIGNED_IN, **API),
    case(
        "api:points-entry-detail",
        kwargs=obj("entry"),
        default=200,
        anonymous=403,
        outsider=404,
        team_leader=404,  # leads a team, but does not see the volunteer's profile
        other_branch_secretary=404,
        **API,
    ),
]

RULE_PAGE = {"default": 200, **OUTSIDE_ADMIN}
CITY_ONLY_PAGE = {"default": 403, "city_admin": 200, **OUTSIDE_ADMIN}
ENTRY_PAGE = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
ADMIN_CASES = [
    case(admin_url(PointsRule, "changelist"), **RULE_PAGE),
    case(admin_url(PointsRule, "add"), **CITY_ONLY_PAGE),
    case(admin_url(PointsRule, "change"), kwargs=admin_obj("spare_rule"), **RULE_PAGE),
    case(admin_url(PointsRule, "delete"), kwargs=admin_obj("spare_rule"), **CITY_ONLY_PAGE),
    case(admin_url(PointsRule, "history"), kwargs=admin_obj("rule"), **RULE_PAGE),
    case(admin_url(PointsEntry, "changelist"), **RULE_PAGE),
    case(admin_url(PointsEntry, "add"), default=403, **OUTSIDE_ADMIN),
    case(admin_url(PointsEntry, "change"), kwargs=admin_obj("entry"), **ENTRY_PAGE),
    case(
        admin_url(PointsEntry, "delete"),
        kwargs=admin_obj("entry"),
        **{**ENTRY_PAGE, "default": 403},
    ),
    case(admin_url(PointsEntry, "history"), kwargs=admin_obj("entry"), **ENTRY_PAGE),
]

CASES = API_CASES + ADMIN_CASES


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_points_api_and_admin_permissions(c, role, pworld, client, api_as):
    run_case(c, role, pworld, client, api_as)


def test_a_volunteer_lists_only_their_own(pworld, api_as):
    other = make_record(pworld.cast.team_leader, code="environment")
    services.points_post_for_record(record=other)
    mine = api_as(pworld.cast.volunteer).get(reverse("api:points-entry-list")).json()
    assert [row["id"] for row in mine["results"]] == [pworld.entry.pk]
    everyone = api_as(pworld.cast.city_admin).get(
        reverse("api:points-entry-list"), {"year": 2026, "kind": "hour"}
    )
    assert everyone.json()["count"] == 2
    assert (
        api_as(pworld.cast.city_admin)
        .get(reverse("api:points-entry-list"), {"year": 2025})
        .json()["count"]
        == 0
    )


def test_a_bad_rule_is_refused_by_the_api_with_the_message(pworld, api_as):
    from conftest import zh

    response = api_as(pworld.cast.city_admin).post(
        reverse("api:points-rule-list"),
        {"kind": "hour", "points": "-1", "effective_from": "2025-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["points"] == [
        zh("Points cannot be below zero here: only deductions and ratings may be.")
    ]
    assert PointsRule.objects.count() == 2


def test_an_admin_change_to_a_rule_with_entries_saves_a_new_version(pworld, client_as):
    client = client_as(pworld.cast.city_admin)
    url = reverse(admin_url(PointsRule, "change"), kwargs={"object_id": pworld.rule.pk})
    form = {
        "kind": "hour",
        "category": "",
        "stars": "",
        "points": "2",
        "cap_per_day": "",
        "cap_per_activity": "",
        "cap_per_year": "",
        "effective_from": "2025-01-01",
        "effective_to": "",
        "note": "",
    }
    from conftest import zh

    refused = client.post(url, form)
    assert refused.status_code == 200
    assert (
        zh(
            "Points were already posted under this rule: "
            "say from which day the new version applies."
        )
        in refused.content.decode()
    )
    assert PointsRule.objects.count() == 2
    response = client.post(url, {**form, "effective_from": "2026-07-01"})
    assert response.status_code == 302
    new = PointsRule.objects.get(version=2)
    assert (new.points, new.effective_from) == (2, datetime.date(2026, 7, 1))


def _queries(run):
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


@pytest.mark.parametrize("role", ["volunteer", "city_admin", "branch_secretary"])
def test_entry_list_query_budget(pworld, api_as, client_as, role):
    user = getattr(pworld.cast, role)
    api = api_as(user)
    url = reverse("api:points-entry-list")

    def add(n):
        for i in range(n):
            services.points_adjust(
                actor=pworld.cast.city_admin,
                volunteer=pworld.cast.volunteer,
                points="0.01",
                reason=f"测试{i}",
                counted_on=datetime.date(2026, 1, 2 + i % 20),
            )

    rule(RuleKind.BONUS, 10)
    admin = client_as(user) if role != "volunteer" else None
    changelist = reverse(admin_url(PointsEntry, "changelist"))
    add(9)
    small = _queries(lambda: api.get(url))
    admin_small = admin and _queries(lambda: admin.get(changelist))
    add(90)
    # session, user, scope (roles, memberships), count, the page with volunteer and rule joined
    assert _queries(lambda: api.get(url)) == small
    if admin:
        api.get(url)  # the API client and the admin client share no session: sign in again
        admin = client_as(user)
        assert _queries(lambda: admin.get(changelist)) == admin_small
