"""The awards workflow on the dashboard: candidates and quotas, nominating, the publicity, the
objections and the decision; every refusal shown with the service's message, nothing saved."""

import datetime
from html import unescape

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.awards import rollup
from apps.awards.models import (
    Award,
    Nomination,
    NominationStatus,
    Objection,
    ObjectionStatus,
    Quota,
)
from apps.awards.tests.conftest import NOW, YEAR
from apps.dashboard.tests.award_fixtures import (  # noqa: F401
    aworld,
    make_nomination,
    nworld,
    pworld,
)
from apps.organizations.tests.factories import MembershipFactory
from conftest import zh


def category_url(w, organization=None):
    url = reverse("dashboard:award-category", kwargs={"year": YEAR, "category_pk": w.category.pk})
    return f"{url}?organization={organization.pk}" if organization else url


def create_url(w):
    return reverse(
        "dashboard:nomination-create", kwargs={"year": YEAR, "category_pk": w.category.pk}
    )


def nominate(client, w, volunteer, deeds="多年坚持为独居老人送餐，风雨无阻。"):
    return client.post(
        create_url(w),
        {"volunteer": volunteer.pk, "deeds": deeds, "organization": w.tree.branch.pk},
    )


def test_the_index_counts_each_year_and_category(nworld, client_as):  # noqa: F811
    w = nworld
    make_nomination(w, w.cast.volunteer)
    make_nomination(w, w.cast.team_leader, status=NominationStatus.PUBLICITY, days_left=3)
    page = client_as(w.cast.branch_secretary).get(reverse("dashboard:award-index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-award-year="{YEAR}"' in html
    row = html.split(f'data-category="{w.category.pk}"')[1].split("</tr>")[0]
    assert 'data-count="nominated">1<' in row
    assert 'data-count="publicity">1<' in row
    assert 'data-count="awarded">0<' in row
    assert category_url(w) in html


def test_the_category_page_lists_candidates_eligible_first_with_reasons(nworld, client_as):  # noqa: F811
    w = nworld
    Quota.objects.create(
        assessment_year=w.assessment_year, category=w.category, organization=w.tree.street, places=2
    )
    page = client_as(w.cast.branch_secretary).get(category_url(w))
    assert page.status_code == 200
    html = page.content.decode()
    # The branch secretary's highest organisation is chosen by default.
    assert f'<option value="{w.tree.branch.pk}" selected>' in html
    rows = html.split("data-candidate=")[1:]
    assert rows[0].startswith(f'"v{w.cast.volunteer.pk}"')
    assert "data-eligible" in rows[0] and "data-nominate-form" in rows[0]
    leader = next(row for row in rows if row.startswith(f'"v{w.cast.team_leader.pk}"'))
    expected = zh("Average rating %(rating)s; at least %(minimum)s is required.") % {
        "rating": "3.00",
        "minimum": "4.00",
    }
    assert expected in leader and "data-nominate-form" not in leader
    secretary = next(row for row in rows if row.startswith(f'"v{w.cast.branch_secretary.pk}"'))
    assert zh("No rating in %(year)s.") % {"year": YEAR} in secretary
    quota = html.split(f'data-quota="{w.tree.street.pk}"')[1].split("</tr>")[0]
    assert "data-left>2<" in quota


def test_the_inspector_sees_candidates_but_no_nominate_button(nworld, client_as):  # noqa: F811
    page = client_as(nworld.cast.inspector).get(category_url(nworld, nworld.tree.branch))
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-eligible" in html
    assert "data-nominate-form" not in html
    assert "data-publicity-form" not in html


def test_an_organisation_outside_the_scope_is_404(nworld, client_as):  # noqa: F811
    client = client_as(nworld.cast.branch_secretary)
    assert client.get(category_url(nworld, nworld.tree.other_branch)).status_code == 404
    assert client.get(category_url(nworld) + "?organization=x").status_code == 404


def test_a_branch_secretary_nominates_an_eligible_volunteer(nworld, client_as):  # noqa: F811
    w = nworld
    client = client_as(w.cast.branch_secretary)
    response = nominate(client, w, w.cast.volunteer)
    assert response.status_code == 302
    assert response["Location"] == category_url(w, w.tree.branch)
    nomination = Nomination.objects.get()
    assert (nomination.volunteer, nomination.organization, nomination.status) == (
        w.cast.volunteer,
        w.tree.branch,
        NominationStatus.NOMINATED,
    )
    assert nomination.deeds == "多年坚持为独居老人送餐，风雨无阻。"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert zh("%(name)s has been nominated.") % {"name": "王秀英"} in html
    assert f'data-nomination="{nomination.pk}"' in html


def _refused(response, message):
    assert response.status_code == 400
    assert message in unescape(response.content.decode())


def test_an_ineligible_candidate_is_refused_with_the_reasons(nworld, client_as):  # noqa: F811
    w = nworld
    response = nominate(client_as(w.cast.branch_secretary), w, w.cast.team_leader)
    reason = zh("Average rating %(rating)s; at least %(minimum)s is required.") % {
        "rating": "3.00",
        "minimum": "4.00",
    }
    _refused(response, reason)
    assert not Nomination.objects.exists()


def test_empty_deeds_are_refused(nworld, client_as):  # noqa: F811
    response = nominate(
        client_as(nworld.cast.branch_secretary), nworld, nworld.cast.volunteer, "  "
    )
    _refused(response, zh("Describe the candidate's main deeds."))
    assert not Nomination.objects.exists()


def test_a_second_nomination_of_the_same_volunteer_is_refused(nworld, client_as):  # noqa: F811
    w = nworld
    first = make_nomination(w, w.cast.volunteer)
    response = nominate(client_as(w.cast.branch_secretary), w, w.cast.volunteer)
    message = zh("Already nominated for “%(category)s” in %(year)s.") % {
        "category": w.category.name,
        "year": YEAR,
    }
    _refused(response, message)
    assert list(Nomination.objects.all()) == [first]


def test_a_nomination_over_the_quota_is_refused(nworld, client_as):  # noqa: F811
    w = nworld
    Quota.objects.create(
        assessment_year=w.assessment_year, category=w.category, organization=w.tree.street, places=1
    )
    other = make_nomination(w, w.cast.team_leader, organization=w.tree.sibling_branch)
    response = nominate(client_as(w.cast.branch_secretary), w, w.cast.volunteer)
    message = zh(
        "%(organization)s has used its %(places)s place for “%(category)s” in %(year)s."
    ) % {"organization": "东湖街道党工委", "places": 1, "category": w.category.name, "year": YEAR}
    _refused(response, message)
    assert list(Nomination.objects.all()) == [other]


def test_a_volunteer_outside_the_scope_is_404(nworld, client_as):  # noqa: F811
    w = nworld
    response = nominate(client_as(w.cast.other_branch_secretary), w, w.cast.volunteer)
    assert response.status_code == 404
    assert not Nomination.objects.exists()


def test_publicity_days_out_of_range_are_refused(nworld, client_as):  # noqa: F811
    w = nworld
    nomination = make_nomination(w, w.cast.volunteer)
    response = client_as(w.cast.city_admin).post(
        reverse("dashboard:publicity-start", kwargs={"year": YEAR, "category_pk": w.category.pk}),
        {"days": "61", "organization": w.tree.city.pk},
    )
    _refused(response, zh("The publicity period lasts from 1 to 60 days."))
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.NOMINATED
    assert nomination.publicity_starts_on is None


def test_withdrawing_needs_a_reason(pworld, client_as):  # noqa: F811
    w = pworld
    url = reverse("dashboard:nomination-withdraw", kwargs={"pk": w.nomination.pk})
    client = client_as(w.cast.branch_secretary)
    _refused(client.post(url, {"reason": " "}), zh("Give the reason for withdrawing."))
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.PUBLICITY
    response = client.post(url, {"reason": "本人申请退出评选"})
    assert response.status_code == 302
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.WITHDRAWN


def test_deciding_during_the_publicity_is_refused(pworld, client_as):  # noqa: F811
    w = pworld
    Objection.objects.all().delete()
    response = client_as(w.cast.city_admin).post(
        reverse("dashboard:nomination-decide", kwargs={"pk": w.nomination.pk}), {"awarded": "1"}
    )
    message = zh("The publicity runs until %(date)s: decide after it has ended.") % {
        "date": w.nomination.publicity_ends_on.isoformat()
    }
    _refused(response, message)
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.PUBLICITY
    assert not Award.objects.exists()


def test_a_decision_without_a_choice_is_refused(pworld, client_as):  # noqa: F811
    w = pworld
    response = client_as(w.cast.city_admin).post(
        reverse("dashboard:nomination-decide", kwargs={"pk": w.nomination.pk}), {"awarded": "2"}
    )
    assert response.status_code == 400
    assert "data-form-errors" in response.content.decode()
    assert not Award.objects.exists()


def test_resolving_needs_a_finding(pworld, client_as):  # noqa: F811
    w = pworld
    url = reverse("dashboard:objection-resolve", kwargs={"pk": w.objection.pk})
    _refused(
        client_as(w.cast.city_admin).post(url, {"upheld": "0", "resolution": ""}),
        zh("Write down the finding."),
    )
    w.objection.refresh_from_db()
    assert w.objection.status == ObjectionStatus.OPEN


def test_the_detail_page_shows_each_role_its_forms(pworld, client_as):  # noqa: F811
    w = pworld
    url = reverse("dashboard:nomination-detail", kwargs={"pk": w.nomination.pk})
    city = client_as(w.cast.city_admin).get(url).content.decode()
    assert "data-resolve-form" in city and "data-decide-form" in city
    assert "该同志的服务时长有虚报嫌疑" in city and "常年坚持为社区老人送餐" in city
    secretary = client_as(w.cast.branch_secretary).get(url).content.decode()
    assert "data-withdraw-form" in secretary
    assert "data-resolve-form" not in secretary and "data-decide-form" not in secretary
    inspector = client_as(w.cast.inspector).get(url).content.decode()
    assert "<form" not in inspector.split("<main")[1].split("</main>")[0]


def test_the_whole_round_through_the_pages(nworld, client_as):  # noqa: F811
    w = nworld
    assert nominate(client_as(w.cast.branch_secretary), w, w.cast.volunteer).status_code == 302
    nomination = Nomination.objects.get()
    city = client_as(w.cast.city_admin)
    response = city.post(
        reverse("dashboard:publicity-start", kwargs={"year": YEAR, "category_pk": w.category.pk}),
        {"organization": w.tree.city.pk},
    )
    assert response.status_code == 302
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.PUBLICITY
    assert nomination.publicity_starts_on == timezone.localdate()
    objection = Objection.objects.create(
        nomination=nomination, submitted_by=w.cast.outsider, text="请核实服务记录是否属实。"
    )
    response = city.post(
        reverse("dashboard:objection-resolve", kwargs={"pk": objection.pk}),
        {"upheld": "0", "resolution": "经核实，服务记录属实。"},
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED
    ended = timezone.localdate() - datetime.timedelta(days=1)
    Nomination.objects.filter(pk=nomination.pk).update(
        publicity_starts_on=ended - datetime.timedelta(days=6), publicity_ends_on=ended
    )
    response = city.post(
        reverse("dashboard:nomination-decide", kwargs={"pk": nomination.pk}), {"awarded": "1"}
    )
    assert response.status_code == 302
    award = Award.objects.get()
    assert (award.volunteer, award.name, award.awarding_unit) == (
        w.cast.volunteer,
        w.category.name,
        "中共江城市委组织部",
    )
    page = city.get(response["Location"]).content.decode()
    assert zh("The decision has been recorded.") in page
    assert "data-award" in page


def test_the_category_page_costs_the_same_at_10_and_100_members(nworld, client_as):  # noqa: F811
    w = nworld
    client = client_as(w.cast.city_admin)
    url = category_url(w, w.tree.street)
    counts = []
    for size in (10, 90):
        members = [UserFactory() for _index in range(size)]
        for member in members:
            MembershipFactory(user=member, organization=w.tree.sibling_branch)
        rollup.rollup_run_year(year=YEAR, now=NOW)
        for member in members[: size // 2]:
            make_nomination(w, member, organization=w.tree.sibling_branch)
        client.get(url)
        # session, user, scope; the year, the category, the organisation, the select; quotas;
        # the candidates (summaries, nominations); nominations (count, page); may nominate
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_unknown_year_or_category_is_404(nworld, client_as):  # noqa: F811
    client = client_as(nworld.cast.city_admin)
    missing_year = reverse(
        "dashboard:award-category", kwargs={"year": 2001, "category_pk": nworld.category.pk}
    )
    missing_category = reverse("dashboard:award-category", kwargs={"year": YEAR, "category_pk": 0})
    assert client.get(missing_year).status_code == 404
    assert client.get(missing_category).status_code == 404
