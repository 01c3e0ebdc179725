"""The public publicity page (公示) and objections raised from it."""

import datetime
from html import unescape

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.awards.models import NominationStatus, Objection
from apps.dashboard.tests.award_fixtures import (  # noqa: F401
    aworld,
    make_nomination,
    nworld,
    pworld,
)
from conftest import zh

URL = "portal:publicity"


def objection_url(nomination):
    return reverse("portal:objection-create", kwargs={"pk": nomination.pk})


def test_anyone_reads_the_publicity_and_anonymous_users_are_asked_to_sign_in(pworld, client):  # noqa: F811
    w = pworld
    page = client.get(reverse(URL))
    assert page.status_code == 200
    html = page.content.decode()
    card = html.split(f'data-publicity="{w.nomination.pk}"')[1].split("</article>")[0]
    for text in ("王秀英", "桂园社区党支部", "常年坚持为社区老人送餐", w.category.name):
        assert text in card
    assert w.nomination.publicity_ends_on.isoformat() in card
    assert zh("Sign in to raise an objection") in card
    assert "data-objection-form" not in card


def test_a_signed_in_user_raises_an_objection(pworld, client_as):  # noqa: F811
    w = pworld
    client = client_as(w.cast.community_staff)
    assert "data-objection-form" in client.get(reverse(URL)).content.decode()
    response = client.post(
        objection_url(w.nomination),
        {"text": "该同志三月份的服务记录与实际不符。", "contact": "13800000000"},
    )
    assert response.status_code == 302
    objection = Objection.objects.get(submitted_by=w.cast.community_staff)
    assert (objection.nomination, objection.contact) == (w.nomination, "13800000000")
    page = client.get(response["Location"]).content.decode()
    assert zh("Thank you: your objection has been passed on and will be looked into.") in page


def test_a_short_objection_is_refused_with_the_message(pworld, client_as):  # noqa: F811
    w = pworld
    response = client_as(w.cast.volunteer).post(objection_url(w.nomination), {"text": "不属实"})
    assert response.status_code == 400
    message = zh("Describe the objection in at least %(count)s characters.") % {"count": 10}
    html = unescape(response.content.decode())
    assert message in html
    assert "不属实" in html  # kept in the form
    assert Objection.objects.count() == 1


def test_an_objection_after_the_period_is_refused(nworld, client_as):  # noqa: F811
    w = nworld
    nomination = make_nomination(w, w.cast.volunteer, status=NominationStatus.PUBLICITY)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    nomination.publicity_starts_on = yesterday - datetime.timedelta(days=6)
    nomination.publicity_ends_on = yesterday
    nomination.save()
    client = client_as(w.cast.outsider)
    assert f'data-publicity="{nomination.pk}"' not in client.get(reverse(URL)).content.decode()
    response = client.post(objection_url(nomination), {"text": "该同志的服务时长有虚报嫌疑。"})
    assert response.status_code == 400
    assert zh("Objections are taken only during the publicity period.") in unescape(
        response.content.decode()
    )
    assert not Objection.objects.exists()


def test_a_nomination_never_publicised_is_404(nworld, client_as):  # noqa: F811
    nomination = make_nomination(nworld, nworld.cast.volunteer)
    response = client_as(nworld.cast.outsider).post(
        objection_url(nomination), {"text": "该同志的服务时长有虚报嫌疑。"}
    )
    assert response.status_code == 404
    assert not Objection.objects.exists()


def test_the_publicity_page_costs_the_same_at_2_and_20_nominations(nworld, client_as):  # noqa: F811
    w = nworld
    for user in (None, w.cast.outsider):
        client = client_as(user)
        counts = []
        for size in (2, 18):
            for _index in range(size):
                make_nomination(w, UserFactory(), status=NominationStatus.PUBLICITY, days_left=3)
            client.get(reverse(URL))
            # (session, user when signed in) count and page of the nominations
            with CaptureQueriesContext(connection) as captured:
                assert client.get(reverse(URL)).status_code == 200
            counts.append(len(captured))
        assert counts[0] == counts[1], (user, counts)
