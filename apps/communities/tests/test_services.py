"""Services of the communities app: the rules, and the bad input each refuses with nothing saved."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from apps.communities import services
from apps.communities.models import (
    ClaimStatus,
    Community,
    CommunityStaff,
    Pledge,
    PledgeStatus,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    ServicePoint,
    TeamPairing,
)
from apps.communities.tests.fixtures import make_member, make_report
from apps.core.models import AuditEntry
from apps.organizations.models import EmploymentStatus, Membership
from apps.teams.models import Team


def refused(call, *, code: str | None, message: str | None = None):
    """Run ``call``; it must raise a ValidationError with ``code`` (and the English message)."""
    with translation.override("en"), pytest.raises(ValidationError) as info:
        call()
    error = info.value
    codes = (
        [e.code for errors in error.error_dict.values() for e in errors]
        if hasattr(error, "error_dict")
        else [e.code for e in error.error_list]
    )
    assert code in codes, codes
    if message is not None:
        with translation.override("en"):
            assert message in error.messages, error.messages
    return error


def snapshot(*models):
    return [sorted(model.objects.values_list("pk", flat=True)) for model in models] + [
        AuditEntry.objects.count()
    ]


# Communities, staff, service points ----------------------------------------------------------


def test_secretary_creates_and_updates_a_community_in_their_subtree(tree, branch_secretary):
    community = services.community_create(
        actor=branch_secretary,
        name="新桂社区",
        district="东湖区",
        street="东湖街道",
        organization=tree.branch,
    )
    services.community_update(actor=branch_secretary, community=community, contact_phone="123")
    community.refresh_from_db()
    assert community.contact_phone == "123"
    assert AuditEntry.objects.filter(action__startswith="community.").count() == 2


def test_community_outside_subtree_or_duplicate_name_is_refused(
    tree, branch_secretary, community, community_staff
):
    before = snapshot(Community)
    refused(
        lambda: services.community_create(
            actor=branch_secretary,
            name="别的村",
            district="西山区",
            street="西山镇",
            organization=tree.other_branch,
        ),
        code="outside_scope",
    )
    refused(
        lambda: services.community_create(
            actor=branch_secretary,
            name="桂园社区",
            district="东湖区",
            street="东湖街道",
            organization=tree.branch,
        ),
        code=None,  # the constraint's own message
        message="This street already has a community with this name.",
    )
    # Staff work for the community but do not keep its record.
    refused(
        lambda: services.community_update(actor=community_staff, community=community, name="x"),
        code="outside_scope",
    )
    assert snapshot(Community) == before
    community.refresh_from_db()
    assert community.name == "桂园社区"


def test_staff_appoint_and_end(community, branch_secretary, outsider, inspector):
    staff = services.community_staff_appoint(
        actor=branch_secretary, community=community, user=outsider
    )
    refused(
        lambda: services.community_staff_appoint(
            actor=branch_secretary, community=community, user=outsider
        ),
        code="staff_exists",
        message="This person already works for this community.",
    )
    refused(
        lambda: services.community_staff_end(actor=inspector, staff=staff), code="outside_scope"
    )
    services.community_staff_end(actor=branch_secretary, staff=staff)
    assert CommunityStaff.objects.get(pk=staff.pk).ended_on == timezone.localdate()
    refused(
        lambda: services.community_staff_end(actor=branch_secretary, staff=staff),
        code="already_ended",
    )


def test_community_staff_add_service_points_to_their_own_community_only(
    community, other_community, community_staff
):
    point = services.service_point_create(
        actor=community_staff,
        community=community,
        name="桂园药店服务点",
        kind="point",
        venue_type="clinic",
        address="桂园路1号",
    )
    services.service_point_update(actor=community_staff, service_point=point, opening_hours="9-17")
    assert ServicePoint.objects.get(pk=point.pk).opening_hours == "9-17"
    before = snapshot(ServicePoint)
    refused(
        lambda: services.service_point_create(
            actor=community_staff,
            community=other_community,
            name="x",
            kind="point",
            address="y",
        ),
        code="outside_scope",
    )
    refused(
        lambda: services.service_point_create(
            actor=community_staff, community=community, name="x", kind="nonsense", address=""
        ),
        code="invalid_choice",
    )
    assert snapshot(ServicePoint) == before


# Pairings -------------------------------------------------------------------------------------


def test_pairing_created_and_ended_by_the_teams_organisation(team, community, branch_secretary):
    pairing = services.team_pairing_create(
        actor=branch_secretary,
        team=team,
        community=community,
        started_on=datetime.date(2026, 1, 1),
        agreement_note="每月一次",
    )
    assert pairing.created_by == branch_secretary
    services.team_pairing_end(
        actor=branch_secretary, pairing=pairing, ended_on=datetime.date(2026, 3, 1)
    )
    assert TeamPairing.objects.get(pk=pairing.pk).ended_on == datetime.date(2026, 3, 1)
    # After the old one ended, a new pairing may start.
    services.team_pairing_create(
        actor=branch_secretary,
        team=team,
        community=community,
        started_on=datetime.date(2026, 3, 2),
    )


def test_pairing_with_an_inactive_community_or_team_is_refused(team, community, branch_secretary):
    Community.objects.filter(pk=community.pk).update(is_active=False)
    community.refresh_from_db()
    before = snapshot(TeamPairing)
    refused(
        lambda: services.team_pairing_create(
            actor=branch_secretary, team=team, community=community
        ),
        code="inactive",
        message="This community is no longer active and cannot be paired.",
    )
    Community.objects.filter(pk=community.pk).update(is_active=True)
    community.refresh_from_db()
    Team.objects.filter(pk=team.pk).update(is_active=False)
    refused(
        lambda: services.team_pairing_create(
            actor=branch_secretary, team=team, community=community
        ),
        code="inactive",
        message="This team is no longer active and cannot be paired.",
    )
    assert snapshot(TeamPairing) == before


OVERLAP = (
    "This team is already paired with this community for these dates. End the existing "
    "pairing first, or start the new one after it ends."
)


def test_overlapping_identical_pairing_is_refused(team, community, branch_secretary):
    services.team_pairing_create(
        actor=branch_secretary, team=team, community=community, started_on=datetime.date(2026, 1, 1)
    )
    before = snapshot(TeamPairing)
    refused(
        lambda: services.team_pairing_create(
            actor=branch_secretary, team=team, community=community
        ),
        code="overlapping_pairing",
        message=OVERLAP,
    )
    assert snapshot(TeamPairing) == before


def test_pairing_overlapping_an_ended_one_is_refused(team, community, branch_secretary):
    TeamPairing.objects.create(
        team=team,
        community=community,
        started_on=datetime.date(2026, 1, 1),
        ended_on=datetime.date(2026, 6, 30),
    )
    before = snapshot(TeamPairing)
    refused(
        lambda: services.team_pairing_create(
            actor=branch_secretary,
            team=team,
            community=community,
            started_on=datetime.date(2026, 6, 30),
        ),
        code="overlapping_pairing",
    )
    assert snapshot(TeamPairing) == before


def test_pairing_by_someone_not_managing_the_team(
    team, community, other_branch_secretary, community_staff, team_leader
):
    for actor in (other_branch_secretary, community_staff, team_leader):
        refused(
            lambda actor=actor: services.team_pairing_create(
                actor=actor, team=team, community=community
            ),
            code="outside_scope",
        )
    assert not TeamPairing.objects.exists()


def test_pairing_cannot_end_before_it_starts_or_twice(team, community, branch_secretary):
    pairing = services.team_pairing_create(
        actor=branch_secretary, team=team, community=community, started_on=datetime.date(2026, 5, 1)
    )
    refused(
        lambda: services.team_pairing_end(
            actor=branch_secretary, pairing=pairing, ended_on=datetime.date(2026, 4, 1)
        ),
        code="ends_early",
    )
    assert TeamPairing.objects.get(pk=pairing.pk).ended_on is None


# Residence reports ----------------------------------------------------------------------------


def test_report_submit_confirm_and_receipt_number(volunteer, community, community_staff):
    report = services.residence_report_submit(
        user=volunteer, community=community, home_address=" 桂园路3号 ", skills_offered="理发"
    )
    today = timezone.localdate()
    assert re.fullmatch(rf"BD{today:%Y%m%d}\d{{6}}", report.number)
    assert report.status == ResidenceReportStatus.PENDING
    assert ResidenceReport.objects.get(pk=report.pk).home_address == "桂园路3号"
    services.residence_report_confirm(actor=community_staff, report=report)
    report.refresh_from_db()
    assert report.status == ResidenceReportStatus.CONFIRMED
    assert report.reviewed_by == community_staff
    # Dual affiliation: the home branch and the community both see the member.
    assert ResidenceReport.objects.visible_to(community_staff).filter(pk=report.pk).exists()


def test_home_branch_secretary_sees_but_cannot_confirm(
    tree, community, other_community, branch_secretary
):
    member = make_member(tree.branch)
    report = services.residence_report_submit(
        user=member, community=other_community, home_address="桃溪村5组"
    )
    assert ResidenceReport.objects.visible_to(branch_secretary).filter(pk=report.pk).exists()
    refused(
        lambda: services.residence_report_confirm(actor=branch_secretary, report=report),
        code="outside_scope",
    )
    assert ResidenceReport.objects.get(pk=report.pk).status == ResidenceReportStatus.PENDING


def test_a_second_report_while_one_is_pending_is_refused(volunteer, community, other_community):
    services.residence_report_submit(user=volunteer, community=community, home_address="a")
    before = snapshot(ResidenceReport)
    refused(
        lambda: services.residence_report_submit(
            user=volunteer, community=other_community, home_address="b"
        ),
        code="report_pending",
        message=(
            "You already have a report awaiting confirmation. Withdraw it or wait for the "
            "community's answer."
        ),
    )
    assert snapshot(ResidenceReport) == before


def test_a_report_while_one_is_confirmed_is_refused_until_it_ends(volunteer, community):
    report = make_report(volunteer, community)
    refused(
        lambda: services.residence_report_submit(
            user=volunteer, community=community, home_address="b"
        ),
        code="report_confirmed",
    )
    services.residence_report_end(actor=volunteer, report=report)
    assert ResidenceReport.objects.get(pk=report.pk).status == ResidenceReportStatus.ENDED
    services.residence_report_submit(user=volunteer, community=community, home_address="b")


def test_report_needs_an_active_in_service_membership(tree, community, outsider, volunteer):
    refused(
        lambda: services.residence_report_submit(
            user=outsider, community=community, home_address="a"
        ),
        code="not_a_member",
        message="Only party members registered with a party organisation can report to a "
        "community.",
    )
    Membership.objects.filter(user=volunteer).update(employment=EmploymentStatus.RETIRED)
    refused(
        lambda: services.residence_report_submit(
            user=volunteer, community=community, home_address="a"
        ),
        code="not_in_service",
        message="Reporting to the residence community is for party members in service.",
    )
    Membership.objects.filter(user=volunteer).update(
        employment=EmploymentStatus.EMPLOYED, ended_on=timezone.localdate()
    )
    refused(
        lambda: services.residence_report_submit(
            user=volunteer, community=community, home_address="a"
        ),
        code="not_a_member",
    )
    assert not ResidenceReport.objects.exists()


def test_report_needs_an_address_and_an_active_community(volunteer, community):
    refused(
        lambda: services.residence_report_submit(
            user=volunteer, community=community, home_address="  "
        ),
        code="required",
        message="Please enter your home address.",
    )
    Community.objects.filter(pk=community.pk).update(is_active=False)
    community.refresh_from_db()
    refused(
        lambda: services.residence_report_submit(
            user=volunteer, community=community, home_address="a"
        ),
        code="inactive",
    )
    assert not ResidenceReport.objects.exists()


def test_return_needs_a_reason_and_a_pending_report(cworld):
    staff = cworld.cast.community_staff
    refused(
        lambda: services.residence_report_return(
            actor=staff, report=cworld.pending_report, reason=" "
        ),
        code="required",
        message="Please say why the report is returned.",
    )
    refused(
        lambda: services.residence_report_return(actor=staff, report=cworld.report, reason="x"),
        code="not_pending",
    )
    services.residence_report_return(actor=staff, report=cworld.pending_report, reason="地址不全")
    report = ResidenceReport.objects.get(pk=cworld.pending_report.pk)
    assert (report.status, report.return_reason) == (ResidenceReportStatus.RETURNED, "地址不全")


def test_withdraw_is_for_the_member_only(cworld):
    refused(
        lambda: services.residence_report_withdraw(
            user=cworld.cast.community_staff, report=cworld.pending_report
        ),
        code="outside_scope",
    )
    services.residence_report_withdraw(user=cworld.resident, report=cworld.pending_report)
    assert (
        ResidenceReport.objects.get(pk=cworld.pending_report.pk).status
        == ResidenceReportStatus.WITHDRAWN
    )


# Posts and claims -----------------------------------------------------------------------------


def test_post_publish_update_close(community, community_staff):
    post = services.post_publish(actor=community_staff, community=community, title="助老", slots=2)
    services.post_update(actor=community_staff, post=post, slots=3, title="助老送餐")
    post.refresh_from_db()
    assert (post.slots, post.title) == (3, "助老送餐")
    services.post_close(actor=community_staff, post=post)
    assert Post.objects.get(pk=post.pk).is_published is False


def test_post_bad_input(community, other_community, community_staff, volunteer):
    before = snapshot(Post)
    refused(
        lambda: services.post_publish(
            actor=community_staff, community=community, title="", slots=1
        ),
        code="required",
        message="Please give the post a title.",
    )
    refused(
        lambda: services.post_publish(
            actor=community_staff, community=community, title="a", slots=0
        ),
        code="min_slots",
        message="A post needs at least one place.",
    )
    refused(
        lambda: services.post_publish(
            actor=community_staff,
            community=community,
            title="a",
            slots=1,
            starts_on=datetime.date(2026, 5, 2),
            ends_on=datetime.date(2026, 5, 1),
        ),
        code="ends_early",
        message="A post cannot end before it starts.",
    )
    for actor, target in ((community_staff, other_community), (volunteer, community)):
        refused(
            lambda actor=actor, target=target: services.post_publish(
                actor=actor, community=target, title="a", slots=1
            ),
            code="outside_scope",
        )
    assert snapshot(Post) == before


def test_post_cannot_shrink_below_its_claims(cworld):
    refused(
        lambda: services.post_update(actor=cworld.cast.community_staff, post=cworld.post, slots=0),
        code="min_slots",
    )
    services.post_claim(user=cworld.cast.volunteer, post=cworld.post)
    with translation.override("en"):
        error = refused(
            lambda: services.post_update(
                actor=cworld.cast.community_staff, post=cworld.post, slots=1
            ),
            code="below_claims",
        )
        assert "2 members have already claimed this post" in error.messages[0]
    assert Post.objects.get(pk=cworld.post.pk).slots == 5


def test_claim_approve_reject_withdraw(cworld):
    staff = cworld.cast.community_staff
    claim = services.post_claim(user=cworld.cast.volunteer, post=cworld.post)
    services.post_claim_approve(actor=staff, claim=claim)
    assert PostClaim.objects.get(pk=claim.pk).status == ClaimStatus.APPROVED
    refused(
        lambda: services.post_claim_reject(actor=staff, claim=cworld.claim, reason=""),
        code="required",
        message="Please say why the claim is rejected.",
    )
    services.post_claim_reject(actor=staff, claim=cworld.claim, reason="名额调整")
    assert PostClaim.objects.get(pk=cworld.claim.pk).status == ClaimStatus.REJECTED
    refused(
        lambda: services.post_claim_withdraw(user=cworld.cast.team_leader, claim=claim),
        code="outside_scope",
    )
    services.post_claim_withdraw(user=cworld.cast.volunteer, claim=claim)
    assert PostClaim.objects.get(pk=claim.pk).status == ClaimStatus.WITHDRAWN


def test_claiming_a_full_post_is_refused(cworld):
    Post.objects.filter(pk=cworld.post.pk).update(slots=1)  # the team leader holds the one place
    before = snapshot(PostClaim)
    refused(
        lambda: services.post_claim(user=cworld.cast.volunteer, post=cworld.post),
        code="post_full",
        message="All places on this post have been claimed.",
    )
    assert snapshot(PostClaim) == before
    # A rejected claim frees its place.
    services.post_claim_reject(actor=cworld.cast.community_staff, claim=cworld.claim, reason="x")
    services.post_claim(user=cworld.cast.volunteer, post=cworld.post)


def test_claim_refused_twice_without_report_closed_or_ended(cworld):
    volunteer = cworld.cast.volunteer
    refused(
        lambda: services.post_claim(user=cworld.cast.team_leader, post=cworld.post),
        code="already_claimed",
        message="You have already claimed this post.",
    )
    refused(
        lambda: services.post_claim(user=cworld.resident, post=cworld.post),
        code="not_reported",
    )
    Post.objects.filter(pk=cworld.post.pk).update(is_published=False)
    refused(lambda: services.post_claim(user=volunteer, post=cworld.post), code="closed")
    Post.objects.filter(pk=cworld.post.pk).update(
        is_published=True,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    refused(lambda: services.post_claim(user=volunteer, post=cworld.post), code="ended")
    assert PostClaim.objects.count() == 1


# Pledges --------------------------------------------------------------------------------------


def test_pledge_make_report_kept_and_confirm(cworld):
    resident = cworld.resident
    services.residence_report_confirm(
        actor=cworld.cast.community_staff, report=cworld.pending_report
    )
    pledge = services.pledge_make(
        user=resident, community=cworld.community, year=cworld.year, content="a", target="b"
    )
    refused(
        lambda: services.pledge_report_kept(user=resident, pledge=pledge, evidence=" "),
        code="required",
        message="Please describe how you kept the pledge.",
    )
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.MADE
    services.pledge_report_kept(user=resident, pledge=pledge, evidence="服务记录")
    services.pledge_confirm(actor=cworld.cast.community_staff, pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.CONFIRMED
    assert pledge.confirmed_by == cworld.cast.community_staff


def test_a_pledge_for_a_past_year_is_refused(cworld):
    Pledge.objects.filter(user=cworld.cast.volunteer).delete()
    before = snapshot(Pledge)
    refused(
        lambda: services.pledge_make(
            user=cworld.cast.volunteer,
            community=cworld.community,
            year=cworld.year - 1,
            content="a",
            target="b",
        ),
        code="past_year",
        message="A pledge cannot be made for a past year.",
    )
    assert snapshot(Pledge) == before


def test_pledge_other_bad_input(cworld):
    volunteer = cworld.cast.volunteer
    before = snapshot(Pledge)
    cases = [
        ({"year": cworld.year}, "pledge_exists"),
        ({"year": cworld.year + 5}, "far_year"),
        ({"year": cworld.year + 1, "content": ""}, "required"),
        ({"year": cworld.year + 1, "target": ""}, "required"),
        ({"year": cworld.year + 1, "community": cworld.other_community}, "not_reported"),
    ]
    for overrides, code in cases:
        arguments = {
            "user": volunteer,
            "community": cworld.community,
            "content": "a",
            "target": "b",
            **overrides,
        }
        refused(lambda arguments=arguments: services.pledge_make(**arguments), code=code)
    assert snapshot(Pledge) == before


def test_pledge_not_kept_needs_a_reason_and_staff(cworld):
    staff = cworld.cast.community_staff
    refused(
        lambda: services.pledge_mark_not_kept(actor=staff, pledge=cworld.pledge, reason=""),
        code="required",
    )
    refused(
        lambda: services.pledge_mark_not_kept(
            actor=cworld.cast.inspector, pledge=cworld.pledge, reason="x"
        ),
        code="outside_scope",
    )
    refused(
        lambda: services.pledge_confirm(actor=staff, pledge=cworld.pledge),
        code="not_reported_kept",
    )
    services.pledge_mark_not_kept(actor=staff, pledge=cworld.pledge, reason="未完成")
    pledge = Pledge.objects.get(pk=cworld.pledge.pk)
    assert (pledge.status, pledge.review_note) == (PledgeStatus.NOT_KEPT, "未完成")


def test_every_write_is_audited(cworld):
    staff = cworld.cast.community_staff
    services.residence_report_confirm(actor=staff, report=cworld.pending_report)
    services.post_claim_approve(actor=staff, claim=cworld.claim)
    services.pledge_confirm(actor=staff, pledge=cworld.kept_pledge)
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "actor__username")) == [
        ("residence_report.confirm", "community_staff"),
        ("post_claim.approve", "community_staff"),
        ("pledge.confirm", "community_staff"),
    ]
