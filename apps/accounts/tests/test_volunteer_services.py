"""Volunteer registration, review, changes to verified fields, training: rules and bad input."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone, translation

from apps.accounts import services
from apps.accounts.models import (
    ChangeRequestStatus,
    ProfileChangeRequest,
    ServiceCategory,
    TrainingRecord,
    User,
    VolunteerProfile,
    VolunteerStatus,
)
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.volunteer_helpers import (
    add_profile,
    make_id_number,
    registration,
    years_ago,
)
from apps.core.models import AuditEntry


def _refused(call, *, field=None, message=None, code=None):
    """Run ``call`` expecting a ValidationError; check its field, English message and code."""
    with translation.override("en"), pytest.raises(ValidationError) as info:
        call()
    error = info.value
    if field is not None:
        assert field in error.error_dict, error
        errors = error.error_dict[field]
    else:
        errors = error.error_list
    with translation.override("en"):
        messages = [str(m) for e in errors for m in e.messages]
    if message is not None:
        assert message in messages, messages
    if code is not None:
        assert code in [e.code for e in errors], [e.code for e in errors]
    return error


def _snapshot():
    return (
        VolunteerProfile.objects.count(),
        ProfileChangeRequest.objects.count(),
        TrainingRecord.objects.count(),
        list(User.objects.order_by("pk").values_list("real_name", "gender", "id_number_hash")),
        list(VolunteerProfile.objects.order_by("pk").values_list("status", "birth_date")),
    )


@pytest.fixture
def applicant(tree):
    user = UserFactory(username="applicant", real_name="赵小红", id_number="")
    return user


# --- registration ------------------------------------------------------------------------------


def test_register_creates_a_pending_profile_with_identity_on_the_user(applicant, community):
    data = registration(applicant, community=community, real_name="赵小红", gender="female")
    profile = services.volunteer_register(**data)
    assert profile.status == VolunteerStatus.PENDING
    assert re.fullmatch(r"V\d{9}", profile.volunteer_number)
    applicant.refresh_from_db()
    assert applicant.id_number == data["id_number"]
    assert applicant.gender == "female"
    assert profile.consent_at is not None
    assert profile.guardian_consent_at is None
    assert profile.service_categories.count() == 2
    assert AuditEntry.objects.filter(
        action="volunteer.register", target_id=str(profile.pk)
    ).exists()


def test_volunteer_numbers_are_unique_and_not_derived_from_the_id_number(tree):
    numbers = set()
    for _ in range(30):
        user = UserFactory(id_number="")
        data = registration(user)
        profile = services.volunteer_register(**data)
        digits = data["id_number"]
        assert profile.volunteer_number[1:] not in digits
        assert (
            profile.volunteer_number[-4:] != digits[-5:-1]
            or profile.volunteer_number[1:7] != digits[:6]
        )
        numbers.add(profile.volunteer_number)
    assert len(numbers) == 30


def test_volunteer_number_draws_again_on_a_collision(tree, monkeypatch):
    first = add_profile(UserFactory(id_number=""))
    draws = iter([int(first.volunteer_number[1:]), 123456789])
    monkeypatch.setattr(services.secrets, "randbelow", lambda _n: next(draws))
    second = services.volunteer_register(**registration(UserFactory(id_number="")))
    assert second.volunteer_number == "V123456789"


def test_second_registration_with_the_same_id_number_is_refused(tree, applicant):
    first = registration(applicant)
    services.volunteer_register(**first)
    other = UserFactory(id_number="")
    before = _snapshot()
    _refused(
        lambda: services.volunteer_register(**registration(other, id_number=first["id_number"])),
        field="id_number",
        message="A volunteer with this ID number is already registered.",
        code="id_number_taken",
    )
    assert _snapshot() == before


def test_a_user_registers_only_once(applicant):
    services.volunteer_register(**registration(applicant))
    before = _snapshot()
    _refused(
        lambda: services.volunteer_register(**registration(applicant)),
        message="You are already registered as a volunteer.",
        code="already_registered",
    )
    assert _snapshot() == before


BIRTH = datetime.date(1990, 5, 17)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"consent": False}, "consent", "Registration needs your consent to the use of your data."),
        ({"real_name": "  "}, "real_name", "Enter your real name."),
        ({"gender": "unknown"}, "gender", "Choose a gender."),
        (
            {"id_number": "12345"},
            "id_number",
            "An ID number has 18 characters: 17 digits and a final digit or X.",
        ),
        (
            {"id_number": "420106199005171230"},
            "id_number",
            "The check digit of this ID number is wrong; please check the number.",
        ),
        (
            {"birth_date": datetime.date(1991, 5, 17)},
            "birth_date",
            "The date of birth does not match the one in the ID number.",
        ),
        (
            {"birth_date": timezone.localdate() + datetime.timedelta(days=3)},
            "birth_date",
            "The date of birth cannot be in the future.",
        ),
        (
            {"residence_area": ""},
            "residence_area",
            "Enter the district and street or town where you live.",
        ),
        (
            {"available_times": ["midnight"]},
            "available_times",
            "Choose the available times from the list.",
        ),
        (
            {"service_category_ids": [999999]},
            "service_category_ids",
            "Choose the service categories from the list.",
        ),
    ],
)
def test_registration_bad_input(applicant, overrides, field, message):
    data = registration(applicant, birth=BIRTH)
    data.update(overrides)
    before = _snapshot()
    _refused(lambda: services.volunteer_register(**data), field=field, message=message)
    assert _snapshot() == before
    assert not VolunteerProfile.objects.filter(user=applicant).exists()


def test_registration_refuses_an_inactive_community(applicant, community):
    community.is_active = False
    community.save()
    before = _snapshot()
    _refused(
        lambda: services.volunteer_register(**registration(applicant, community=community)),
        field="residence_community",
        message="This community no longer takes registrations.",
    )
    assert _snapshot() == before


def test_registration_refuses_an_inactive_category(applicant):
    category = ServiceCategory.objects.first()
    category.is_active = False
    category.save()
    data = registration(applicant, service_category_ids=[category.pk])
    _refused(lambda: services.volunteer_register(**data), field="service_category_ids")
    assert not VolunteerProfile.objects.exists()


@override_settings(VOLUNTEER_MINIMUM_AGE=6)
def test_registration_refuses_children_below_the_minimum_age(applicant):
    birth = years_ago(5)
    data = registration(applicant, birth=birth, guardian_consent=True, guardian_name="赵大")
    _refused(
        lambda: services.volunteer_register(**data),
        field="birth_date",
        message="Volunteers must be at least 6 years old.",
        code="too_young",
    )
    assert not VolunteerProfile.objects.exists()


def _minor(applicant, **guardian):
    return registration(applicant, birth=years_ago(12), **guardian)


GUARDIAN = {
    "guardian_name": "赵大",
    "guardian_phone": "13912345678",
    "guardian_relation": "父亲",
    "guardian_consent": True,
}


@override_settings(VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE=14)
@pytest.mark.parametrize("missing", sorted(GUARDIAN))
def test_a_minor_needs_every_guardian_field(applicant, missing):
    guardian = dict(GUARDIAN)
    guardian[missing] = False if missing == "guardian_consent" else ""
    data = _minor(applicant, **guardian)
    before = _snapshot()
    error = _refused(lambda: services.volunteer_register(**data), field=missing)
    assert set(error.error_dict) == {missing}
    assert _snapshot() == before


@override_settings(VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE=14)
def test_a_minor_without_guardian_consent_gets_a_clear_message(applicant):
    data = _minor(applicant, **{**GUARDIAN, "guardian_consent": False})
    _refused(
        lambda: services.volunteer_register(**data),
        field="guardian_consent",
        message="A volunteer under 14 years needs the guardian's consent.",
    )


def test_a_guardian_phone_must_be_a_mobile_number(applicant):
    data = _minor(applicant, **{**GUARDIAN, "guardian_phone": "12345"})
    _refused(lambda: services.volunteer_register(**data), field="guardian_phone")
    assert not VolunteerProfile.objects.exists()


def test_a_minor_with_guardian_consent_is_registered_and_the_consent_recorded(applicant):
    profile = services.volunteer_register(**_minor(applicant, **GUARDIAN))
    assert profile.guardian_consent_at is not None
    assert profile.guardian_name == "赵大"


def test_the_age_limits_follow_the_settings(applicant):
    with override_settings(VOLUNTEER_GUARDIAN_CONSENT_BELOW_AGE=10):
        profile = services.volunteer_register(**_minor(applicant))
    assert profile.guardian_consent_at is None


# --- review ------------------------------------------------------------------------------------


@pytest.fixture
def pending(tree, community):
    user = UserFactory(username="pending_one", id_number="")
    from apps.organizations.tests.factories import MembershipFactory

    MembershipFactory(user=user, organization=tree.branch)
    return add_profile(user, status=VolunteerStatus.PENDING, community=community)


def test_secretary_approves_a_pending_registration(pending, branch_secretary):
    services.volunteer_approve(actor=branch_secretary, profile=pending)
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.ACTIVE
    assert pending.reviewed_by == branch_secretary
    assert AuditEntry.objects.filter(action="volunteer.approve").count() == 1


def test_community_staff_approve_volunteers_of_their_community(pending, community_staff):
    services.volunteer_approve(actor=community_staff, profile=pending)
    assert VolunteerProfile.objects.get(pk=pending.pk).status == VolunteerStatus.ACTIVE


@pytest.mark.parametrize("role", ["other_branch_secretary", "inspector", "volunteer", "outsider"])
def test_only_managers_review(pending, cast, role):
    before = _snapshot()
    _refused(
        lambda: services.volunteer_approve(actor=getattr(cast, role), profile=pending),
        message="You can only review volunteers you are responsible for.",
        code="outside_scope",
    )
    assert _snapshot() == before


def test_nobody_reviews_their_own_registration(tree, city_admin):
    profile = add_profile(city_admin, status=VolunteerStatus.PENDING)
    _refused(
        lambda: services.volunteer_approve(actor=city_admin, profile=profile),
        code="outside_scope",
    )


def test_reject_needs_a_reason(pending, branch_secretary):
    before = _snapshot()
    _refused(
        lambda: services.volunteer_reject(actor=branch_secretary, profile=pending, reason=" "),
        field="reason",
        message="Give a reason.",
    )
    assert _snapshot() == before
    services.volunteer_reject(actor=branch_secretary, profile=pending, reason="信息不实")
    pending.refresh_from_db()
    assert (pending.status, pending.review_note) == (VolunteerStatus.REJECTED, "信息不实")


def test_status_transitions(pending, branch_secretary):
    _refused(
        lambda: services.volunteer_suspend(actor=branch_secretary, profile=pending, reason="x"),
        message="Only an active volunteer can be suspended.",
    )
    _refused(
        lambda: services.volunteer_reinstate(actor=branch_secretary, profile=pending),
        message="Only a suspended volunteer can be reinstated.",
    )
    services.volunteer_approve(actor=branch_secretary, profile=pending)
    _refused(
        lambda: services.volunteer_approve(actor=branch_secretary, profile=pending),
        message="Only a registration awaiting review can be approved.",
    )
    _refused(
        lambda: services.volunteer_reject(actor=branch_secretary, profile=pending, reason="x"),
        message="Only a registration awaiting review can be rejected.",
    )
    services.volunteer_suspend(actor=branch_secretary, profile=pending, reason="多次缺勤")
    assert VolunteerProfile.objects.get(pk=pending.pk).status == VolunteerStatus.SUSPENDED
    services.volunteer_reinstate(actor=branch_secretary, profile=pending)
    assert VolunteerProfile.objects.get(pk=pending.pk).status == VolunteerStatus.ACTIVE
    services.volunteer_withdraw(user=pending.user)
    assert VolunteerProfile.objects.get(pk=pending.pk).status == VolunteerStatus.WITHDRAWN
    _refused(
        lambda: services.volunteer_withdraw(user=pending.user),
        message="This registration has already ended.",
    )


def test_withdraw_without_a_profile(outsider):
    _refused(
        lambda: services.volunteer_withdraw(user=outsider),
        message="You are not registered as a volunteer.",
    )


# --- the volunteer's own changes ---------------------------------------------------------------


def test_profile_update_applies_non_verified_fields(pending, other_community):
    category = ServiceCategory.objects.last()
    services.volunteer_profile_update(
        user=pending.user,
        skills="法律咨询",
        service_category_ids=[category.pk],
        available_times=["flexible"],
        residence_area="西山区西山镇",
        residence_community=other_community,
    )
    pending.refresh_from_db()
    assert pending.skills == "法律咨询"
    assert list(pending.service_categories.all()) == [category]
    assert pending.available_times == ["flexible"]
    assert pending.residence_community == other_community


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"available_times": ["never"]}, "available_times"),
        ({"service_category_ids": ["x"]}, "service_category_ids"),
        ({"residence_area": ""}, "residence_area"),
    ],
)
def test_profile_update_bad_input(pending, changes, field):
    before = _snapshot()
    skills = pending.skills
    _refused(
        lambda: services.volunteer_profile_update(user=pending.user, skills="新技能", **changes),
        field=field,
    )
    assert _snapshot() == before
    assert VolunteerProfile.objects.get(pk=pending.pk).skills == skills


def test_change_request_applies_only_after_approval(pending, branch_secretary):
    user = pending.user
    new_birth = datetime.date(1985, 3, 9)
    new_id = make_id_number(new_birth, male=False)
    request = services.profile_change_request_submit(
        user=user,
        changes={
            "real_name": "赵小虹",
            "id_number": new_id,
            "birth_date": new_birth,
            "gender": "female",
        },
    )
    assert new_id not in str(request.changes)  # kept encrypted
    user.refresh_from_db()
    assert user.real_name != "赵小虹"
    services.profile_change_request_approve(actor=branch_secretary, request=request)
    user.refresh_from_db()
    pending.refresh_from_db()
    assert (user.real_name, user.id_number, user.gender) == ("赵小虹", new_id, "female")
    assert pending.birth_date == new_birth
    assert ProfileChangeRequest.objects.get(pk=request.pk).status == ChangeRequestStatus.APPROVED


def test_change_request_bad_input(pending):
    user = pending.user
    current = user.id_number
    other = UserFactory()
    before = _snapshot()
    _refused(
        lambda: services.profile_change_request_submit(
            user=user, changes={"real_name": user.real_name}
        ),
        message="Nothing would change: the values are the ones on file.",
        code="no_change",
    )
    _refused(
        lambda: services.profile_change_request_submit(user=user, changes={"skills": "x"}),
        code="unknown_field",
    )
    _refused(
        lambda: services.profile_change_request_submit(
            user=user, changes={"birth_date": datetime.date(1970, 1, 1)}
        ),
        field="birth_date",
        message="The date of birth does not match the one in the ID number.",
    )
    _refused(
        lambda: services.profile_change_request_submit(user=user, changes={"id_number": "1"}),
        field="id_number",
    )
    _refused(
        lambda: services.profile_change_request_submit(user=user, changes={"gender": "x"}),
        field="gender",
    )
    _refused(
        lambda: services.profile_change_request_submit(
            user=user,
            changes={"id_number": other.id_number, "birth_date": other.birth_date},
        ),
        field="id_number",
        message="A volunteer with this ID number is already registered.",
    )
    assert _snapshot() == before
    assert User.objects.get(pk=user.pk).id_number == current


def test_only_one_change_request_pending(pending):
    services.profile_change_request_submit(user=pending.user, changes={"real_name": "新名字"})
    before = _snapshot()
    _refused(
        lambda: services.profile_change_request_submit(
            user=pending.user, changes={"real_name": "又一个名字"}
        ),
        message="A change to this profile is already awaiting review.",
        code="change_pending",
    )
    assert _snapshot() == before


def test_change_request_reject_needs_a_reason_and_changes_nothing(pending, community_staff, cast):
    request = services.profile_change_request_submit(
        user=pending.user, changes={"real_name": "新名字"}
    )
    _refused(
        lambda: services.profile_change_request_reject(
            actor=community_staff, request=request, reason=""
        ),
        field="reason",
    )
    _refused(
        lambda: services.profile_change_request_approve(
            actor=cast.other_branch_secretary, request=request
        ),
        code="outside_scope",
    )
    services.profile_change_request_reject(actor=community_staff, request=request, reason="无证明")
    assert User.objects.get(pk=pending.user_id).real_name != "新名字"
    _refused(
        lambda: services.profile_change_request_approve(actor=community_staff, request=request),
        message="This change request has already been decided.",
    )


# --- training ----------------------------------------------------------------------------------


def _training(actor, user, **overrides):
    data = {
        "actor": actor,
        "user": user,
        "name": "急救培训",
        "content": "心肺复苏",
        "hours": "2.5",
        "organizer": "区红十字会",
        "held_on": timezone.localdate(),
    }
    data.update(overrides)
    return lambda: services.training_record_add(**data)


def test_training_record_added_by_a_manager(pending, branch_secretary):
    record = _training(branch_secretary, pending.user)()
    assert record.recorded_by == branch_secretary
    assert str(record.hours) == "2.5"
    assert AuditEntry.objects.filter(action="training_record.add").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": timezone.localdate() + datetime.timedelta(days=1)}, "held_on"),
        ({"hours": "0.1"}, "hours"),
        ({"hours": "500"}, "hours"),
        ({"name": ""}, "name"),
        ({"content": ""}, "content"),
        ({"organizer": ""}, "organizer"),
    ],
)
def test_training_record_bad_input(pending, branch_secretary, overrides, field):
    before = _snapshot()
    _refused(_training(branch_secretary, pending.user, **overrides), field=field)
    assert _snapshot() == before


def test_training_in_the_future_has_a_clear_message(pending, branch_secretary):
    _refused(
        _training(
            branch_secretary,
            pending.user,
            held_on=timezone.localdate() + datetime.timedelta(days=1),
        ),
        field="held_on",
        message="Training cannot be recorded before it has taken place.",
    )


@pytest.mark.parametrize("role", ["other_branch_secretary", "inspector", "volunteer"])
def test_training_only_by_managers(pending, cast, role):
    before = _snapshot()
    _refused(
        _training(getattr(cast, role), pending.user),
        field="user",
        message="You can only record training for volunteers you are responsible for.",
    )
    assert _snapshot() == before
