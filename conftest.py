"""The shared cast, named after real roles, and the suite's house rules.

The organisation tree every test starts from::

    city (市委)                      city_admin: administrator
    ├── district (区委)              inspector: read only
    │   └── street (街道党工委)
    │       ├── branch (党支部)      branch_secretary; volunteer, team_leader, community_staff
    │       └── sibling_branch
    └── other_district
        └── other_branch            other_branch_secretary
    outsider: signed in, no membership and no role
"""

import logging
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.organizations.models import OrganizationKind, RoleKind
from apps.organizations.tests.factories import (
    MembershipFactory,
    OrganizationRoleFactory,
    PartyOrganizationFactory,
)

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _fail_on_error_logs(request, caplog):
    """A test that makes the platform log an ERROR fails, even if its assertions pass."""
    caplog.set_level(logging.WARNING)
    yield
    if request.node.get_closest_marker("allow_error_logs"):
        return
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, "logged errors: " + "; ".join(r.getMessage() for r in errors)


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_error_logs: the test expects ERROR log records")


@pytest.fixture(autouse=True)
def _skip_postgres_only(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


#: Rows that data migrations create, by (migration module, forward function). A transactional
#: test's flush empties every table, these included, so they are put back before each one.
REFERENCE_DATA = (
    ("apps.accounts.migrations.0004_default_service_categories", "create"),
    ("apps.care.migrations.0002_default_care_categories", "create"),
    ("apps.core.migrations.0003_calendar_2025_2026", "load"),
    ("apps.core.migrations.0005_export_purge_schedule", "create"),
    ("apps.notifications.migrations.0002_periodic_tasks", "create"),
    ("apps.notifications.migrations.0004_more_periodic_tasks", "create"),
    ("apps.notifications.migrations.0006_assessment_deadline_schedule", "create"),
    ("apps.notifications.migrations.0008_nominations_waiting_schedule", "create"),
    ("apps.activities.migrations.0002_close_finished_schedule", "create"),
    ("apps.points.migrations.0003_periodic_tasks", "create"),
    ("apps.awards.migrations.0002_yearly_rollup_schedule", "create"),
    ("apps.awards.migrations.0005_default_award_categories", "create"),
    ("apps.service_records.migrations.0004_record_checks_pending", "create_schedule"),
)


def _is_transactional(request) -> bool:
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return True
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture(autouse=True)
def _fresh_scope_generation():
    """Each test starts a new scope generation: scopes cached between requests by an earlier
    test (whose rows its rollback removed without a signal) are never used."""
    from apps.core.scoping import _new_generation

    _new_generation()


@pytest.fixture(autouse=True)
def _fresh_memos():
    """Each test reads the working-day calendar and the other memos afresh, and knows of no
    queued sweep: what an earlier test kept in memory (whose rows its rollback or flush removed
    without a signal) is never used."""
    from apps.core.memo import forget_all
    from apps.service_records.tasks import forget_queued_sweep

    forget_all()
    forget_queued_sweep()


@pytest.fixture(autouse=True)
def _reference_data_after_flushes(request):
    """Before a transactional test: the data migrations' rows, and content types afresh.

    Transactional tests run last (pytest-django orders them so), and each ends with a flush
    that empties the tables. Without this, the next one finds no service categories, no
    working-day calendar and no beat schedules, and Django's content-type cache still holds
    the ids of rows the flush deleted.
    """
    if not _is_transactional(request):
        yield
        return
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("_django_db_helper")
    _restore_reference_data()
    sqlite = _on_sqlite()  # now: a test may pretend to be on another database
    if sqlite:
        _ledger_delete_guard(on=True)
    yield
    # Torn down before the database fixture, so the flush that follows can empty the ledger.
    if sqlite:
        _ledger_delete_guard(on=False)


def _on_sqlite() -> bool:
    from django.db import connection

    return connection.vendor == "sqlite"


def _ledger_delete_guard(*, on: bool) -> None:
    """SQLite's flush empties tables with DELETE, which the points ledger's append-only
    trigger refuses (PostgreSQL's flush truncates, which row triggers do not see): the trigger
    is set aside for the flush at the end of a transactional test and put back before the
    next test."""
    import importlib

    from django.db import connection

    with connection.cursor() as cursor:
        if on:
            migration = importlib.import_module("apps.points.migrations.0002_entries_append_only")
            delete_guard = next(sql for sql in migration.SQLITE_UP if "no_delete" in sql)
            cursor.execute(delete_guard.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))
        else:
            cursor.execute("DROP TRIGGER IF EXISTS points_entry_no_delete")


def _restore_reference_data() -> None:
    import importlib

    from django.apps import apps as global_apps
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    for app_config in global_apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(global_apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """With ``--reuse-db`` the database kept from the last run may have ended with a flush:
    put the data migrations' rows back once, before any test."""
    with django_db_blocker.unblock():
        _restore_reference_data()
        if _on_sqlite():
            _ledger_delete_guard(on=True)  # a kept database may have ended with a flush


@pytest.fixture
def tree(db):
    city = PartyOrganizationFactory(
        name="江城市委", code="T-CITY", kind=OrganizationKind.CITY_COMMITTEE
    )
    district = PartyOrganizationFactory(
        name="东湖区委", code="T-DH", kind=OrganizationKind.PARTY_COMMITTEE, parent=city
    )
    street = PartyOrganizationFactory(
        name="东湖街道党工委",
        code="T-DH-JD",
        kind=OrganizationKind.WORKING_COMMITTEE,
        parent=district,
    )
    branch = PartyOrganizationFactory(name="桂园社区党支部", code="T-GY", parent=street)
    sibling_branch = PartyOrganizationFactory(name="湖滨社区党支部", code="T-HB", parent=street)
    other_district = PartyOrganizationFactory(
        name="西山区委", code="T-XS", kind=OrganizationKind.PARTY_COMMITTEE, parent=city
    )
    other_branch = PartyOrganizationFactory(name="桃溪村党支部", code="T-TX", parent=other_district)
    return SimpleNamespace(
        city=city,
        district=district,
        street=street,
        branch=branch,
        sibling_branch=sibling_branch,
        other_district=other_district,
        other_branch=other_branch,
    )


def _role(user, organization, kind):
    OrganizationRoleFactory(user=user, organization=organization, kind=kind)
    return user


@pytest.fixture
def city_admin(tree):
    return _role(UserFactory(username="city_admin", real_name="周建国"), tree.city, RoleKind.ADMIN)


@pytest.fixture
def branch_secretary(tree):
    user = UserFactory(username="branch_secretary", real_name="陈志强")
    MembershipFactory(user=user, organization=tree.branch)
    return _role(user, tree.branch, RoleKind.SECRETARY)


@pytest.fixture
def other_branch_secretary(tree):
    user = UserFactory(username="other_branch_secretary", real_name="刘思远")
    MembershipFactory(user=user, organization=tree.other_branch)
    return _role(user, tree.other_branch, RoleKind.SECRETARY)


@pytest.fixture
def inspector(tree):
    """Sees the whole district but may change nothing: the 403 case."""
    return _role(
        UserFactory(username="inspector", real_name="郑晓东"), tree.district, RoleKind.INSPECTOR
    )


@pytest.fixture
def volunteer(tree):
    user = UserFactory(username="volunteer", real_name="王秀英")
    MembershipFactory(user=user, organization=tree.branch)
    return user


@pytest.fixture
def team(tree):
    """The branch's volunteer team."""
    from apps.teams.models import Team

    return Team.objects.create(organization=tree.branch, name="桂园红心志愿服务队")


@pytest.fixture
def other_team(tree):
    from apps.teams.models import Team

    return Team.objects.create(organization=tree.other_branch, name="桃溪先锋志愿服务队")


@pytest.fixture
def community(tree):
    """桂园社区, whose party organisation is the branch."""
    from apps.communities.models import Community

    return Community.objects.create(
        name="桂园社区", district="东湖区", street="东湖街道", organization=tree.branch
    )


@pytest.fixture
def other_community(tree):
    from apps.communities.models import Community, CommunityKind

    return Community.objects.create(
        name="桃溪村",
        kind=CommunityKind.VILLAGE,
        district="西山区",
        street="西山镇",
        organization=tree.other_branch,
    )


@pytest.fixture
def team_leader(tree, team):
    """A party member of the branch who leads the branch's team."""
    from apps.teams.models import TeamMembership, TeamMembershipStatus, TeamRole

    user = UserFactory(username="team_leader", real_name="李明")
    MembershipFactory(user=user, organization=tree.branch)
    TeamMembership.objects.create(
        team=team, user=user, role=TeamRole.LEADER, status=TeamMembershipStatus.ACTIVE
    )
    return user


@pytest.fixture
def community_staff(tree, community):
    """Works for 桂园社区: confirms residence reports, publishes posts."""
    from apps.communities.models import CommunityStaff

    user = UserFactory(username="community_staff", real_name="吴静")
    CommunityStaff.objects.create(user=user, community=community)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider", real_name="路人甲")


@pytest.fixture
def cast(
    city_admin,
    branch_secretary,
    other_branch_secretary,
    inspector,
    volunteer,
    team_leader,
    community_staff,
    outsider,
):
    return SimpleNamespace(
        city_admin=city_admin,
        branch_secretary=branch_secretary,
        other_branch_secretary=other_branch_secretary,
        inspector=inspector,
        volunteer=volunteer,
        team_leader=team_leader,
        community_staff=community_staff,
        outsider=outsider,
    )


@pytest.fixture
def client_as(client):
    """``client_as(user)``: the Django test client signed in as ``user`` (None: anonymous)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def api_as():
    def sign_in(user):
        api = APIClient()
        if user is not None:
            api.force_login(user)
        return api

    return sign_in


def zh(message: str) -> str:
    """The zh-hans translation of a source message; fails if the catalogue lacks it."""
    with translation.override("zh-hans"):
        translated = translation.gettext(message)
    assert re.search(r"[\u4e00-\u9fff]", translated), f"not translated to Chinese: {message!r}"
    return translated


@pytest.fixture
def world(tree, cast, team, other_team, community, other_community):
    """The cast plus one object of each kind the permission matrices point at.

    Apps add their own objects in ``extend_world`` fixtures of their tests' conftest.
    """
    from apps.organizations.models import Membership, OrganizationRole

    return SimpleNamespace(
        tree=tree,
        cast=cast,
        team=team,
        other_team=other_team,
        community=community,
        other_community=other_community,
        volunteer_membership=Membership.objects.get(user=cast.volunteer),
        secretary_role=OrganizationRole.objects.get(user=cast.branch_secretary),
    )
