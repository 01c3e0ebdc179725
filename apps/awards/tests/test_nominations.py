"""The awards workflow's services: every refusal has its message and leaves nothing behind."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from apps.awards import nominations as svc
from apps.awards.models import (
    AssessmentYear,
    Award,
    Nomination,
    NominationStatus,
    Objection,
    ObjectionStatus,
)
from apps.awards.tests.award_fixtures import (  # noqa: F401
    AFTER_PUBLICITY,
    DEEDS,
    TODAY,
    nominate,
    nominated,
    nworld,
    publicised,
)
from apps.awards.tests.conftest import YEAR
from apps.core.models import AuditEntry
from apps.points.tests.helpers import make_record
from apps.service_records.models import RecordStatus
from conftest import zh


def refused(call, message, **kwargs):
    """``call(**kwargs)`` raises a ValidationError carrying ``message`` (already translated)."""
    before = (Nomination.objects.count(), Objection.objects.count(), Award.objects.count())
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        call(**kwargs)
    assert message in error.value.messages, error.value.messages
    assert (Nomination.objects.count(), Objection.objects.count(), Award.objects.count()) == before
    return error.value


def create_kwargs(w, **overrides):
    return {
        "actor": w.cast.branch_secretary,
        "assessment_year": w.assessment_year,
        "category": w.vcat,
        "deeds": DEEDS,
        "volunteer": w.cast.volunteer,
        **overrides,
    }


# Nominating ---------------------------------------------------------------------------------


def test_nominate_snapshots_the_figures_and_is_audited(nworld):  # noqa: F811
    nomination = nominate(nworld)
    assert nomination.organization == nworld.tree.branch
    assert nomination.status == NominationStatus.NOMINATED
    assert (nomination.hours, nomination.points) == (Decimal("3.00"), Decimal("12.50"))
    assert nomination.nominated_by == nworld.cast.branch_secretary
    assert AuditEntry.objects.filter(action="nomination.create", target_id=nomination.pk).exists()
    team = nominate(nworld, team=nworld.team)
    assert team.organization == nworld.tree.branch and team.hours == Decimal("3.00")


def test_over_quota_names_the_organisation(nworld):  # noqa: F811
    w = nworld
    w.vcat.min_average_rating = None
    w.vcat.save()
    w.quota.places = 1
    w.quota.save()
    nominate(w)
    error = refused(
        svc.nomination_create,
        zh("%(organization)s has used its %(places)s place for “%(category)s” in %(year)s.")
        % {"organization": "桂园社区党支部", "places": 1, "category": w.vcat.name, "year": YEAR},
        **create_kwargs(w, volunteer=w.cast.team_leader),
    )
    assert error.code == "quota_full"


def test_a_quota_above_caps_the_subtree(nworld):  # noqa: F811
    from apps.awards.models import Quota

    w = nworld
    w.vcat.min_average_rating = None
    w.vcat.save()
    Quota.objects.create(
        assessment_year=w.assessment_year, category=w.vcat, organization=w.tree.street, places=1
    )
    nominate(w)
    refused(
        svc.nomination_create,
        zh("%(organization)s has used its %(places)s place for “%(category)s” in %(year)s.")
        % {"organization": "东湖街道党工委", "places": 1, "category": w.vcat.name, "year": YEAR},
        **create_kwargs(w, volunteer=w.cast.team_leader),
    )


def _hours(w):
    w.vcat.min_hours = Decimal("5")
    return zh("%(hours)s approved hours in %(year)s; at least %(minimum)s are required.") % {
        "hours": Decimal("3.00"),
        "year": YEAR,
        "minimum": Decimal("5"),
    }


def _rating(w):
    w.vcat.min_average_rating = Decimal("5")
    return zh("Average rating %(rating)s; at least %(minimum)s is required.") % {
        "rating": Decimal("4.50"),
        "minimum": Decimal("5"),
    }


def _rejected(w):
    make_record(w.cast.volunteer, day=datetime.date(YEAR, 9, 1), status=RecordStatus.REJECTED)
    return zh("%(count)s rejected records in %(year)s; at most %(maximum)s are allowed.") % {
        "count": 1,
        "year": YEAR,
        "maximum": 0,
    }


def _not_rolled_up(w):
    w.assessment_year = AssessmentYear.objects.create(year=2024)
    return zh(
        "The roll-up of %(year)s has not been completed: the candidates' figures are not known yet."
    ) % {"year": 2024}


@pytest.mark.parametrize("rule", [_hours, _rating, _rejected, _not_rolled_up])
def test_an_ineligible_volunteer_is_refused(nworld, rule):  # noqa: F811
    message = rule(nworld)
    nworld.vcat.save()
    refused(svc.nomination_create, message, **create_kwargs(nworld))


def test_not_a_party_member_is_refused(nworld):  # noqa: F811
    refused(
        svc.nomination_create,
        zh("%(name)s is not an active party member: no organisation can nominate them.")
        % {"name": "张群众"},
        **create_kwargs(nworld, actor=nworld.cast.city_admin, volunteer=nworld.citizen),
    )


def test_nominating_twice(nworld):  # noqa: F811
    nominate(nworld)
    refused(
        svc.nomination_create,
        zh("Already nominated for “%(category)s” in %(year)s.")
        % {"category": nworld.vcat.name, "year": YEAR},
        **create_kwargs(nworld),
    )


def test_a_team_in_a_volunteer_category(nworld):  # noqa: F811
    refused(
        svc.nomination_create,
        zh("“%(category)s” is awarded to volunteers: nominate a volunteer.")
        % {"category": nworld.vcat.name},
        **create_kwargs(nworld, volunteer=None, team=nworld.team),
    )
    refused(
        svc.nomination_create,
        zh("“%(category)s” is awarded to teams: nominate a team.") % {"category": nworld.tcat.name},
        **create_kwargs(nworld, category=nworld.tcat),
    )


@pytest.mark.parametrize("deeds", ["", "   \n "])
def test_empty_deeds(nworld, deeds):  # noqa: F811
    refused(
        svc.nomination_create,
        zh("Describe the candidate's main deeds."),
        **create_kwargs(nworld, deeds=deeds),
    )


def test_an_inactive_category(nworld):  # noqa: F811
    nworld.vcat.active = False
    refused(
        svc.nomination_create,
        zh("“%(category)s” is no longer awarded.") % {"category": nworld.vcat.name},
        **create_kwargs(nworld),
    )


def test_no_nominations_once_the_publicity_started(publicised):  # noqa: F811
    w = publicised
    w.vcat.min_average_rating = None
    refused(
        svc.nomination_create,
        zh("The publicity of “%(category)s” for %(year)s has started: nominations are closed.")
        % {"category": w.vcat.name, "year": YEAR},
        **create_kwargs(w, volunteer=w.cast.team_leader),
    )


@pytest.mark.parametrize("role", ["other_branch_secretary", "inspector", "volunteer", "outsider"])
def test_only_managers_of_the_branch_nominate(nworld, role):  # noqa: F811
    with pytest.raises(PermissionDenied):
        svc.nomination_create(**create_kwargs(nworld, actor=getattr(nworld.cast, role)))
    assert not Nomination.objects.exists()


def test_the_city_nominates_anyone(nworld):  # noqa: F811
    nomination = nominate(nworld, actor=nworld.cast.city_admin)
    assert nomination.organization == nworld.tree.branch


# Withdrawing ----------------------------------------------------------------------------


def test_withdraw_frees_the_place(nominated):  # noqa: F811
    w = nominated
    svc.nomination_withdraw(
        actor=w.cast.branch_secretary, nomination=w.nomination, reason="本人申请"
    )
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.WITHDRAWN
    assert w.nomination.decision_note == "本人申请"
    assert nominate(w).status == NominationStatus.NOMINATED


def test_withdraw_needs_a_reason_and_a_manager(nominated):  # noqa: F811
    w = nominated
    refused(
        svc.nomination_withdraw,
        zh("Give the reason for withdrawing."),
        actor=w.cast.branch_secretary,
        nomination=w.nomination,
        reason=" ",
    )
    with pytest.raises(PermissionDenied):
        svc.nomination_withdraw(
            actor=w.cast.other_branch_secretary, nomination=w.nomination, reason="不合适"
        )
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.NOMINATED


def test_no_withdrawing_after_the_decision(publicised):  # noqa: F811
    w = publicised
    svc.nomination_decide(
        actor=w.cast.city_admin, nomination=w.nomination, awarded=True, today=AFTER_PUBLICITY
    )
    refused(
        svc.nomination_withdraw,
        zh("A nomination that is %(status)s cannot be withdrawn.") % {"status": "已授予"},
        actor=w.cast.city_admin,
        nomination=w.nomination,
        reason="撤回",
    )


# Publicity ------------------------------------------------------------------------------------


def test_publicity_start(nominated):  # noqa: F811
    w = nominated
    count = svc.publicity_start(
        actor=w.cast.city_admin, assessment_year=w.assessment_year, category=w.vcat, today=TODAY
    )
    w.nomination.refresh_from_db()
    assert count == 1
    assert (w.nomination.publicity_starts_on, w.nomination.publicity_ends_on) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 7),
    )


@pytest.mark.parametrize("days", [0, 61])
def test_publicity_days_out_of_range(nominated, days):  # noqa: F811
    refused(
        svc.publicity_start,
        zh("The publicity period lasts from 1 to 60 days."),
        actor=nominated.cast.city_admin,
        assessment_year=nominated.assessment_year,
        category=nominated.vcat,
        days=days,
    )
    nominated.nomination.refresh_from_db()
    assert nominated.nomination.status == NominationStatus.NOMINATED


def test_publicity_with_nobody_nominated(nworld):  # noqa: F811
    refused(
        svc.publicity_start,
        zh("Nobody is nominated for “%(category)s” in %(year)s.")
        % {"category": nworld.tcat.name, "year": YEAR},
        actor=nworld.cast.city_admin,
        assessment_year=nworld.assessment_year,
        category=nworld.tcat,
    )


@pytest.mark.parametrize("role", ["branch_secretary", "inspector", "volunteer"])
def test_only_the_city_starts_the_publicity(nominated, role):  # noqa: F811
    with pytest.raises(PermissionDenied):
        svc.publicity_start(
            actor=getattr(nominated.cast, role),
            assessment_year=nominated.assessment_year,
            category=nominated.vcat,
        )
    nominated.nomination.refresh_from_db()
    assert nominated.nomination.status == NominationStatus.NOMINATED


# Objections ---------------------------------------------------------------------------------

OBJECTION = "该同志的服务记录中有重复登记的情况，请核实。"


@pytest.mark.parametrize(
    "today", [datetime.date(2026, 2, 28), datetime.date(2026, 3, 8)], ids=["before", "after"]
)
def test_objection_outside_the_publicity_period(publicised, today):  # noqa: F811
    refused(
        svc.objection_create,
        zh("Objections are taken only during the publicity period."),
        actor=publicised.cast.outsider,
        nomination=publicised.nomination,
        text=OBJECTION,
        today=today,
    )


def test_objection_before_any_publicity(nominated):  # noqa: F811
    refused(
        svc.objection_create,
        zh("Objections are taken only during the publicity period."),
        actor=nominated.cast.outsider,
        nomination=nominated.nomination,
        text=OBJECTION,
        today=TODAY,
    )


@pytest.mark.parametrize(
    ("text", "contact", "message", "count"),
    [
        ("太短了", "", "Describe the objection in at least %(count)s characters.", 10),
        ("长" * 2001, "", "Keep the objection within %(count)s characters.", 2000),
        (OBJECTION, "1" * 65, "Keep the contact within %(count)s characters.", 64),
    ],
    ids=["too-short", "too-long", "contact-too-long"],
)
def test_objection_bad_text(publicised, text, contact, message, count):  # noqa: F811
    refused(
        svc.objection_create,
        zh(message) % {"count": count},
        actor=publicised.cast.outsider,
        nomination=publicised.nomination,
        text=text,
        contact=contact,
        today=TODAY,
    )


def test_anyone_signed_in_objects_during_the_publicity(publicised):  # noqa: F811
    objection = svc.objection_create(
        actor=publicised.cast.outsider,
        nomination=publicised.nomination,
        text=OBJECTION,
        contact="13800000000",
        today=datetime.date(2026, 3, 7),
    )
    assert objection.status == ObjectionStatus.OPEN
    assert objection.submitted_by == publicised.cast.outsider


def _objection(w):
    return svc.objection_create(
        actor=w.cast.outsider, nomination=w.nomination, text=OBJECTION, today=TODAY
    )


def test_resolving_an_objection(publicised):  # noqa: F811
    objection = _objection(publicised)
    with pytest.raises(PermissionDenied):
        svc.objection_resolve(
            actor=publicised.cast.branch_secretary,
            objection=objection,
            upheld=True,
            resolution="属实",
        )
    refused(
        svc.objection_resolve,
        zh("Write down the finding."),
        actor=publicised.cast.city_admin,
        objection=objection,
        upheld=True,
        resolution="",
    )
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.OPEN
    svc.objection_resolve(
        actor=publicised.cast.city_admin,
        objection=objection,
        upheld=False,
        resolution="经核实不属实",
    )
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED
    refused(
        svc.objection_resolve,
        zh("This objection has already been resolved."),
        actor=publicised.cast.city_admin,
        objection=objection,
        upheld=True,
        resolution="改判",
    )


# The decision --------------------------------------------------------------------------------


def decide(w, **kwargs):
    return {"actor": w.cast.city_admin, "nomination": w.nomination, "awarded": True, **kwargs}


def test_deciding_before_the_period_ends(publicised):  # noqa: F811
    refused(
        svc.nomination_decide,
        zh("The publicity runs until %(date)s: decide after it has ended.")
        % {"date": "2026-03-07"},
        **decide(publicised, today=datetime.date(2026, 3, 7)),
    )
    publicised.nomination.refresh_from_db()
    assert publicised.nomination.status == NominationStatus.PUBLICITY


def test_deciding_with_an_open_objection(publicised):  # noqa: F811
    _objection(publicised)
    refused(
        svc.nomination_decide,
        zh("Resolve the open objections before deciding."),
        **decide(publicised, today=AFTER_PUBLICITY),
    )


def test_an_upheld_objection_rules_out_the_award(publicised):  # noqa: F811
    w = publicised
    svc.objection_resolve(
        actor=w.cast.city_admin, objection=_objection(w), upheld=True, resolution="情况属实"
    )
    refused(
        svc.nomination_decide,
        zh("An objection to this nomination was upheld: it cannot be awarded."),
        **decide(w, today=AFTER_PUBLICITY),
    )
    svc.nomination_decide(**decide(w, awarded=False, note="异议成立", today=AFTER_PUBLICITY))
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.NOT_AWARDED
    assert not Award.objects.exists()


def test_not_awarding_needs_a_note(publicised):  # noqa: F811
    refused(
        svc.nomination_decide,
        zh("Give the reason for not awarding."),
        **decide(publicised, awarded=False, note="  ", today=AFTER_PUBLICITY),
    )
    publicised.nomination.refresh_from_db()
    assert publicised.nomination.status == NominationStatus.PUBLICITY


@pytest.mark.parametrize("role", ["branch_secretary", "inspector", "outsider"])
def test_only_the_city_decides(publicised, role):  # noqa: F811
    with pytest.raises(PermissionDenied):
        svc.nomination_decide(
            **decide(publicised, actor=getattr(publicised.cast, role), today=AFTER_PUBLICITY)
        )
    publicised.nomination.refresh_from_db()
    assert publicised.nomination.status == NominationStatus.PUBLICITY


def test_the_award_appears_on_the_volunteers_record(publicised):  # noqa: F811
    w = publicised
    svc.nomination_decide(**decide(w, today=AFTER_PUBLICITY))
    w.nomination.refresh_from_db()
    assert w.nomination.status == NominationStatus.AWARDED
    assert w.nomination.decided_by == w.cast.city_admin
    award = Award.objects.get(volunteer=w.cast.volunteer)
    assert (award.name, award.awarded_on, award.awarding_unit) == (
        "优秀党员志愿者（测试）",
        AFTER_PUBLICITY,
        "中共江城市委组织部",
    )
    assert award.nomination == w.nomination and award.assessment_year.year == YEAR
    assert AuditEntry.objects.filter(action="nomination.decide", target_id=w.nomination.pk).exists()
    refused(
        svc.nomination_decide,
        zh("Only a nomination in publicity can be decided; this one is %(status)s.")
        % {"status": "已授予"},
        **decide(w, today=AFTER_PUBLICITY),
    )


# Awards from elsewhere ----------------------------------------------------------------------


def test_a_manual_award(nworld):  # noqa: F811
    award = svc.award_create(
        actor=nworld.cast.city_admin,
        name="省级优秀志愿者",
        awarded_on=datetime.date(2025, 12, 5),
        awarding_unit="省委组织部",
        volunteer=nworld.cast.volunteer,
    )
    assert award.created_by == nworld.cast.city_admin and award.nomination is None


def test_a_manual_award_in_the_future(nworld):  # noqa: F811
    from django.utils import timezone

    error = refused(
        svc.award_create,
        zh("The date of the award cannot be in the future."),
        actor=nworld.cast.city_admin,
        name="省级优秀志愿者",
        awarded_on=timezone.localdate() + datetime.timedelta(days=1),
        awarding_unit="省委组织部",
        volunteer=nworld.cast.volunteer,
    )
    assert set(error.message_dict) == {"awarded_on"}


def test_a_manual_award_without_name_or_candidate(nworld):  # noqa: F811
    refused(
        svc.award_create,
        zh("Enter the name of the award."),
        actor=nworld.cast.city_admin,
        name=" ",
        awarded_on=datetime.date(2025, 12, 5),
        awarding_unit="省委组织部",
        team=nworld.team,
    )
    refused(
        svc.award_create,
        zh("Choose either a volunteer or a team."),
        actor=nworld.cast.city_admin,
        name="省级优秀志愿者",
        awarded_on=datetime.date(2025, 12, 5),
        awarding_unit="省委组织部",
    )
    with pytest.raises(PermissionDenied):
        svc.award_create(
            actor=nworld.cast.branch_secretary,
            name="省级优秀志愿者",
            awarded_on=datetime.date(2025, 12, 5),
            awarding_unit="省委组织部",
            volunteer=nworld.cast.volunteer,
        )
    assert not Award.objects.exists()
