"""Democratic appraisal (民主评议党员): the sheet beside the year's figures, the rules of a save
(all or nothing, at most one third excellent), the pages and the read-only API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.tests.factories import UserFactory
from apps.awards import rollup
from apps.awards.appraisal import appraisal_counts, appraisal_save, appraisal_sheet
from apps.awards.models import AppraisalGrade, AssessmentYear, DemocraticAppraisal, YearStatus
from apps.awards.tests.conftest import NOW, YEAR
from apps.core.models import AuditEntry
from apps.organizations.tests.factories import MembershipFactory
from conftest import zh

pytestmark = pytest.mark.django_db

E, Q, B, U = (
    AppraisalGrade.EXCELLENT,
    AppraisalGrade.QUALIFIED,
    AppraisalGrade.BASIC,
    AppraisalGrade.UNQUALIFIED,
)


@pytest.fixture
def ayear(aworld):
    rollup.rollup_run_year(year=YEAR, now=NOW)
    aworld.assessment_year = AssessmentYear.objects.get(year=YEAR)
    return aworld


def save(w, grades, *, actor=None, assessment_year=None, organization=None):
    return appraisal_save(
        actor=actor or w.cast.branch_secretary,
        assessment_year=assessment_year or w.assessment_year,
        organization=organization or w.tree.branch,
        grades=grades,
    )


def sheet_url(w, year=YEAR, organization=None):
    return reverse(
        "dashboard:appraisal", kwargs={"year": year, "org_pk": (organization or w.tree.branch).pk}
    )


def save_url(w, year=YEAR, organization=None):
    return reverse(
        "dashboard:appraisal-save",
        kwargs={"year": year, "org_pk": (organization or w.tree.branch).pk},
    )


def refused(callable_, message):
    with pytest.raises(ValidationError) as error:
        callable_()
    assert message in error.value.messages, error.value.messages


def grades_in_db():
    return sorted(DemocraticAppraisal.objects.values_list("member__username", "grade", "note"))


# The sheet ------------------------------------------------------------------------------------


def test_the_sheet_has_every_active_member_with_the_year_figures(ayear):
    w = ayear
    newcomer = MembershipFactory(user=UserFactory(real_name="赵新"), organization=w.tree.branch)
    left = MembershipFactory(user=UserFactory(), organization=w.tree.branch)
    left.ended_on = left.started_on
    left.save()
    rows = {
        r.member.username: r
        for r in appraisal_sheet(
            user=w.cast.branch_secretary,
            assessment_year=w.assessment_year,
            organization=w.tree.branch,
        )
    }
    assert set(rows) == {"volunteer", "team_leader", "branch_secretary", newcomer.user.username}
    mine = rows["volunteer"]
    assert (str(mine.hours), mine.records, str(mine.points), mine.rank) == ("3.00", 3, "12.50", 2)
    assert (str(mine.average_rating), mine.pledges_kept, str(mine.training_hours), mine.visits) == (
        "4.50",
        1,
        "2.5",
        2,
    )
    assert rows["team_leader"].rank == 1
    # No roll-up row (joined after the run): zeros and no rank, not an error.
    fresh = rows[newcomer.user.username]
    assert (fresh.hours, fresh.records, fresh.points, fresh.rank, fresh.grade) == (
        0,
        0,
        0,
        None,
        "",
    )


def test_a_save_writes_grades_and_an_audit_entry(ayear):
    w = ayear
    cast = w.cast
    changed = save(w, {cast.team_leader.pk: (E, "带头服务"), cast.volunteer.pk: (Q, "")})
    assert changed == 2
    assert grades_in_db() == [("team_leader", E, "带头服务"), ("volunteer", Q, "")]
    row = DemocraticAppraisal.objects.get(member=cast.team_leader)
    assert (row.organization, row.entered_by) == (w.tree.branch, cast.branch_secretary)
    entry = AuditEntry.objects.get(action="democratic_appraisal.save")
    assert entry.actor == cast.branch_secretary
    assert entry.details["grades"] == {str(cast.team_leader.pk): E, str(cast.volunteer.pk): Q}
    # Changing one, clearing another; the untouched grade stays.
    save(w, {cast.volunteer.pk: (B, "再接再厉"), cast.branch_secretary.pk: (U, "")})
    save(w, {cast.branch_secretary.pk: ("", "")})
    assert grades_in_db() == [("team_leader", E, "带头服务"), ("volunteer", B, "再接再厉")]
    rows = appraisal_sheet(
        user=cast.branch_secretary, assessment_year=w.assessment_year, organization=w.tree.branch
    )
    counts = {grade: n for grade, _label, n in appraisal_counts(rows)}
    assert counts == {E: 1, Q: 0, B: 1, U: 0, "": 1}


# Refusals: a message, nothing saved ------------------------------------------------------------


def test_more_than_one_third_excellent_is_refused(ayear):
    w = ayear
    cast = w.cast
    message = zh(
        "At most one third of the members may be graded excellent: %(allowed)d of "
        "%(members)d here, but %(asked)d were asked."
    )
    refused(
        lambda: save(w, {cast.team_leader.pk: (E, ""), cast.volunteer.pk: (E, "")}),
        message % {"allowed": 1, "members": 3, "asked": 2},
    )
    assert grades_in_db() == []
    # A grade already saved counts too.
    save(w, {cast.team_leader.pk: (E, "")})
    refused(
        lambda: save(w, {cast.volunteer.pk: (E, ""), cast.branch_secretary.pk: (Q, "")}),
        message % {"allowed": 1, "members": 3, "asked": 2},
    )
    assert grades_in_db() == [("team_leader", E, "")]
    assert AuditEntry.objects.filter(action="democratic_appraisal.save").count() == 1


def test_an_unknown_grade_is_refused(ayear):
    w = ayear
    refused(
        lambda: save(w, {w.cast.volunteer.pk: (Q, ""), w.cast.team_leader.pk: ("great", "")}),
        zh("“%(grade)s” is not a grade of the democratic appraisal.") % {"grade": "great"},
    )
    assert grades_in_db() == []


def test_a_note_too_long_is_refused(ayear):
    w = ayear
    refused(
        lambda: save(w, {w.cast.volunteer.pk: (Q, "长" * 256)}),
        zh("A note can be at most %(limit)d characters long.") % {"limit": 255},
    )
    assert grades_in_db() == []


def test_someone_not_an_active_member_is_refused(ayear):
    w = ayear
    stranger = w.cast.other_branch_secretary
    refused(
        lambda: save(w, {w.cast.volunteer.pk: (Q, ""), stranger.pk: (Q, "")}),
        zh("Only active members of %(organization)s can be graded here (not: %(ids)s).")
        % {"organization": w.tree.branch.name, "ids": str(stranger.pk)},
    )
    assert grades_in_db() == []


def test_a_year_not_rolled_up_is_refused(ayear):
    w = ayear
    not_run = AssessmentYear.objects.create(year=YEAR - 1)
    refused(
        lambda: save(w, {w.cast.volunteer.pk: (Q, "")}, assessment_year=not_run),
        zh(
            "%(year)s has not been rolled up yet: the appraisal needs the year's service "
            "figures. Run the roll-up first."
        )
        % {"year": YEAR - 1},
    )
    assert grades_in_db() == []


def test_a_closed_year_is_refused(ayear):
    w = ayear
    AssessmentYear.objects.filter(pk=w.assessment_year.pk).update(status=YearStatus.CLOSED)
    w.assessment_year.refresh_from_db()
    refused(
        lambda: save(w, {w.cast.volunteer.pk: (Q, "")}),
        zh("The assessment year %(year)s is closed: its results are frozen and cannot be changed.")
        % {"year": YEAR},
    )
    assert grades_in_db() == []


@pytest.mark.parametrize("role", ["inspector", "other_branch_secretary", "volunteer"])
def test_only_managers_of_the_branch_may_save(ayear, role):
    w = ayear
    with pytest.raises(PermissionDenied):
        save(w, {w.cast.volunteer.pk: (Q, "")}, actor=getattr(w.cast, role))
    assert grades_in_db() == []


# The pages -------------------------------------------------------------------------------------


def test_the_secretary_grades_on_the_page(ayear, client_as):
    w = ayear
    client = client_as(w.cast.branch_secretary)
    page = client.get(sheet_url(w)).content.decode()
    assert f'name="grade_{w.cast.volunteer.pk}"' in page
    limit = zh("Excellent: at most one third of the members, here %(allowed)s of %(members)s.")
    assert limit % {"allowed": 1, "members": 3} in page
    response = client.post(
        save_url(w),
        {
            f"grade_{w.cast.volunteer.pk}": E,
            f"note_{w.cast.volunteer.pk}": "服务时长突出",
            f"grade_{w.cast.team_leader.pk}": Q,
            f"grade_{w.cast.branch_secretary.pk}": "",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == sheet_url(w)
    assert zh("The appraisal has been saved (%(count)d members changed).") % {"count": 2} in (
        response.content.decode()
    )
    assert grades_in_db() == [("team_leader", Q, ""), ("volunteer", E, "服务时长突出")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            lambda w: {f"grade_{w.cast.volunteer.pk}": E, f"grade_{w.cast.team_leader.pk}": E},
            lambda w: (
                zh(
                    "At most one third of the members may be graded excellent: %(allowed)d of "
                    "%(members)d here, but %(asked)d were asked."
                )
                % {"allowed": 1, "members": 3, "asked": 2}
            ),
        ),
        (
            lambda w: {f"grade_{w.cast.volunteer.pk}": "best"},
            lambda w: (
                zh("“%(grade)s” is not a grade of the democratic appraisal.") % {"grade": "best"}
            ),
        ),
        (
            lambda w: {f"grade_{w.cast.outsider.pk}": Q, f"grade_{w.cast.volunteer.pk}": Q},
            lambda w: (
                zh("Only active members of %(organization)s can be graded here (not: %(ids)s).")
                % {"organization": w.tree.branch.name, "ids": str(w.cast.outsider.pk)}
            ),
        ),
        (
            lambda w: {"grade_abc": Q, f"grade_{w.cast.volunteer.pk}": Q},
            lambda w: zh("“%(value)s” is not a member.") % {"value": "abc"},
        ),
    ],
    ids=["too-many-excellent", "unknown-grade", "not-a-member", "not-an-id"],
)
def test_bad_input_on_the_page_comes_back_with_the_message(ayear, client_as, data, message):
    w = ayear
    response = client_as(w.cast.branch_secretary).post(save_url(w), data(w))
    assert response.status_code == 400
    assert message(w) in response.content.decode()
    assert grades_in_db() == []
    assert not AuditEntry.objects.filter(action="democratic_appraisal.save").exists()


def test_a_year_not_rolled_up_is_refused_on_the_page(ayear, client_as):
    w = ayear
    AssessmentYear.objects.create(year=YEAR - 1)
    client = client_as(w.cast.branch_secretary)
    page = client.get(sheet_url(w, YEAR - 1)).content.decode()
    assert (
        zh("This year has not been rolled up yet: grades can be given once its roll-up is done.")
        in page
    )
    assert 'name="grade_' not in page
    response = client.post(save_url(w, YEAR - 1), {f"grade_{w.cast.volunteer.pk}": Q})
    assert response.status_code == 400
    assert (
        zh(
            "%(year)s has not been rolled up yet: the appraisal needs the year's service "
            "figures. Run the roll-up first."
        )
        % {"year": YEAR - 1}
        in response.content.decode()
    )
    assert grades_in_db() == []


def test_the_inspector_reads_but_may_not_save(ayear, client_as):
    w = ayear
    save(w, {w.cast.volunteer.pk: (E, "服务时长突出")})
    client = client_as(w.cast.inspector)
    page = client.get(sheet_url(w)).content.decode()
    assert 'name="grade_' not in page
    assert "服务时长突出" in page and str(AppraisalGrade.EXCELLENT.label) in page
    response = client.post(save_url(w), {f"grade_{w.cast.volunteer.pk}": Q})
    assert response.status_code == 403
    assert grades_in_db() == [("volunteer", E, "服务时长突出")]


def test_the_other_branch_secretary_gets_404(ayear, client_as):
    w = ayear
    client = client_as(w.cast.other_branch_secretary)
    assert client.get(sheet_url(w)).status_code == 404
    assert client.post(save_url(w), {f"grade_{w.cast.volunteer.pk}": Q}).status_code == 404
    assert grades_in_db() == []


def test_the_index_lists_rolled_up_years_and_organisations_with_members(ayear, client_as):
    w = ayear
    AssessmentYear.objects.create(year=YEAR - 1)  # not rolled up: not offered
    page = client_as(w.cast.branch_secretary).get(reverse("dashboard:appraisal-index"))
    html = page.content.decode()
    assert sheet_url(w) in html
    assert sheet_url(w, YEAR - 1) not in html
    assert w.tree.other_branch.name not in html


def _grow(w, members):
    for _index in range(members):
        MembershipFactory(user=UserFactory(), organization=w.tree.sibling_branch)


def test_the_sheet_costs_the_same_at_5_and_30_members(ayear, client_as):
    w = ayear
    client = client_as(w.cast.city_admin)
    url = sheet_url(w, organization=w.tree.sibling_branch)
    counts = []
    for size in (5, 25):  # 5 members, then 30
        _grow(w, size)
        rollup.rollup_run_year(year=YEAR, now=NOW)
        client.get(url)
        # session, user, scope, the year, the organisation, may-change, members, summaries, grades
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(captured))
    assert response.content.decode().count('name="grade_') == 30
    assert counts[0] == counts[1], counts


def test_the_index_costs_the_same_at_5_and_30_organisations(ayear, client_as):
    from apps.organizations.tests.factories import PartyOrganizationFactory

    w = ayear
    client = client_as(w.cast.city_admin)
    counts = []
    for size in (5, 25):
        for _index in range(size):
            MembershipFactory(organization=PartyOrganizationFactory(parent=w.tree.street))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("dashboard:appraisal-index")).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


# The API ---------------------------------------------------------------------------------------


def test_the_api_lists_grades_filtered_and_scoped(ayear, api_as):
    w = ayear
    save(w, {w.cast.volunteer.pk: (E, ""), w.cast.team_leader.pk: (Q, "")})
    url = reverse("api:appraisal-list")
    rows = api_as(w.cast.inspector).get(url, {"year": YEAR}).json()["results"]
    assert {(r["member"], r["grade"]) for r in rows} == {
        (w.cast.volunteer.pk, E),
        (w.cast.team_leader.pk, Q),
    }
    assert api_as(w.cast.inspector).get(url, {"year": YEAR - 1}).json()["results"] == []
    assert (
        api_as(w.cast.city_admin)
        .get(url, {"organization": w.tree.other_branch.pk})
        .json()["results"]
        == []
    )
    assert api_as(w.cast.other_branch_secretary).get(url).json()["results"] == []


def test_the_api_list_costs_the_same_at_5_and_30_rows(ayear, api_as):
    w = ayear
    api = api_as(w.cast.city_admin)
    counts = []
    for size in (5, 25):
        _grow(w, size)
        rollup.rollup_run_year(year=YEAR, now=NOW)
        members = w.tree.sibling_branch.memberships.values_list("user_id", flat=True)
        appraisal_save(
            actor=w.cast.city_admin,
            assessment_year=w.assessment_year,
            organization=w.tree.sibling_branch,
            grades=dict.fromkeys(members, (Q, "")),
        )
        with CaptureQueriesContext(connection) as captured:
            response = api.get(reverse("api:appraisal-list"), {"page_size": 100})
        assert response.status_code == 200
        counts.append(len(captured))
    assert response.json()["count"] == 30
    assert counts[0] == counts[1], counts


# The demo --------------------------------------------------------------------------------------


def test_the_demo_has_a_rolled_up_year_with_awards_and_an_appraisal(db):
    from django.core.management import call_command

    from apps.awards.models import Award, Nomination, NominationStatus, Quota, RunStatus
    from apps.dashboard.demo_awards import seed_awards
    from apps.notifications.models import Notification, NotificationKind
    from apps.organizations.models import Membership

    call_command("seed_demo", members=30)
    assessment_year = AssessmentYear.objects.get(run_status=RunStatus.DONE)
    assert Quota.objects.filter(assessment_year=assessment_year).count() == 4
    nomination = Nomination.objects.get()
    assert nomination.status == NominationStatus.PUBLICITY
    assert nomination.volunteer.username != "volunteer"
    award = Award.objects.get()
    assert award.volunteer.username == "volunteer"
    assert Notification.objects.filter(
        kind=NotificationKind.AWARD_GRANTED, user=award.volunteer
    ).exists()
    branch = Membership.objects.get(user__username="volunteer").organization
    members = Membership.objects.active().filter(organization=branch).count()
    grades = list(
        DemocraticAppraisal.objects.filter(organization=branch).values_list("grade", flat=True)
    )
    assert len(grades) == members
    assert 1 <= grades.count(E) <= members // 3
    # Safe to run twice: nothing new.
    assert seed_awards() == {"quotas": 0, "nominations": 0, "awards": 0, "appraisals": 0}
