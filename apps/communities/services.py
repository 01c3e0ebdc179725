"""Writes with rules on communities, pairings, residence reports, posts, claims and pledges.

Each service checks who acts, validates, writes inside one transaction and leaves an audit
entry. Pages, the API and the admin call these; none of them saves these models directly.
"""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import ServiceCategory
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log
from apps.organizations.models import EmploymentStatus, Membership, PartyOrganization
from apps.teams.models import Team

from .models import (
    HOLDING_CLAIMS,
    ClaimStatus,
    Community,
    CommunityKind,
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

COMMUNITY_FIELDS = (
    "name",
    "kind",
    "district",
    "street",
    "address",
    "contact_name",
    "contact_phone",
    "organization",
    "is_active",
)
SERVICE_POINT_FIELDS = (
    "name",
    "kind",
    "venue_type",
    "address",
    "opening_hours",
    "contact_name",
    "contact_phone",
    "services",
    "is_active",
)


def _outside(message: str) -> ValidationError:
    return ValidationError(message, code="outside_scope")


def _manages_organization(actor, organization: PartyOrganization | None) -> bool:
    scope = get_user_scope(actor)
    if scope.is_city_admin:
        return True
    return organization is not None and any(
        organization.path.startswith(path) for path in scope.manage_paths
    )


def _require_manages_community(actor, community: Community, message: str) -> None:
    """Community staff, the secretaries above the community, and the city's administrators."""
    if not Community.objects.manageable_by(actor).filter(pk=community.pk).exists():
        raise _outside(message)


def _field_error(field: str, message: str, *, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _field_error(field, message, code="required")
    return value


def _details(instance, fields) -> dict:
    return {field: str(getattr(instance, field) or "") for field in fields}


# Communities and their staff ---------------------------------------------------------------


@transaction.atomic
def community_create(
    *,
    actor,
    name: str,
    district: str,
    street: str,
    organization: PartyOrganization | None,
    kind: str = CommunityKind.COMMUNITY,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Community:
    community = Community(
        name=name,
        kind=kind,
        district=district,
        street=street,
        organization=organization,
        address=address,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    if not _manages_organization(actor, community.organization):
        raise _outside(
            _("You can only add communities whose party organisation you manage."),
        )
    community.full_clean()
    community.save()
    audit_log(
        actor=actor,
        action="community.create",
        target=community,
        details=_details(community, COMMUNITY_FIELDS),
    )
    return community


@transaction.atomic
def community_update(*, actor, community: Community, **fields) -> Community:
    stored = Community.objects.select_related("organization").get(pk=community.pk)
    if not _manages_organization(actor, stored.organization):
        raise _outside(_("You can only change communities whose party organisation you manage."))
    for field, value in fields.items():
        if field in COMMUNITY_FIELDS:
            setattr(community, field, value)
    if community.organization_id != stored.organization_id and not _manages_organization(
        actor, community.organization
    ):
        raise _field_error(
            "organization",
            _("You can only choose a party organisation you manage."),
            code="outside_scope",
        )
    community.full_clean()
    community.save()
    audit_log(
        actor=actor,
        action="community.update",
        target=community,
        details=_details(community, COMMUNITY_FIELDS),
    )
    return community


@transaction.atomic
def community_staff_appoint(
    *, actor, community: Community, user, started_on: datetime.date | None = None
) -> CommunityStaff:
    if not _manages_organization(actor, community.organization):
        raise _outside(_("Staff are appointed by the party organisation the community belongs to."))
    if not community.is_active:
        raise _field_error("community", _("This community is no longer active."), code="inactive")
    staff = CommunityStaff(
        user=user, community=community, started_on=started_on or timezone.localdate()
    )
    try:
        with transaction.atomic():
            staff.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("This person already works for this community."), code="staff_exists"
        ) from exc
    audit_log(actor=actor, action="community_staff.appoint", target=staff)
    return staff


@transaction.atomic
def community_staff_end(
    *, actor, staff: CommunityStaff, ended_on: datetime.date | None = None
) -> CommunityStaff:
    if not CommunityStaff.objects.manageable_by(actor).filter(pk=staff.pk).exists():
        raise _outside(_("Staff are appointed by the party organisation the community belongs to."))
    if staff.ended_on is not None:
        raise ValidationError(_("This appointment has already ended."), code="already_ended")
    ended_on = ended_on or timezone.localdate()
    if ended_on < staff.started_on:
        raise _field_error(
            "ended_on", _("An appointment cannot end before it starts."), code="ends_early"
        )
    staff.ended_on = ended_on
    staff.save(update_fields=["ended_on"])
    audit_log(actor=actor, action="community_staff.end", target=staff)
    return staff


# Service points ------------------------------------------------------------------------------


@transaction.atomic
def service_point_create(
    *, actor, community: Community, service_categories=(), **fields
) -> ServicePoint:
    _require_manages_community(
        actor, community, _("You can only add service points to communities you manage.")
    )
    point = ServicePoint(
        community=community, **{k: v for k, v in fields.items() if k in SERVICE_POINT_FIELDS}
    )
    point.full_clean()
    point.save()
    if service_categories:
        point.service_categories.set(service_categories)
    audit_log(
        actor=actor,
        action="service_point.create",
        target=point,
        details=_details(point, SERVICE_POINT_FIELDS),
    )
    return point


@transaction.atomic
def service_point_update(
    *, actor, service_point: ServicePoint, service_categories=None, **fields
) -> ServicePoint:
    stored = ServicePoint.objects.select_related("community").get(pk=service_point.pk)
    _require_manages_community(
        actor, stored.community, _("You can only change service points of communities you manage.")
    )
    for field, value in fields.items():
        if field in SERVICE_POINT_FIELDS:
            setattr(service_point, field, value)
    service_point.community_id = stored.community_id
    service_point.full_clean()
    service_point.save()
    if service_categories is not None:
        service_point.service_categories.set(service_categories)
    audit_log(
        actor=actor,
        action="service_point.update",
        target=service_point,
        details=_details(service_point, SERVICE_POINT_FIELDS),
    )
    return service_point


# Team pairings -------------------------------------------------------------------------------


@transaction.atomic
def team_pairing_create(
    *,
    actor,
    team: Team,
    community: Community,
    started_on: datetime.date | None = None,
    agreement_note: str = "",
) -> TeamPairing:
    """Pair a team with a community; agreed by the party organisation that owns the team."""
    # Lock the team so two requests cannot both pass the overlap check.
    team = Team.objects.select_for_update().select_related("organization").get(pk=team.pk)
    if not _manages_organization(actor, team.organization):
        raise _outside(_("Pairings are agreed by the party organisation that owns the team."))
    if not team.is_active:
        raise _field_error(
            "team", _("This team is no longer active and cannot be paired."), code="inactive"
        )
    if not community.is_active:
        raise _field_error(
            "community",
            _("This community is no longer active and cannot be paired."),
            code="inactive",
        )
    started_on = started_on or timezone.localdate()
    overlapping = TeamPairing.objects.filter(team=team, community=community).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=started_on)
    )
    if overlapping.exists():
        raise ValidationError(
            _(
                "This team is already paired with this community for these dates. End the "
                "existing pairing first, or start the new one after it ends."
            ),
            code="overlapping_pairing",
        )
    pairing = TeamPairing(
        team=team,
        community=community,
        started_on=started_on,
        agreement_note=agreement_note,
        created_by=actor,
    )
    pairing.full_clean()
    pairing.save()
    audit_log(
        actor=actor,
        action="team_pairing.create",
        target=pairing,
        details={"team_id": team.pk, "community_id": community.pk, "from": str(started_on)},
    )
    return pairing


@transaction.atomic
def team_pairing_end(
    *, actor, pairing: TeamPairing, ended_on: datetime.date | None = None
) -> TeamPairing:
    pairing = TeamPairing.objects.select_for_update().get(pk=pairing.pk)
    if not TeamPairing.objects.manageable_by(actor).filter(pk=pairing.pk).exists():
        raise _outside(_("Pairings are agreed by the party organisation that owns the team."))
    if pairing.ended_on is not None:
        raise ValidationError(_("This pairing has already ended."), code="already_ended")
    ended_on = ended_on or timezone.localdate()
    if ended_on < pairing.started_on:
        raise _field_error(
            "ended_on", _("A pairing cannot end before it starts."), code="ends_early"
        )
    pairing.ended_on = ended_on
    pairing.save(update_fields=["ended_on"])
    audit_log(
        actor=actor, action="team_pairing.end", target=pairing, details={"until": str(ended_on)}
    )
    return pairing


# Residence reports (在职党员社区报到) -------------------------------------------------------


def _new_report_number(today: datetime.date) -> str:
    while True:
        number = f"BD{today:%Y%m%d}{secrets.randbelow(10**6):06d}"
        if not ResidenceReport.objects.filter(number=number).exists():
            return number


@transaction.atomic
def residence_report_submit(
    *, user, community: Community, home_address: str, skills_offered: str = ""
) -> ResidenceReport:
    membership = Membership.objects.active().filter(user=user).first()
    if membership is None:
        raise ValidationError(
            _("Only party members registered with a party organisation can report to a community."),
            code="not_a_member",
        )
    if membership.employment != EmploymentStatus.EMPLOYED:
        raise ValidationError(
            _("Reporting to the residence community is for party members in service."),
            code="not_in_service",
        )
    if not community.is_active:
        raise _field_error("community", _("This community is no longer active."), code="inactive")
    home_address = _require_text(home_address, "home_address", _("Please enter your home address."))
    # Lock the member's reports so two submissions at once cannot both pass the checks.
    current = list(
        ResidenceReport.objects.select_for_update()
        .filter(
            user=user, status__in=[ResidenceReportStatus.PENDING, ResidenceReportStatus.CONFIRMED]
        )
        .values_list("status", flat=True)
    )
    if ResidenceReportStatus.PENDING in current:
        raise ValidationError(
            _(
                "You already have a report awaiting confirmation. Withdraw it or wait for the "
                "community's answer."
            ),
            code="report_pending",
        )
    if ResidenceReportStatus.CONFIRMED in current:
        raise ValidationError(
            _(
                "You are already reported to a community. End that report (after moving away) "
                "before reporting to another."
            ),
            code="report_confirmed",
        )
    report = ResidenceReport(
        number=_new_report_number(timezone.localdate()),
        user=user,
        community=community,
        home_address=home_address,
        skills_offered=(skills_offered or "").strip(),
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:
        raise ValidationError(
            _(
                "You already have a report awaiting confirmation. Withdraw it or wait for the "
                "community's answer."
            ),
            code="report_pending",
        ) from exc
    audit_log(
        actor=user,
        action="residence_report.submit",
        target=report,
        details={"community_id": community.pk, "number": report.number},
    )
    return report


def _lock_report(report: ResidenceReport) -> ResidenceReport:
    return ResidenceReport.objects.select_for_update().get(pk=report.pk)


def _require_manages_report(actor, report: ResidenceReport) -> None:
    if not ResidenceReport.objects.manageable_by(actor).filter(pk=report.pk).exists():
        raise _outside(_("Only the community's staff can decide on this report."))


def _require_pending_report(report: ResidenceReport) -> None:
    if report.status != ResidenceReportStatus.PENDING:
        raise ValidationError(
            _("This report is no longer awaiting confirmation."), code="not_pending"
        )


@transaction.atomic
def residence_report_confirm(*, actor, report: ResidenceReport) -> ResidenceReport:
    report = _lock_report(report)
    _require_manages_report(actor, report)
    _require_pending_report(report)
    report.status = ResidenceReportStatus.CONFIRMED
    report.reviewed_by = actor
    report.reviewed_at = timezone.now()
    report.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_log(actor=actor, action="residence_report.confirm", target=report)
    return report


@transaction.atomic
def residence_report_return(*, actor, report: ResidenceReport, reason: str) -> ResidenceReport:
    reason = _require_text(reason, "reason", _("Please say why the report is returned."))
    report = _lock_report(report)
    _require_manages_report(actor, report)
    _require_pending_report(report)
    report.status = ResidenceReportStatus.RETURNED
    report.return_reason = reason[:255]
    report.reviewed_by = actor
    report.reviewed_at = timezone.now()
    report.save(update_fields=["status", "return_reason", "reviewed_by", "reviewed_at"])
    audit_log(
        actor=actor, action="residence_report.return", target=report, details={"reason": reason}
    )
    return report


@transaction.atomic
def residence_report_withdraw(*, user, report: ResidenceReport) -> ResidenceReport:
    report = _lock_report(report)
    if report.user_id != user.pk:
        raise _outside(_("Only the member who submitted a report can withdraw it."))
    _require_pending_report(report)
    report.status = ResidenceReportStatus.WITHDRAWN
    report.save(update_fields=["status"])
    audit_log(actor=user, action="residence_report.withdraw", target=report)
    return report


@transaction.atomic
def residence_report_end(
    *, actor, report: ResidenceReport, ended_on: datetime.date | None = None
) -> ResidenceReport:
    """The member moved away: the member or the community ends a confirmed report."""
    report = _lock_report(report)
    if report.user_id != actor.pk:
        _require_manages_report(actor, report)
    if report.status != ResidenceReportStatus.CONFIRMED:
        raise ValidationError(_("Only a confirmed report can be ended."), code="not_confirmed")
    ended_on = ended_on or timezone.localdate()
    if ended_on < timezone.localtime(report.submitted_at).date():
        raise _field_error(
            "ended_on", _("A report cannot end before it was submitted."), code="ends_early"
        )
    report.status = ResidenceReportStatus.ENDED
    report.ended_on = ended_on
    report.save(update_fields=["status", "ended_on"])
    audit_log(
        actor=actor,
        action="residence_report.end",
        target=report,
        details={"ended_on": str(ended_on)},
    )
    return report


def _has_confirmed_report(user, community: Community) -> bool:
    return ResidenceReport.objects.filter(
        user=user, community=community, status=ResidenceReportStatus.CONFIRMED
    ).exists()


# Posts and claims (岗位 / 认领) -------------------------------------------------------------


def _validate_post_dates(starts_on, ends_on) -> None:
    if ends_on is not None and starts_on is not None and ends_on < starts_on:
        raise _field_error("ends_on", _("A post cannot end before it starts."), code="ends_early")


def _validate_slots(slots) -> None:
    if slots is None or int(slots) < 1:
        raise _field_error("slots", _("A post needs at least one place."), code="min_slots")


@transaction.atomic
def post_publish(
    *,
    actor,
    community: Community,
    title: str,
    description: str = "",
    slots: int,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    service_category: ServiceCategory | None = None,
) -> Post:
    _require_manages_community(
        actor, community, _("Only the community's staff can publish its posts.")
    )
    if not community.is_active:
        raise _field_error("community", _("This community is no longer active."), code="inactive")
    title = _require_text(title, "title", _("Please give the post a title."))
    _validate_slots(slots)
    starts_on = starts_on or timezone.localdate()
    _validate_post_dates(starts_on, ends_on)
    post = Post(
        community=community,
        title=title,
        description=description or "",
        slots=slots,
        starts_on=starts_on,
        ends_on=ends_on,
        service_category=service_category,
        created_by=actor,
    )
    post.full_clean()
    post.save()
    audit_log(
        actor=actor,
        action="post.publish",
        target=post,
        details={"community_id": community.pk, "slots": slots},
    )
    return post


POST_FIELDS = ("title", "description", "slots", "starts_on", "ends_on", "service_category")


@transaction.atomic
def post_update(*, actor, post: Post, **fields) -> Post:
    stored = Post.objects.select_for_update().get(pk=post.pk)
    _require_manages_community(
        actor, stored.community, _("Only the community's staff can change its posts.")
    )
    for field, value in fields.items():
        if field in POST_FIELDS:
            setattr(post, field, value)
    post.community_id = stored.community_id
    post.title = _require_text(post.title, "title", _("Please give the post a title."))
    _validate_slots(post.slots)
    _validate_post_dates(post.starts_on, post.ends_on)
    taken = stored.claims.filter(status__in=HOLDING_CLAIMS).count()
    if post.slots < taken:
        raise _field_error(
            "slots",
            _("%(taken)d members have already claimed this post; it cannot have fewer places.")
            % {"taken": taken},
            code="below_claims",
        )
    post.full_clean()
    post.save()
    audit_log(actor=actor, action="post.update", target=post, details=_details(post, POST_FIELDS))
    return post


@transaction.atomic
def post_close(*, actor, post: Post) -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    _require_manages_community(
        actor, post.community, _("Only the community's staff can change its posts.")
    )
    if not post.is_published:
        raise ValidationError(_("This post is already closed."), code="closed")
    post.is_published = False
    post.save(update_fields=["is_published"])
    audit_log(actor=actor, action="post.close", target=post)
    return post


@transaction.atomic
def post_claim(*, user, post: Post, note: str = "") -> PostClaim:
    """Claim a place on a post. The post row is locked: two claims on the last place queue."""
    post = Post.objects.select_for_update().select_related("community").get(pk=post.pk)
    if not post.is_published:
        raise ValidationError(_("This post is closed."), code="closed")
    if post.ends_on is not None and post.ends_on < timezone.localdate():
        raise ValidationError(_("This post has ended."), code="ended")
    if not _has_confirmed_report(user, post.community):
        raise ValidationError(
            _(
                "Only party members whose report to this community has been confirmed can "
                "claim its posts."
            ),
            code="not_reported",
        )
    claims = PostClaim.objects.filter(post=post, status__in=HOLDING_CLAIMS)
    if claims.filter(user=user).exists():
        raise ValidationError(_("You have already claimed this post."), code="already_claimed")
    if claims.count() >= post.slots:
        raise ValidationError(_("All places on this post have been claimed."), code="post_full")
    claim = PostClaim(post=post, user=user, note=(note or "").strip()[:255])
    claim.save()
    audit_log(actor=user, action="post_claim.create", target=claim, details={"post_id": post.pk})
    return claim


def _lock_claim(claim: PostClaim) -> PostClaim:
    return PostClaim.objects.select_for_update().select_related("post").get(pk=claim.pk)


def _require_manages_claim(actor, claim: PostClaim) -> None:
    if not PostClaim.objects.manageable_by(actor).filter(pk=claim.pk).exists():
        raise _outside(_("Only the community's staff can decide on claims."))


def _require_pending_claim(claim: PostClaim) -> None:
    if claim.status != ClaimStatus.PENDING:
        raise ValidationError(_("This claim is no longer awaiting approval."), code="not_pending")


@transaction.atomic
def post_claim_approve(*, actor, claim: PostClaim) -> PostClaim:
    claim = _lock_claim(claim)
    _require_manages_claim(actor, claim)
    _require_pending_claim(claim)
    claim.status = ClaimStatus.APPROVED
    claim.reviewed_by = actor
    claim.reviewed_at = timezone.now()
    claim.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_log(actor=actor, action="post_claim.approve", target=claim)
    return claim


@transaction.atomic
def post_claim_reject(*, actor, claim: PostClaim, reason: str) -> PostClaim:
    reason = _require_text(reason, "reason", _("Please say why the claim is rejected."))
    claim = _lock_claim(claim)
    _require_manages_claim(actor, claim)
    _require_pending_claim(claim)
    claim.status = ClaimStatus.REJECTED
    claim.reject_reason = reason[:255]
    claim.reviewed_by = actor
    claim.reviewed_at = timezone.now()
    claim.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
    audit_log(actor=actor, action="post_claim.reject", target=claim, details={"reason": reason})
    return claim


@transaction.atomic
def post_claim_withdraw(*, user, claim: PostClaim) -> PostClaim:
    claim = _lock_claim(claim)
    if claim.user_id != user.pk:
        raise _outside(_("Only the member who made a claim can withdraw it."))
    if claim.status not in HOLDING_CLAIMS:
        raise ValidationError(_("This claim can no longer be withdrawn."), code="not_open")
    claim.status = ClaimStatus.WITHDRAWN
    claim.save(update_fields=["status"])
    audit_log(actor=user, action="post_claim.withdraw", target=claim)
    return claim


# Pledges (承诺践诺) -------------------------------------------------------------------------


@transaction.atomic
def pledge_make(*, user, community: Community, year: int, content: str, target: str) -> Pledge:
    if year is None or int(year) < timezone.localdate().year:
        raise _field_error("year", _("A pledge cannot be made for a past year."), code="past_year")
    year = int(year)
    if year > timezone.localdate().year + 1:
        raise _field_error(
            "year", _("A pledge can be made for this year or next year only."), code="far_year"
        )
    content = _require_text(content, "content", _("Please write what you pledge."))
    target = _require_text(target, "target", _("Please say how keeping the pledge is measured."))
    if not _has_confirmed_report(user, community):
        raise ValidationError(
            _(
                "Only party members whose report to this community has been confirmed can "
                "make a pledge there."
            ),
            code="not_reported",
        )
    if Pledge.objects.filter(user=user, year=year).exists():
        raise _field_error(
            "year", _("You have already made a pledge for this year."), code="pledge_exists"
        )
    pledge = Pledge(user=user, community=community, year=year, content=content, target=target[:255])
    try:
        with transaction.atomic():
            pledge.save()
    except IntegrityError as exc:
        raise _field_error(
            "year", _("You have already made a pledge for this year."), code="pledge_exists"
        ) from exc
    audit_log(
        actor=user,
        action="pledge.make",
        target=pledge,
        details={"community_id": community.pk, "year": year},
    )
    return pledge


def _lock_pledge(pledge: Pledge) -> Pledge:
    return Pledge.objects.select_for_update().get(pk=pledge.pk)


@transaction.atomic
def pledge_report_kept(*, user, pledge: Pledge, evidence: str) -> Pledge:
    evidence = _require_text(evidence, "evidence", _("Please describe how you kept the pledge."))
    pledge = _lock_pledge(pledge)
    if pledge.user_id != user.pk:
        raise _outside(_("Only the member who made a pledge can report it kept."))
    if pledge.status not in (PledgeStatus.MADE, PledgeStatus.NOT_KEPT):
        raise ValidationError(
            _("This pledge has already been reported as kept."), code="already_reported"
        )
    pledge.status = PledgeStatus.KEPT_REPORTED
    pledge.evidence = evidence
    pledge.reported_kept_at = timezone.now()
    pledge.save(update_fields=["status", "evidence", "reported_kept_at"])
    audit_log(actor=user, action="pledge.report_kept", target=pledge)
    return pledge


def _require_manages_pledge(actor, pledge: Pledge) -> None:
    if not Pledge.objects.manageable_by(actor).filter(pk=pledge.pk).exists():
        raise _outside(_("Only the community's staff can confirm pledges."))


@transaction.atomic
def pledge_confirm(*, actor, pledge: Pledge) -> Pledge:
    pledge = _lock_pledge(pledge)
    _require_manages_pledge(actor, pledge)
    if pledge.status != PledgeStatus.KEPT_REPORTED:
        raise ValidationError(
            _("Only a pledge the member reported as kept can be confirmed."),
            code="not_reported_kept",
        )
    pledge.status = PledgeStatus.CONFIRMED
    pledge.confirmed_by = actor
    pledge.confirmed_at = timezone.now()
    pledge.review_note = ""
    pledge.save(update_fields=["status", "confirmed_by", "confirmed_at", "review_note"])
    audit_log(actor=actor, action="pledge.confirm", target=pledge)
    return pledge


@transaction.atomic
def pledge_mark_not_kept(*, actor, pledge: Pledge, reason: str) -> Pledge:
    reason = _require_text(reason, "reason", _("Please say why the pledge was not kept."))
    pledge = _lock_pledge(pledge)
    _require_manages_pledge(actor, pledge)
    if pledge.status not in (PledgeStatus.MADE, PledgeStatus.KEPT_REPORTED):
        raise ValidationError(_("This pledge has already been decided."), code="decided")
    pledge.status = PledgeStatus.NOT_KEPT
    pledge.review_note = reason[:255]
    pledge.confirmed_by = actor
    pledge.confirmed_at = timezone.now()
    pledge.save(update_fields=["status", "review_note", "confirmed_by", "confirmed_at"])
    audit_log(actor=actor, action="pledge.mark_not_kept", target=pledge, details={"reason": reason})
    return pledge
