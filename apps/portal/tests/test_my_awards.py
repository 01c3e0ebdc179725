"""“My awards”: the signed-in volunteer's awards (name, date, awarding unit) and nominations."""

import datetime

from django.urls import reverse

from apps.awards.models import Award, NominationStatus
from apps.dashboard.tests.award_fixtures import aworld, make_nomination, nworld  # noqa: F401
from conftest import zh


def test_the_empty_state(world, client_as):
    page = client_as(world.cast.volunteer).get(reverse("portal:award-list"))
    assert page.status_code == 200
    html = page.content.decode()
    empty = (
        "No awards yet. Awards the city gives you, and those entered from elsewhere, appear here."
    )
    assert zh(empty) in html
    assert zh("You have not been nominated for an award.") in html


def test_my_awards_and_nominations_and_nobody_elses(nworld, client_as):  # noqa: F811
    w = nworld
    nomination = make_nomination(w, w.cast.volunteer, status=NominationStatus.AWARDED)
    Award.objects.create(
        volunteer=w.cast.volunteer,
        name="优秀共产党员志愿者",
        awarded_on=datetime.date(2026, 3, 5),
        awarding_unit="中共江城市委组织部",
        nomination=nomination,
        category=w.category,
        assessment_year=w.assessment_year,
    )
    Award.objects.create(
        volunteer=w.cast.team_leader,
        name="十佳志愿者",
        awarded_on=datetime.date(2026, 1, 1),
        awarding_unit="东湖区委",
    )
    html = client_as(w.cast.volunteer).get(reverse("portal:award-list")).content.decode()
    assert "优秀共产党员志愿者" in html
    assert "2026-03-05 · 中共江城市委组织部" in html
    assert "十佳志愿者" not in html
    assert f'data-nomination="{nomination.pk}"' in html
    assert zh("Awarded") in html
    other = client_as(w.cast.team_leader).get(reverse("portal:award-list")).content.decode()
    assert "十佳志愿者" in other and "中共江城市委组织部" not in other
