"""Admin pages for volunteer profiles, change requests, training and service categories."""

import pytest

from apps.accounts import services
from apps.accounts.models import (
    ProfileChangeRequest,
    ServiceCategory,
    TrainingRecord,
    VolunteerProfile,
)
from apps.accounts.tests.volunteer_helpers import extend_world
from apps.core.tests.matrix import case, parametrize, run_case

ADMIN_MODELS = {VolunteerProfile, ProfileChangeRequest, TrainingRecord, ServiceCategory}
OUTSIDE_SITE = {"anonymous": 302, "outsider": 403, "volunteer": 403}
STAFF = {"inspector": 403, "branch_secretary": 403, "other_branch_secretary": 403}


@pytest.fixture
def vworld(world):
    w = extend_world(world)
    w.change_request = services.profile_change_request_submit(
        user=w.applicant, changes={"real_name": "赵晓红"}
    )
    return w


GETTERS = {
    VolunteerProfile: lambda w: w.applicant_profile,
    ProfileChangeRequest: lambda w: w.change_request,
    TrainingRecord: lambda w: w.training,
}


def _url(model, action):
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}"


def _scoped_cases(model, getter):
    obj = lambda w: {"object_id": getter(w).pk}  # noqa: E731
    # Profiles and change requests arrive from the portal; training is entered by managers.
    add = {"default": 200, "inspector": 403} if model is TrainingRecord else {"default": 403}
    return [
        case(_url(model, "changelist"), default=200, **OUTSIDE_SITE),
        case(_url(model, "add"), **add, **OUTSIDE_SITE),
        case(
            _url(model, "change"),
            kwargs=obj,
            default=200,
            other_branch_secretary=404,
            **OUTSIDE_SITE,
        ),
        case(
            _url(model, "delete"),
            kwargs=obj,
            default=403,
            city_admin=200,
            other_branch_secretary=404,
            **OUTSIDE_SITE,
        ),
        case(
            _url(model, "history"),
            kwargs=obj,
            default=200,
            other_branch_secretary=404,
            **OUTSIDE_SITE,
        ),
    ]


def _category_cases():
    obj = lambda w: {"object_id": ServiceCategory.objects.first().pk}  # noqa: E731
    return [
        case(_url(ServiceCategory, action), kwargs=kwargs, default=200, **STAFF, **OUTSIDE_SITE)
        for action, kwargs in (
            ("changelist", None),
            ("add", None),
            ("change", obj),
            ("delete", obj),
            ("history", obj),
        )
    ]


CASES = [c for model, getter in GETTERS.items() for c in _scoped_cases(model, getter)]
CASES += _category_cases()


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_volunteer_admin_permissions(c, role, vworld, client, api_as):
    run_case(c, role, vworld, client, api_as)
