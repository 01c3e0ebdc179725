"""The awards workflow through the API: the service's refusals come back as 400 with the
message, and nothing is saved; lists cost the same number of queries whatever their size."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.awards.models import Award, Nomination, NominationStatus, Objection
from apps.awards.nominations import award_create
from apps.awards.tests.award_fixtures import (  # noqa: F401
    DEEDS,
    in_publicity,
    nominated,
    nworld,
    publicised,
)
from apps.awards.tests.conftest import YEAR
from conftest import zh

NOMINATIONS = reverse("api:nomination-list")


def body(w, **overrides):
    return {
        "year": YEAR,
        "category": w.vcat.pk,
        "volunteer": w.cast.volunteer.pk,
        "deeds": DEEDS,
        **overrides,
    }


def post(api, url, data):
    return api.post(url, data, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_a_branch_nominates_its_member(nworld, api_as):  # noqa: F811
    response = post(api_as(nworld.cast.branch_secretary), NOMINATIONS, body(nworld))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["candidate_name"], data["hours"], data["status"]) == (
        "王秀英",
        "3.00",
        "nominated",
    )
    assert Nomination.objects.get().organization == nworld.tree.branch


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"deeds": "  "}, "Describe the candidate's main deeds."),
        ({"volunteer": None}, "Choose either a volunteer or a team."),
    ],
    ids=["empty-deeds", "no-candidate"],
)
def test_bad_nominations_are_refused(nworld, api_as, overrides, message):  # noqa: F811
    response = post(api_as(nworld.cast.branch_secretary), NOMINATIONS, body(nworld, **overrides))
    assert response.status_code == 400
    assert zh(message) in str(response.json())
    assert not Nomination.objects.exists()


def test_over_quota_and_ineligible(nworld, api_as):  # noqa: F811
    api = api_as(nworld.cast.branch_secretary)
    nworld.quota.places = 0
    nworld.quota.save()
    response = post(api, NOMINATIONS, body(nworld))
    assert response.status_code == 400
    assert "桂园社区党支部" in str(response.json())
    response = post(api, NOMINATIONS, body(nworld, volunteer=nworld.cast.team_leader.pk))
    assert response.status_code == 400
    assert zh("Average rating %(rating)s; at least %(minimum)s is required.") % {
        "rating": "3.00",
        "minimum": "4.00",
    } in str(response.json())
    assert not Nomination.objects.exists()


def test_another_branch_cannot_reach_our_volunteer(nworld, api_as):  # noqa: F811
    response = post(api_as(nworld.cast.other_branch_secretary), NOMINATIONS, body(nworld))
    assert response.status_code == 404
    assert not Nomination.objects.exists()


def test_objections_in_and_out_of_the_period(publicised, api_as):  # noqa: F811
    w = publicised
    api = api_as(w.cast.outsider)
    url = reverse("api:objection-list")
    response = post(api, url, {"nomination": w.nomination.pk, "text": "该同志的事迹与实际不符。"})
    assert response.status_code == 400  # the publicity of 2026-03-01…07 is not today
    assert zh("Objections are taken only during the publicity period.") in str(response.json())
    in_publicity(w)
    response = post(api, url, {"nomination": w.nomination.pk, "text": "太短"})
    assert response.status_code == 400
    assert zh("Describe the objection in at least %(count)s characters.") % {"count": 10} in str(
        response.json()
    )
    assert not Objection.objects.exists()
    response = post(api, url, {"nomination": w.nomination.pk, "text": "该同志的事迹与实际不符。"})
    assert response.status_code == 201


def test_decide_and_the_award_on_the_record(publicised, api_as):  # noqa: F811
    w = publicised
    in_publicity(w, days_ago=7)
    decide = reverse("api:nomination-decide", kwargs={"pk": w.nomination.pk})
    assert post(api_as(w.cast.branch_secretary), decide, {"awarded": True}).status_code == 403
    response = post(api_as(w.cast.city_admin), decide, {"awarded": False, "note": ""})
    assert response.status_code == 400
    assert zh("Give the reason for not awarding.") in str(response.json())
    response = post(api_as(w.cast.city_admin), decide, {"awarded": True})
    assert response.status_code == 200
    assert response.json()["status"] == NominationStatus.AWARDED
    mine = api_as(w.cast.volunteer).get(reverse("api:award-list"), {"mine": 1}).json()["results"]
    assert [(a["name"], a["awarding_unit"], a["awarded_on"]) for a in mine] == [
        ("优秀党员志愿者（测试）", "中共江城市委组织部", timezone.localdate().isoformat())
    ]


def _grow(w, rows):
    for _index in range(rows):
        award_create(
            actor=w.cast.city_admin,
            name="区级优秀志愿者",
            awarded_on=datetime.date(2025, 12, 5),
            awarding_unit="东湖区委组织部",
            volunteer=w.cast.volunteer,
        )


def _count(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url_name", ["api:award-list", "api:nomination-list", "api:objection-list"]
)
def test_list_queries_stay_constant(nominated, api_as, url_name):  # noqa: F811
    w = nominated
    api = api_as(w.cast.branch_secretary)
    url = reverse(url_name)
    _grow(w, 3)
    small = _count(api, url)
    _grow(w, 30)
    # more nominations: the team and more members of the branch
    w.vcat.min_average_rating = None
    w.vcat.save()
    Nomination.objects.create(
        assessment_year=w.assessment_year,
        category=w.tcat,
        organization=w.tree.branch,
        team=w.team,
        deeds=DEEDS,
    )
    assert _count(api, url) == small
    assert Award.objects.count() == 33
