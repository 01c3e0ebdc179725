"""``core.prepared``: a statement prepared once per connection on PostgreSQL, then run by name
with the same values and the same answer; plain text where it is off or not PostgreSQL."""

from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.core import prepared

pytestmark = pytest.mark.django_db

SQL = "SELECT %s::int + 1, %s::text || '%%', CAST(%s AS date)"
PARAMS = [41, "增长", "2026-12-01"]


@pytest.fixture
def on(settings):
    """Prepared statements on, and none prepared on the test's connection yet."""
    settings.DATABASE_PREPARED_STATEMENTS = True
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    prepared._prepared.pop(connection.connection, None)


def run(sql=SQL, params=PARAMS, *, using=connection):
    with CaptureQueriesContext(using) as sent, using.cursor() as cursor:
        prepared.execute(cursor, using, sql, params)
        row = cursor.fetchone()
    return row, [q["sql"] for q in sent.captured_queries]


def test_the_server_text_numbers_the_placeholders():
    assert prepared._server_text(SQL) == "SELECT $1::int + 1, $2::text || '%', CAST($3 AS date)"


def test_each_statement_has_one_name():
    first, again = prepared._name(SQL), prepared._name(SQL)
    other = prepared._name("SELECT %s")
    assert first == again != other
    assert first.startswith("vp_statement_")


@pytest.mark.postgres
def test_a_statement_is_prepared_once_per_connection(on):
    import datetime

    expected = (42, "增长%", datetime.date(2026, 12, 1))
    row, sent = run()
    assert row == expected
    name = prepared._name(SQL)
    assert sent == [
        f"PREPARE {name} AS SELECT $1::int + 1, $2::text || '%', CAST($3 AS date)",
        f"EXECUTE {name}(41, '增长', '2026-12-01')",
    ]
    row, sent = run()
    assert row == expected
    assert sent == [f"EXECUTE {name}(41, '增长', '2026-12-01')"]
    other = connections.create_connection("default")  # knows nothing of it: prepared there
    try:
        row, sent = run(using=other)
    finally:
        other.close()
    assert row == expected and sent[0].startswith(f"PREPARE {name} AS ")
    assert run()[1] == [f"EXECUTE {name}(41, '增长', '2026-12-01')"]  # still, on the first


@pytest.mark.postgres
def test_a_statement_stays_prepared_after_its_transaction_is_rolled_back(on):
    with pytest.raises(DatabaseError), transaction.atomic():
        run()
        run("SELECT 1 / %s", [0])
    row, sent = run()
    assert row[0] == 42 and len(sent) == 1 and sent[0].startswith("EXECUTE ")


@pytest.mark.postgres
def test_a_statement_that_fails_to_prepare_is_not_taken_as_prepared(on):
    bad = "SELECT no_such_column + %s"
    for _attempt in range(2):  # prepared again the second time, and refused again
        with (
            CaptureQueriesContext(connection) as sent,
            pytest.raises(DatabaseError),
            transaction.atomic(),
        ):
            run(bad, [1])
        statements = [q["sql"] for q in sent.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert statements == [f"PREPARE {prepared._name(bad)} AS SELECT no_such_column + $1"]
    assert run("SELECT 2 + %s", [1])[0] == (3,)


def test_off_it_sends_the_statement_as_it_is(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    sql = SQL if connection.vendor == "postgresql" else "SELECT %s + 1, %s || '%%'"
    row, sent = run(sql, PARAMS[: sql.count("%s")])
    assert row[:2] == (42, "增长%")
    assert len(sent) == 1 and "PREPARE" not in sent[0] and "EXECUTE" not in sent[0]


@pytest.mark.parametrize(
    ("vendor", "setting", "enabled"),
    [
        ("postgresql", True, True),
        ("postgresql", False, False),
        ("sqlite", True, False),
        ("sqlite", False, False),
    ],
)
def test_only_postgresql_prepares_and_only_when_it_is_on(settings, vendor, setting, enabled):
    settings.DATABASE_PREPARED_STATEMENTS = setting
    assert prepared.enabled(SimpleNamespace(vendor=vendor)) is enabled


def _plan_cache_mode(using) -> str:
    with using.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.parametrize(("setting", "mode"), [(True, "force_generic_plan"), (False, "auto")])
def test_a_new_connection_plans_its_prepared_statements_once_when_it_is_on(settings, setting, mode):
    settings.DATABASE_PREPARED_STATEMENTS = setting
    fresh = connections.create_connection("default")
    try:
        assert _plan_cache_mode(fresh) == mode
    finally:
        fresh.close()


def run_together(statements, *, using=connection):
    with CaptureQueriesContext(using) as sent, using.cursor() as cursor:
        prepared.execute_together(cursor, using, statements)
        row = cursor.fetchone()
    return row, [q["sql"] for q in sent.captured_queries]


PAIR = [("SELECT %s::int", [1]), ("SELECT %s::int * 2, %s::text || '%%'", [21, "增长"])]


@pytest.mark.postgres
def test_statements_together_go_in_one_message_and_answer_the_last(on):
    row, sent = run_together(PAIR)
    assert row == (42, "增长%")
    first, second = prepared._name(PAIR[0][0]), prepared._name(PAIR[1][0])
    assert sent[-1] == f"EXECUTE {first}(1); EXECUTE {second}(21, '增长')"
    assert [s.split(" AS ")[0] for s in sent[:-1]] == [f"PREPARE {first}", f"PREPARE {second}"]
    row, sent = run_together(PAIR)  # prepared already: the one message alone
    assert (row, sent) == ((42, "增长%"), [f"EXECUTE {first}(1); EXECUTE {second}(21, '增长')"])


@pytest.mark.postgres
def test_statements_together_off_go_as_text_in_one_message(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    row, sent = run_together(PAIR)
    assert row == (42, "增长%")
    assert sent == ["SELECT 1::int; SELECT 21::int * 2, '增长'::text || '%'"]


@pytest.mark.postgres
def test_a_failing_statement_together_raises_and_nothing_after_it_runs(on):
    with pytest.raises(DatabaseError), transaction.atomic():
        run_together([("SELECT 1 / %s", [0]), ("SELECT %s::int", [7])])
    assert run_together(PAIR)[0] == (42, "增长%")  # the connection goes on


def test_other_databases_run_statements_together_one_by_one():
    """SQLite's driver takes one statement at a time: they are sent in turn."""
    sent = []
    cursor = SimpleNamespace(execute=lambda sql, params: sent.append((sql, params)))
    sqlite = SimpleNamespace(vendor="sqlite")
    prepared.execute_together(cursor, sqlite, [("SELECT %s", [1]), ("SELECT %s * 2", [21])])
    assert sent == [("SELECT %s", [1]), ("SELECT %s * 2", [21])]


# instance_by_key --------------------------------------------------------------------------


def _user(**fields):
    from apps.accounts.tests.factories import UserFactory

    return UserFactory(**fields)


def test_a_row_by_key_is_the_instance_the_orm_loads():
    from apps.accounts.models import User

    user = _user(last_login=None)
    loaded = prepared.instance_by_key(User, user.pk)
    expected = User.objects.get(pk=user.pk)
    assert type(loaded) is User
    assert loaded.pk == user.pk
    assert not loaded._state.adding and loaded._state.db == "default"
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    # Converters applied: the encrypted ID number read in clear, as the ORM reads it.
    assert loaded.id_number == user.id_number and len(loaded.id_number) == 18


def test_a_row_by_key_takes_the_key_as_a_session_holds_it():
    from apps.accounts.models import User

    user = _user()
    assert prepared.instance_by_key(User, str(user.pk)).pk == user.pk


@pytest.mark.parametrize("key", ["not-a-number", "", None, 10**12])
def test_no_row_for_a_missing_or_malformed_key(key):
    from apps.accounts.models import User

    _user()
    assert prepared.instance_by_key(User, key) is None


@pytest.mark.postgres
def test_a_row_by_key_is_one_prepared_statement(on):
    from apps.accounts.models import User

    user = _user()
    prepared.instance_by_key(User, user.pk)  # prepared now
    with CaptureQueriesContext(connection) as sent:
        loaded = prepared.instance_by_key(User, user.pk)
    assert loaded.pk == user.pk
    assert [q["sql"] for q in sent.captured_queries] == [
        f"EXECUTE {prepared._name(prepared._key_lookup(User, connection)[0])}({user.pk})"
    ]


def test_an_instance_by_key_alone_reads_nothing_until_a_field_is_used(world):
    from apps.teams.models import Team

    team = world.team
    with CaptureQueriesContext(connection) as sent:
        bare = prepared.key_only(Team, team.pk)
    assert type(bare) is Team and bare.pk == team.pk and not sent.captured_queries
    # No default stands in for a stored value: a field used is read from the row.
    assert bare.get_deferred_fields() >= {"name", "founded_on", "organization_id"}
    with CaptureQueriesContext(connection) as sent:
        assert bare.name == team.name
    assert len(sent.captured_queries) == 1
