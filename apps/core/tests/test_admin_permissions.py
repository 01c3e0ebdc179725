"""Every admin page, for every role: generated from the admin registry, so new models are covered.

Scoped models (people, organisations, memberships, roles) follow the access contract: a role
elsewhere in the tree gets 404, a read-only role 403 on changes. The other admin pages (audit
log, sign-in lock-outs, task schedules, groups, e-mail addresses) belong to the city's
administrators alone; everyone else gets 403.
"""

import datetime

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from apps.accounts.models import User
from apps.core.models import AuditEntry
from apps.core.tests.matrix import (
    OUTSIDE_ADMIN,
    ROLES,
    admin_url,
    case,
    parametrize,
    permission_modules,
    run_case,
    scoped_admin_cases,
)
from apps.organizations.models import Membership, OrganizationRole, PartyOrganization

SCOPED = {
    User: lambda w: w.cast.volunteer,
    PartyOrganization: lambda w: w.tree.branch,
    Membership: lambda w: w.volunteer_membership,
    OrganizationRole: lambda w: w.secretary_role,
}


def _interval():
    return IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.SECONDS)[0]


CITY_ONLY = {
    AuditEntry: lambda w: AuditEntry.objects.create(action="test", target_repr="测试"),
    Group: lambda w: Group.objects.create(name="测试组"),
    EmailAddress: lambda w: EmailAddress.objects.create(
        user=w.cast.volunteer, email="v@example.org"
    ),
    AccessAttempt: lambda w: AccessAttempt.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t", failures_since_start=1
    ),
    AccessLog: lambda w: AccessLog.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t"
    ),
    AccessFailureLog: lambda w: AccessFailureLog.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t", locked_out=False
    ),
    IntervalSchedule: lambda w: _interval(),
    CrontabSchedule: lambda w: CrontabSchedule.objects.create(minute="0", hour="8"),
    SolarSchedule: lambda w: SolarSchedule.objects.create(
        event="sunrise", latitude=30.59, longitude=114.30
    ),
    ClockedSchedule: lambda w: ClockedSchedule.objects.create(
        clocked_time=timezone.now() + datetime.timedelta(days=1)
    ),
    PeriodicTask: lambda w: PeriodicTask.objects.create(
        name="测试任务", task="core.ping", interval=_interval()
    ),
}

# Library admins that offer no "add" page of their own (entries are written by the library).
NO_ADD = {AuditEntry, AccessAttempt, AccessLog, AccessFailureLog}
# Records that are ended, not deleted: only the city's administrators delete them.
CITY_DELETES = {User, Membership, OrganizationRole}
OUTSIDE_SITE = OUTSIDE_ADMIN


ADMIN_MODELS = set(SCOPED) | set(CITY_ONLY)


def test_every_registered_model_is_in_a_matrix():
    covered = set()
    for module in permission_modules():
        covered |= set(getattr(module, "ADMIN_MODELS", ()))
    missing = {model._meta.label for model in set(admin.site._registry) - covered}
    assert not missing, f"admin pages without a permission case: {sorted(missing)}"


_url = admin_url


def _object_kwargs(getter):
    return lambda w: {"object_id": getter(w).pk}


def _scoped_cases(model, getter):
    # New people arrive through registration; only the city's administrators add them here.
    staff_add = 403 if model is User else 200
    add = {
        "default": 200,
        "inspector": 403,
        "branch_secretary": staff_add,
        "other_branch_secretary": staff_add,
    }
    return scoped_admin_cases(model, getter, add=add, city_deletes=model in CITY_DELETES)


def _city_only_cases(model, getter):
    obj = _object_kwargs(getter)
    staff = {"inspector": 403, "branch_secretary": 403, "other_branch_secretary": 403}
    readonly_log = model is AuditEntry
    return [
        case(_url(model, "changelist"), default=200, **staff, **OUTSIDE_SITE),
        case(
            _url(model, "add"),
            default=403 if model in NO_ADD else 200,
            **staff,
            **OUTSIDE_SITE,
        ),
        case(_url(model, "change"), kwargs=obj, default=200, **staff, **OUTSIDE_SITE),
        case(
            _url(model, "delete"),
            kwargs=obj,
            default=403 if readonly_log else 200,
            **staff,
            **OUTSIDE_SITE,
        ),
        case(_url(model, "history"), kwargs=obj, default=200, **staff, **OUTSIDE_SITE),
    ]


def _organization_content_type(w):
    return {
        "content_type_id": ContentType.objects.get_for_model(PartyOrganization).pk,
        "object_id": w.tree.branch.pk,
    }


SITE_CASES = [
    case("admin:index", default=200, **OUTSIDE_SITE),
    case("admin:login", default=302, outsider=403, volunteer=403),
    case("admin:logout", "POST", default=302, **OUTSIDE_SITE),
    case("admin:password_change", default=200, **OUTSIDE_SITE),
    case("admin:password_change_done", default=200, **OUTSIDE_SITE),
    case("admin:jsi18n", default=200, **OUTSIDE_SITE),
    case(
        "admin:app_list",
        kwargs=lambda w: {"app_label": "organizations"},
        default=200,
        **OUTSIDE_SITE,
    ),
    case(
        "admin:autocomplete",
        query="?app_label=organizations&model_name=membership&field_name=organization&term=支部",
        default=200,
        **OUTSIDE_SITE,
    ),
    case("admin:view_on_site", kwargs=_organization_content_type, default=302, **OUTSIDE_SITE),
    case(
        "admin:auth_user_password_change",
        kwargs=lambda w: {"id": w.cast.volunteer.pk},
        default=200,
        inspector=403,
        other_branch_secretary=404,
        **OUTSIDE_SITE,
    ),
]

CASES = (
    SITE_CASES
    + [c for model, getter in SCOPED.items() for c in _scoped_cases(model, getter)]
    + [c for model, getter in CITY_ONLY.items() for c in _city_only_cases(model, getter)]
)


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_admin_permissions(c, role, world, client, api_as):
    run_case(c, role, world, client, api_as)


assert set(ROLES) >= set(OUTSIDE_SITE)
