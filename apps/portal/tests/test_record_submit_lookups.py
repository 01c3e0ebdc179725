"""Logging service checks the chosen category without asking the database (the categories in
use are kept in each process's memory) and the chosen team in the statement that locks the
volunteer, so neither costs a round trip of its own. A change to either is seen on the very
next submit, and a choice that is no longer valid is refused on its field and nothing saved."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.categories import categories_memo
from apps.accounts.models import ServiceCategory
from apps.core import scoping
from apps.portal.tests.test_records_pages import form_data, w  # noqa: F401
from apps.portal.tests.test_records_permissions import recworld  # noqa: F401
from apps.service_records.models import ServiceRecord
from apps.teams import services as team_services
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shared_scope_cache(settings, w):  # noqa: F811
    settings.SCOPE_CACHE_SECONDS = 300  # as deployed; the test settings turn it off
    # The fixtures' teams and memberships count as committed (most of these tests run in a
    # transaction that never commits, and what rests on uncommitted changes is not shared).
    scoping._committed()


def post(client, w, **changes):  # noqa: F811
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("portal:record-new"), form_data(w, **changes))
    return response, [q["sql"] for q in queries.captured_queries]


def refused(response, field: str) -> bool:
    form = response.context["form"]
    errors = form.errors.as_data().get(field, [])
    return (
        response.status_code == 200
        and [e.code for e in errors] == ["invalid_choice"]
        and str(form.errors[field][0]) in response.content.decode()
    )


def test_a_submit_reads_no_category_and_checks_the_team_where_it_locks_the_volunteer(
    client_as,
    w,  # noqa: F811
):
    client = client_as(w.cast.volunteer)
    named = {"responsible_person": "李明"}  # else the team's leader is looked up as the person
    first, _ = post(client, w, start_time="13:00", end_time="14:00", **named)
    assert first.status_code == 302
    second, statements = post(client, w, start_time="15:00", end_time="16:00", **named)
    assert second.status_code == 302
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert not [sql for sql in selects if "accounts_servicecategory" in sql]
    team_reads = [sql for sql in selects if '"teams_team"' in sql]
    assert len(team_reads) == 1
    if connection.features.has_select_for_update:
        # PostgreSQL: sent with the lock on the volunteer, and read once the lock is held.
        lock, _sep, read = team_reads[0].partition("; ")
        assert lock.startswith('SELECT 1 FROM "accounts_user"')
        assert lock.endswith("FOR NO KEY UPDATE")
        assert '"teams_team"' in read and '"service_records_servicerecord"' in read
    record = ServiceRecord.objects.get(
        pk=int(second["Location"].partition("?")[0].rstrip("/").split("/")[-1])
    )
    assert record.category == w.category
    assert record.team == w.team and record.organization == w.team.organization


def test_a_retired_category_is_refused_on_the_next_submit(client_as, w):  # noqa: F811
    client = client_as(w.cast.volunteer)
    assert post(client, w, start_time="13:00", end_time="14:00")[0].status_code == 302
    w.category.is_active = False
    w.category.save()
    before = ServiceRecord.objects.count()
    response, _ = post(client, w, start_time="15:00", end_time="16:00")
    assert refused(response, "category")
    assert ServiceRecord.objects.count() == before


def test_a_category_retired_by_another_process_is_refused_once_the_versions_are_compared(
    client_as,
    w,  # noqa: F811
    monkeypatch,
):
    client = client_as(w.cast.volunteer)
    assert post(client, w, start_time="13:00", end_time="14:00")[0].status_code == 302
    # Another process retired it and committed: no signal here, only its new version.
    ServiceCategory.objects.filter(pk=w.category.pk).update(is_active=False)
    categories_memo._new_version()
    monkeypatch.setattr(categories_memo, "check_seconds", 0)
    before = ServiceRecord.objects.count()
    assert refused(post(client, w, start_time="15:00", end_time="16:00")[0], "category")
    assert ServiceRecord.objects.count() == before


@pytest.mark.parametrize("value", ["999999", "abc", "-1", "99999999999999999999"])
def test_an_unknown_category_is_refused(client_as, w, value):  # noqa: F811
    before = ServiceRecord.objects.count()
    response, _ = post(client_as(w.cast.volunteer), w, category=value)
    assert refused(response, "category")
    assert ServiceRecord.objects.count() == before


def test_a_team_the_volunteer_left_is_refused_on_the_next_submit(client_as, w):  # noqa: F811
    client = client_as(w.cast.volunteer)
    assert post(client, w, start_time="13:00", end_time="14:00")[0].status_code == 302
    membership = TeamMembership.objects.get(team=w.team, user=w.cast.volunteer)
    team_services.team_membership_leave(user=w.cast.volunteer, membership=membership)
    before = ServiceRecord.objects.count()
    response, _ = post(client, w, start_time="15:00", end_time="16:00")
    assert refused(response, "team")
    assert ServiceRecord.objects.count() == before


def test_a_deactivated_team_is_refused_on_the_next_submit(client_as, w):  # noqa: F811
    client = client_as(w.cast.volunteer)
    assert post(client, w, start_time="13:00", end_time="14:00")[0].status_code == 302
    Team.objects.filter(pk=w.team.pk).update(is_active=False)
    w.team.refresh_from_db()
    w.team.save()  # as the admin saves it: the signal starts a new generation
    before = ServiceRecord.objects.count()
    response, _ = post(client, w, start_time="15:00", end_time="16:00")
    assert refused(response, "team")
    assert ServiceRecord.objects.count() == before


@pytest.mark.parametrize("value", ["999999", "abc", "-1", "1.5", "99999999999999999999"])
def test_a_team_the_volunteer_is_not_in_is_refused(client_as, w, value):  # noqa: F811
    other = Team.objects.create(organization=w.team.organization, name="另一支服务队")
    before = ServiceRecord.objects.count()
    client = client_as(w.cast.volunteer)
    for team in (other.pk, value):
        response, _ = post(client, w, team=team)
        assert refused(response, "team")
    assert ServiceRecord.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_team_joined_and_committed_is_taken_on_the_next_submit(client_as, w):  # noqa: F811
    other = Team.objects.create(organization=w.team.organization, name="新加入的服务队")
    client = client_as(w.cast.volunteer)
    assert refused(post(client, w, team=other.pk)[0], "team")
    TeamMembership.objects.create(
        team=other, user=w.cast.volunteer, status=TeamMembershipStatus.ACTIVE
    )  # committed at once: a new generation
    response, _ = post(client, w, team=other.pk, responsible_person="王芳")  # it has no leader
    assert response.status_code == 302, response.context["form"].errors
    assert ServiceRecord.objects.filter(team=other).count() == 1


def test_the_record_forms_copy_their_fields_without_building_their_lists(w):  # noqa: F811
    """Each form copies its fields (``core.forms``) without building the category's or the
    teams' querysets; a form lists its own volunteer's teams and the active categories."""
    from apps.portal.forms_records import RecordForm

    other = w.cast.outsider
    elsewhere = Team.objects.create(organization=w.team.organization, name="另一支志愿服务队")
    TeamMembership.objects.create(team=elsewhere, user=other, status=TeamMembershipStatus.ACTIVE)
    mine = RecordForm(user=w.cast.volunteer)
    theirs = RecordForm(user=other)
    for name in ("category", "team", "care_recipient"):
        assert RecordForm.base_fields[name]._queryset is None
        assert mine.fields[name]._queryset is None  # built when listed, not when copied
    for form, user in ((mine, w.cast.volunteer), (theirs, other)):
        assert set(form.fields["team"].queryset) == set(
            Team.objects.filter(
                memberships__user=user, memberships__status=TeamMembershipStatus.ACTIVE
            )
        )
    assert not set(theirs.fields["team"].queryset) & set(mine.fields["team"].queryset)
    listed = [label for value, label in mine.fields["category"].widget.choices if value]
    assert listed == [c.name for c in ServiceCategory.objects.filter(is_active=True)]
    assert RecordForm.base_fields["category"]._queryset is None
