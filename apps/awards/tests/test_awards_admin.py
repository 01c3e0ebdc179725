"""The awards admin: the city sets categories and quotas; decisions go through the services,
their refusals shown as messages with nothing changed."""

import datetime

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from apps.awards.models import Award, AwardCategory, Nomination, NominationStatus, Quota
from apps.awards.tests.award_fixtures import (  # noqa: F401
    in_publicity,
    nominated,
    nworld,
    publicised,
)
from conftest import zh


def zh_client(client_as, user):
    client = client_as(user)
    client.cookies["django_language"] = "zh-hans"
    return client


def test_category_with_bad_numbers(nworld, client_as):  # noqa: F811
    client = zh_client(client_as, nworld.cast.city_admin)
    url = reverse("admin:awards_awardcategory_change", args=[nworld.tcat.pk])
    data = {
        "name": nworld.tcat.name,
        "kind": "team",
        "awarding_unit": "中共江城市委组织部",
        "min_points": "5",
        "min_average_rating": "6",
        "publicity_days": "0",
        "order": "0",
        "active": "on",
    }
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    text = response.content.decode()
    assert zh("Teams have no points: leave this empty.") in text
    assert response.context["adminform"].form.errors.keys() >= {
        "min_points",
        "min_average_rating",
        "publicity_days",
    }
    nworld.tcat.refresh_from_db()
    assert (nworld.tcat.publicity_days, nworld.tcat.min_points) == (5, None)


def test_a_second_quota_for_the_same_organisation(nworld, client_as):  # noqa: F811
    client = zh_client(client_as, nworld.cast.city_admin)
    response = client.post(
        reverse("admin:awards_quota_add"),
        {
            "assessment_year": nworld.assessment_year.pk,
            "category": nworld.vcat.pk,
            "organization": nworld.tree.branch.pk,
            "places": "3",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert (
        zh("%(organization)s already has a quota for “%(category)s” in %(year)s: change that one.")
        % {"organization": "桂园社区党支部", "category": nworld.vcat.name, "year": 2025}
        in response.content.decode()
    )
    assert Quota.objects.count() == 1


def _action(client, model, action, objects, note=""):
    return client.post(
        reverse(f"admin:awards_{model}_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "note": note},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


def test_publicity_and_decision_by_actions(nominated, client_as):  # noqa: F811
    w = nominated
    client = zh_client(client_as, w.cast.city_admin)
    _action(client, "nomination", "start_publicity", [w.nomination])
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.PUBLICITY
    response = _action(client, "nomination", "award", [w.nomination])
    assert (
        zh("The publicity runs until %(date)s: decide after it has ended.")
        % {"date": w.nomination.publicity_ends_on.isoformat()}
        in response.content.decode()
    )
    in_publicity(w, days_ago=7)
    response = _action(client, "nomination", "do_not_award", [w.nomination])
    assert zh("Give the reason for not awarding.") in response.content.decode()
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.PUBLICITY
    _action(client, "nomination", "award", [w.nomination])
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.AWARDED
    assert Award.objects.get().volunteer == w.cast.volunteer


def test_a_branch_secretary_has_no_actions(nominated, client_as):  # noqa: F811
    client = zh_client(client_as, nominated.cast.branch_secretary)
    _action(client, "nomination", "start_publicity", [nominated.nomination])
    nominated.nomination.refresh_from_db()
    assert nominated.nomination.status == NominationStatus.NOMINATED


def test_objections_resolved_by_action(publicised, client_as):  # noqa: F811
    from apps.awards.nominations import objection_create

    w = publicised
    in_publicity(w)
    objection = objection_create(
        actor=w.cast.outsider, nomination=w.nomination, text="该同志的服务记录需要核实。"
    )
    client = zh_client(client_as, w.cast.city_admin)
    response = _action(client, "objection", "uphold", [objection])
    assert zh("Write down the finding.") in response.content.decode()
    objection.refresh_from_db()
    assert objection.status == "open"
    _action(client, "objection", "uphold", [objection], note="情况属实")
    objection.refresh_from_db()
    assert (objection.status, objection.resolution) == ("upheld", "情况属实")


def test_manual_award_through_the_admin(nworld, client_as):  # noqa: F811
    client = zh_client(client_as, nworld.cast.city_admin)
    data = {
        "volunteer": nworld.cast.volunteer.pk,
        "name": "省级优秀志愿者",
        "awarded_on": (timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
        "awarding_unit": "省委组织部",
    }
    url = reverse("admin:awards_award_add")
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert zh("The date of the award cannot be in the future.") in response.content.decode()
    assert not Award.objects.exists()
    response = client.post(url, {**data, "awarded_on": "2025-12-05"})
    assert response.status_code == 302
    award = Award.objects.get()
    assert (award.name, award.created_by) == ("省级优秀志愿者", nworld.cast.city_admin)
    assert AwardCategory.objects.filter(pk=nworld.vcat.pk).exists()
    assert Nomination.objects.count() == 0
