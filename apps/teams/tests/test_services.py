"""Team services: each rule, and each bad input refused with its message and nothing saved."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from apps.core.models import AuditEntry
from apps.teams import services
from apps.teams.models import FamilyGroup, Team, TeamMembership, TeamMembershipStatus, TeamRole

from .fixtures import make_member, make_volunteer

pytestmark = pytest.mark.django_db


def refused(call, message, code=None):
    """Run ``call`` in English; it must raise ``message`` and leave no audit entry behind."""
    audits = AuditEntry.objects.count()
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            call()
        text = " ".join(str(m) for m in excinfo.value.messages)
    assert message in text, text
    if code:
        assert code in {e.code for e in excinfo.value.error_list}
    assert AuditEntry.objects.count() == audits
    return excinfo.value


def snapshot(model, **filters):
    return list(model.objects.filter(**filters).order_by("pk").values())


# --- Teams --------------------------------------------------------------------------------


def test_secretary_creates_a_team_with_an_audit_entry(tree, branch_secretary):
    team = services.team_create(
        actor=branch_secretary, organization=tree.branch, name="法律援助队", kind="legal"
    )
    assert team.organization == tree.branch
    assert AuditEntry.objects.filter(action="team.create", target_id=str(team.pk)).exists()


@pytest.mark.parametrize(
    "role", ["other_branch_secretary", "inspector", "team_leader", "volunteer"]
)
def test_team_create_outside_the_managed_subtree_is_refused(request, tree, role):
    actor = request.getfixturevalue(role)
    before = Team.objects.count()
    refused(
        lambda: services.team_create(
            actor=actor, organization=tree.branch, name="新队", kind="general"
        ),
        "You can only create teams for organisations you manage.",
        "outside_scope",
    )
    assert Team.objects.count() == before


def test_team_create_refuses_a_duplicate_name_and_an_inactive_organisation(
    tree, team, branch_secretary
):
    before = Team.objects.count()
    refused(
        lambda: services.team_create(
            actor=branch_secretary, organization=tree.branch, name=team.name, kind="general"
        ),
        "This organisation already has a team with this name.",
    )
    refused(
        lambda: services.team_create(
            actor=branch_secretary, organization=tree.branch, name="  ", kind="general"
        ),
        "This field cannot be blank.",
    )
    refused(
        lambda: services.team_create(
            actor=branch_secretary, organization=tree.branch, name="新队", kind="nonsense"
        ),
        "is not a valid choice",
    )
    tree.branch.is_active = False
    tree.branch.save()
    refused(
        lambda: services.team_create(
            actor=branch_secretary, organization=tree.branch, name="新队", kind="general"
        ),
        "This organisation is no longer active.",
    )
    assert Team.objects.count() == before


def test_leader_edits_their_own_team(team, team_leader):
    services.team_update(actor=team_leader, team=team, data={"brand_name": "红心敲门"})
    team.refresh_from_db()
    assert team.brand_name == "红心敲门"
    assert AuditEntry.objects.filter(action="team.update", actor=team_leader).exists()


def test_a_leader_editing_another_team_is_refused(other_team, team_leader):
    """Bad input from the issue: a leader editing another team."""
    before = snapshot(Team, pk=other_team.pk)
    refused(
        lambda: services.team_update(actor=team_leader, team=other_team, data={"name": "改名"}),
        "You can only manage the teams you lead or whose organisation you manage.",
        "outside_scope",
    )
    assert snapshot(Team, pk=other_team.pk) == before


def test_a_leader_cannot_move_their_team_to_another_organisation(tree, team, team_leader):
    before = snapshot(Team, pk=team.pk)
    refused(
        lambda: services.team_update(
            actor=team_leader, team=team, data={"organization": tree.sibling_branch}
        ),
        "Only the organisations concerned can move a team to another one.",
    )
    assert snapshot(Team, pk=team.pk) == before


def test_team_update_refuses_a_blank_name_and_a_taken_name(tree, team, branch_secretary):
    services.team_create(
        actor=branch_secretary, organization=tree.branch, name="第二队", kind="general"
    )
    before = snapshot(Team, pk=team.pk)
    refused(
        lambda: services.team_update(actor=branch_secretary, team=team, data={"name": ""}),
        "This field cannot be blank.",
    )
    refused(
        lambda: services.team_update(actor=branch_secretary, team=team, data={"name": "第二队"}),
        "This organisation already has a team with this name.",
    )
    assert snapshot(Team, pk=team.pk) == before


def test_deactivating_a_team_closes_its_open_requests(teams_world):
    w = teams_world
    services.team_deactivate(actor=w.cast.branch_secretary, team=w.team, reason="合并")
    w.application.refresh_from_db()
    w.invitation.refresh_from_db()
    assert w.application.status == w.invitation.status == TeamMembershipStatus.DECLINED
    assert not Team.objects.get(pk=w.team.pk).is_active
    refused(
        lambda: services.team_deactivate(actor=w.cast.branch_secretary, team=w.team),
        "This team is already inactive.",
    )


def test_a_leader_cannot_deactivate_the_team(team, team_leader):
    refused(
        lambda: services.team_deactivate(actor=team_leader, team=team),
        "Only the owning organisation can deactivate a team.",
    )
    assert Team.objects.get(pk=team.pk).is_active


# --- Leaders and deputies -------------------------------------------------------------------


def test_appointing_a_leader_makes_the_previous_one_a_member(team, team_leader, branch_secretary):
    newcomer = make_volunteer()
    membership = services.team_leader_appoint(actor=branch_secretary, team=team, user=newcomer)
    assert membership.role == TeamRole.LEADER
    assert membership.status == TeamMembershipStatus.ACTIVE
    old = TeamMembership.objects.get(team=team, user=team_leader)
    assert old.role == TeamRole.MEMBER and old.status == TeamMembershipStatus.ACTIVE


def test_appointing_an_applicant_as_leader_makes_them_an_active_member(teams_world):
    w = teams_world
    services.team_leader_appoint(actor=w.cast.city_admin, team=w.team, user=w.applicant)
    w.application.refresh_from_db()
    assert (w.application.status, w.application.role) == ("active", "leader")


def test_only_the_organisation_appoints_the_leader(teams_world):
    w = teams_world
    for actor in (w.cast.team_leader, w.cast.other_branch_secretary, w.cast.inspector):
        refused(
            lambda actor=actor: services.team_leader_appoint(
                actor=actor, team=w.team, user=w.member
            ),
            "Only the owning organisation can appoint a team's leader.",
        )
    refused(
        lambda: services.team_leader_appoint(
            actor=w.cast.branch_secretary, team=w.team, user=w.cast.team_leader
        ),
        "This person already leads the team.",
    )
    assert w.leader_membership.__class__.objects.get(pk=w.leader_membership.pk).role == "leader"


def test_leader_appoints_and_revokes_a_deputy(teams_world):
    w = teams_world
    services.team_deputy_appoint(actor=w.cast.team_leader, membership=w.member_membership)
    assert TeamMembership.objects.get(pk=w.member_membership.pk).role == TeamRole.DEPUTY
    # A deputy manages the team but does not appoint deputies.
    refused(
        lambda: services.team_deputy_appoint(actor=w.member, membership=w.staff_membership),
        "Only the team leader or the owning organisation can appoint or revoke deputies.",
    )
    refused(
        lambda: services.team_deputy_appoint(
            actor=w.cast.team_leader, membership=w.member_membership
        ),
        "This person already leads or deputises for the team.",
    )
    services.team_deputy_revoke(actor=w.cast.branch_secretary, membership=w.member_membership)
    assert TeamMembership.objects.get(pk=w.member_membership.pk).role == TeamRole.MEMBER
    refused(
        lambda: services.team_deputy_revoke(
            actor=w.cast.team_leader, membership=w.member_membership
        ),
        "This person is not a deputy leader of the team.",
    )
    refused(
        lambda: services.team_deputy_appoint(actor=w.cast.team_leader, membership=w.application),
        "Only an active member of the team can be a deputy leader.",
    )


# --- Applications ---------------------------------------------------------------------------------


def test_an_active_volunteer_applies(team):
    user = make_volunteer()
    membership = services.team_membership_apply(user=user, team=team, message=" 我会开车 ")
    assert (membership.status, membership.message) == ("applied", "我会开车")
    assert AuditEntry.objects.filter(action="team_membership.apply", actor=user).exists()


@pytest.mark.parametrize("status", ["pending", "suspended", "withdrawn", "rejected", None])
def test_only_active_volunteers_may_apply(team, status):
    user = make_volunteer(status=status) if status else make_volunteer()
    if status is None:
        user.volunteer_profile.delete()
        user = type(user).objects.get(pk=user.pk)
    refused(
        lambda: services.team_membership_apply(user=user, team=team),
        "Only registered volunteers whose registration has been approved can apply",
        "not_active_volunteer",
    )
    assert not TeamMembership.objects.filter(user=user).exists()


def test_a_second_application_an_invited_or_active_member_is_refused(teams_world):
    w = teams_world
    for user in (w.applicant, w.cast.volunteer, w.member):
        before = snapshot(TeamMembership, user=user)
        refused(
            lambda user=user: services.team_membership_apply(user=user, team=w.team),
            "You already belong to this team or have a pending application or invitation.",
            "already_open",
        )
        assert snapshot(TeamMembership, user=user) == before


def test_an_inactive_team_takes_no_applications_and_long_messages_are_refused(team):
    user = make_volunteer()
    refused(
        lambda: services.team_membership_apply(user=user, team=team, message="长" * 256),
        "The message can be at most 255 characters long.",
    )
    Team.objects.filter(pk=team.pk).update(is_active=False)
    team.refresh_from_db()
    refused(
        lambda: services.team_membership_apply(user=user, team=team),
        "This team is no longer active and does not take new members.",
    )
    assert not TeamMembership.objects.filter(user=user).exists()


def test_reapplying_after_a_decline_is_allowed(teams_world):
    w = teams_world
    services.team_membership_decline(
        actor=w.cast.team_leader, membership=w.application, reason="名额已满"
    )
    again = services.team_membership_apply(user=w.applicant, team=w.team)
    assert again.status == "applied"


@pytest.mark.parametrize("role", ["team_leader", "branch_secretary", "city_admin"])
def test_the_team_approves_an_application(teams_world, role):
    w = teams_world
    actor = getattr(w.cast, role)
    services.team_membership_approve(actor=actor, membership=w.application)
    w.application.refresh_from_db()
    assert w.application.status == "active"
    assert w.application.joined_on == timezone.localdate()
    assert w.application.decided_by == actor


def test_a_deputy_approves_too(teams_world):
    w = teams_world
    services.team_deputy_appoint(actor=w.cast.team_leader, membership=w.member_membership)
    services.team_membership_approve(actor=w.member, membership=w.application)
    assert TeamMembership.objects.get(pk=w.application.pk).status == "active"


@pytest.mark.parametrize(
    "role", ["other_branch_secretary", "inspector", "volunteer", "community_staff", "outsider"]
)
def test_others_cannot_decide_applications(teams_world, role):
    w = teams_world
    actor = getattr(w.cast, role)
    before = snapshot(TeamMembership, team=w.team)
    message = "You can only manage the teams you lead or whose organisation you manage."
    refused(
        lambda: services.team_membership_approve(actor=actor, membership=w.application), message
    )
    refused(
        lambda: services.team_membership_decline(
            actor=actor, membership=w.application, reason="不要"
        ),
        message,
    )
    refused(
        lambda: services.team_membership_remove(
            actor=actor, membership=w.member_membership, reason="不要"
        ),
        message,
    )
    assert snapshot(TeamMembership, team=w.team) == before


def test_a_leader_of_another_team_cannot_decide_this_teams_applications(teams_world):
    w = teams_world
    other_leader = make_member(w.other_team, role=TeamRole.LEADER).user
    refused(
        lambda: services.team_membership_approve(actor=other_leader, membership=w.application),
        "You can only manage the teams you lead or whose organisation you manage.",
        "outside_scope",
    )
    assert TeamMembership.objects.get(pk=w.application.pk).status == "applied"


@pytest.mark.parametrize("reason", ["", "   ", "长" * 256])
def test_declining_needs_a_reason(teams_world, reason):
    w = teams_world
    message = "Please give a reason." if len(reason) < 10 else "at most 255 characters"
    refused(
        lambda: services.team_membership_decline(
            actor=w.cast.team_leader, membership=w.application, reason=reason
        ),
        message,
    )
    assert TeamMembership.objects.get(pk=w.application.pk).status == "applied"


def test_decline_records_the_reason_and_a_decided_application_cannot_be_decided_again(
    teams_world,
):
    w = teams_world
    services.team_membership_decline(
        actor=w.cast.team_leader, membership=w.application, reason="名额已满"
    )
    w.application.refresh_from_db()
    assert (w.application.status, w.application.decline_reason) == ("declined", "名额已满")
    refused(
        lambda: services.team_membership_approve(
            actor=w.cast.team_leader, membership=w.application
        ),
        "This application is no longer pending.",
    )


def test_approval_needs_the_applicant_still_active(teams_world):
    w = teams_world
    w.applicant.volunteer_profile.status = "suspended"
    w.applicant.volunteer_profile.save()
    refused(
        lambda: services.team_membership_approve(
            actor=w.cast.team_leader, membership=w.application
        ),
        "The applicant's volunteer registration is not active any more.",
    )


# --- Invitations --------------------------------------------------------------------------------


def test_the_leader_invites_and_the_volunteer_accepts(team, team_leader):
    user = make_volunteer()
    invitation = services.team_membership_invite(actor=team_leader, team=team, user=user)
    assert invitation.status == "invited"
    services.team_invitation_accept(user=user, membership=invitation)
    invitation.refresh_from_db()
    assert invitation.status == "active" and invitation.joined_on == timezone.localdate()


def test_inviting_someone_who_is_not_an_active_volunteer_is_refused(team, team_leader):
    for user in (make_volunteer(status="pending"), make_volunteer(status="suspended")):
        refused(
            lambda user=user: services.team_membership_invite(
                actor=team_leader, team=team, user=user
            ),
            "Only registered volunteers whose registration has been approved can be invited.",
        )
        assert not TeamMembership.objects.filter(user=user).exists()


def test_inviting_twice_or_from_another_team_is_refused(teams_world):
    w = teams_world
    refused(
        lambda: services.team_membership_invite(
            actor=w.cast.team_leader, team=w.team, user=w.cast.volunteer
        ),
        "This person already belongs to this team or has a pending application or invitation.",
    )
    refused(
        lambda: services.team_membership_invite(
            actor=w.cast.team_leader, team=w.other_team, user=w.applicant
        ),
        "You can only manage the teams you lead or whose organisation you manage.",
    )
    assert not TeamMembership.objects.filter(team=w.other_team, user=w.applicant).exists()


def test_only_the_invitee_answers_an_invitation(teams_world):
    w = teams_world
    for call in (services.team_invitation_accept, services.team_invitation_decline):
        refused(
            lambda call=call: call(user=w.applicant, membership=w.invitation),
            "You can only answer your own invitations and memberships.",
        )
    assert TeamMembership.objects.get(pk=w.invitation.pk).status == "invited"
    services.team_invitation_decline(user=w.cast.volunteer, membership=w.invitation)
    assert TeamMembership.objects.get(pk=w.invitation.pk).status == "declined"
    refused(
        lambda: services.team_invitation_accept(user=w.cast.volunteer, membership=w.invitation),
        "This invitation is no longer open.",
    )


# --- Leaving and removal -------------------------------------------------------------------------


def test_a_member_leaves_with_a_date(teams_world):
    w = teams_world
    day = timezone.localdate() - datetime.timedelta(days=1)
    services.team_membership_leave(user=w.member, membership=w.member_membership, left_on=day)
    w.member_membership.refresh_from_db()
    assert (w.member_membership.status, w.member_membership.left_on) == ("left", day)


def test_the_leader_cannot_leave_without_a_successor(teams_world):
    w = teams_world
    refused(
        lambda: services.team_membership_leave(
            user=w.cast.team_leader, membership=w.leader_membership
        ),
        "The team leader cannot leave the team. Ask the owning organisation to appoint "
        "another leader first.",
        "leader_cannot_leave",
    )
    assert TeamMembership.objects.get(pk=w.leader_membership.pk).status == "active"


def test_bad_dates_of_leaving_are_refused(teams_world):
    w = teams_world
    today = timezone.localdate()
    refused(
        lambda: services.team_membership_leave(
            user=w.member,
            membership=w.member_membership,
            left_on=today + datetime.timedelta(days=1),
        ),
        "The date of leaving cannot be in the future.",
    )
    refused(
        lambda: services.team_membership_leave(
            user=w.member,
            membership=w.member_membership,
            left_on=today - datetime.timedelta(days=365),
        ),
        "The date of leaving cannot be before the date of joining.",
    )
    refused(
        lambda: services.team_membership_leave(user=w.applicant, membership=w.member_membership),
        "You can only answer your own invitations and memberships.",
    )
    refused(
        lambda: services.team_membership_leave(user=w.applicant, membership=w.application),
        "You are not an active member of this team.",
    )
    assert TeamMembership.objects.get(pk=w.member_membership.pk).status == "active"


def test_the_leader_removes_a_member_with_a_reason(teams_world):
    w = teams_world
    services.team_membership_remove(
        actor=w.cast.team_leader, membership=w.member_membership, reason="长期不参加活动"
    )
    w.member_membership.refresh_from_db()
    assert w.member_membership.status == "left"
    assert w.member_membership.decline_reason == "长期不参加活动"


def test_removal_refusals(teams_world):
    w = teams_world
    refused(
        lambda: services.team_membership_remove(
            actor=w.cast.team_leader, membership=w.member_membership, reason=""
        ),
        "Please give a reason.",
    )
    refused(
        lambda: services.team_membership_remove(
            actor=w.cast.branch_secretary, membership=w.leader_membership, reason="调整"
        ),
        "The team leader cannot be removed. Appoint another leader first.",
    )
    # A deputy removes members, but not another deputy.
    services.team_deputy_appoint(actor=w.cast.team_leader, membership=w.member_membership)
    services.team_deputy_appoint(actor=w.cast.team_leader, membership=w.staff_membership)
    refused(
        lambda: services.team_membership_remove(
            actor=w.member, membership=w.staff_membership, reason="调整"
        ),
        "Only the team leader or the owning organisation can remove a deputy.",
    )
    refused(
        lambda: services.team_membership_remove(
            actor=w.member, membership=w.member_membership, reason="调整"
        ),
        "You cannot remove yourself; leave the team instead.",
    )
    assert TeamMembership.objects.filter(team=w.team, status="active").count() == 3


# --- Family groups -------------------------------------------------------------------------------


def test_family_group_and_a_child_with_a_guardian(teams_world, settings):
    w = teams_world
    child = make_volunteer(birth_date=timezone.localdate() - datetime.timedelta(days=365 * 8))
    make_member(w.team, child)
    membership = services.family_member_add(
        actor=w.cast.team_leader, group=w.family_group, user=child, guardian=w.member
    )
    assert membership.family_group == w.family_group and membership.guardian == w.member


def test_a_young_child_without_a_guardian_in_the_team_is_refused(teams_world, settings):
    w = teams_world
    settings.VOLUNTEER_GUARDIAN_PRESENT_BELOW_AGE = 10
    child = make_volunteer(birth_date=timezone.localdate() - datetime.timedelta(days=365 * 8))
    child_membership = make_member(w.team, child)
    refused(
        lambda: services.family_member_add(
            actor=w.cast.team_leader, group=w.family_group, user=child
        ),
        "Volunteers younger than 10 must serve with a guardian who is an active member of the "
        "same team.",
        "guardian_required",
    )
    refused(
        lambda: services.family_member_add(
            actor=w.cast.team_leader, group=w.family_group, user=child, guardian=w.applicant
        ),
        "The guardian must be an active member of the same team.",
    )
    refused(
        lambda: services.family_member_add(
            actor=w.cast.team_leader, group=w.family_group, user=child, guardian=child
        ),
        "A volunteer cannot be their own guardian.",
    )
    child_membership.refresh_from_db()
    assert child_membership.family_group is None and child_membership.guardian is None
    # The age limit is a setting: with a lower limit the same child needs no guardian.
    settings.VOLUNTEER_GUARDIAN_PRESENT_BELOW_AGE = 6
    services.family_member_add(actor=w.cast.team_leader, group=w.family_group, user=child)


def test_family_group_refusals(teams_world):
    w = teams_world
    before = FamilyGroup.objects.count()
    refused(
        lambda: services.family_group_create(
            actor=w.cast.team_leader, team=w.team, name="李家", head=w.applicant
        ),
        "The head of the family must be an active member of the team.",
    )
    refused(
        lambda: services.family_group_create(
            actor=w.cast.team_leader, team=w.team, name="", head=w.cast.community_staff
        ),
        "Please give the family a name.",
    )
    refused(
        lambda: services.family_group_create(
            actor=w.cast.team_leader, team=w.team, name="李家", head=w.member
        ),
        "This person already belongs to a family group in this team.",
    )
    refused(
        lambda: services.family_group_create(
            actor=w.cast.other_branch_secretary,
            team=w.team,
            name="李家",
            head=w.cast.community_staff,
        ),
        "You can only manage the teams you lead or whose organisation you manage.",
    )
    refused(
        lambda: services.family_member_add(
            actor=w.cast.team_leader, group=w.family_group, user=w.applicant
        ),
        "Only active members of the team can be added to one of its family groups.",
    )
    assert FamilyGroup.objects.count() == before
    group = services.family_group_create(
        actor=w.cast.team_leader, team=w.team, name="吴家", head=w.cast.community_staff
    )
    assert TeamMembership.objects.get(pk=w.staff_membership.pk).family_group == group
