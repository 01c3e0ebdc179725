"""Statements the database keeps parsed and planned, once per connection (PostgreSQL's
``PREPARE``), for the few that run on every record submit or every visit to "my records".

A statement sent as text is parsed, analysed and planned again every time it comes. For the
record's INSERT with its audit entry, that work is about a third of what the database spends
on it (pgbench: 0.70 ms as text, 0.44 ms prepared). ``execute`` prepares a statement the
first time a connection runs it and afterwards sends only ``EXECUTE name(values)``. The
values are bound as before (psycopg2 quotes them), so what runs is the same statement with
the same values.

Each connection also plans its prepared statements once (``plan_cache_mode =
force_generic_plan``, set as it connects): left to itself, PostgreSQL plans them afresh for
every set of values whenever the plan it would keep looks costlier than a fresh one, which
for the recording rules' read cost more than running it (0.18 ms of planning for 0.08 ms of
reading). So only statements whose best plan does not depend on their values belong here:
lookups by key and the reads of one volunteer's records over a bounded span (the same
setting applies to the plans PL/pgSQL functions keep, such as the tally triggers' lookups by
key).

Off with ``DATABASE_PREPARED_STATEMENTS = False`` (environment ``DATABASE_PREPARED_STATEMENTS=0``),
as behind a connection pooler in transaction mode (PgBouncer's ``pool_mode = transaction``),
where a later transaction may get a server connection that never saw the ``PREPARE``. On
other databases it runs the statement as text.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref

from django.conf import settings

_PLACEHOLDER = re.compile(r"%%|%s")
_lock = threading.Lock()
_names: dict[str, str] = {}  # statement text -> its name, the same on every connection
_numbers = itertools.count(1)
#: For each open connection (psycopg2's own object), the names prepared on it. The entry goes
#: with the connection: a new one (after a restart of the database, say) prepares afresh.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def enabled(connection) -> bool:
    return connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


def plan_once(sender, connection, **kwargs) -> None:
    """On ``connection_created``: plan prepared statements once per connection (see above)."""
    if enabled(connection):
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")


def _name(sql: str) -> str:
    name = _names.get(sql)
    if name is None:
        with _lock:
            name = _names.setdefault(sql, f"vp_statement_{next(_numbers)}")
    return name


def _server_text(sql: str) -> str:
    """The statement with ``$1, $2, …`` where the driver's placeholders were."""
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)


def _prepared_name(cursor, connection, sql: str) -> str:
    """The statement's name, prepared on the connection if it was not yet."""
    name = _name(sql)
    raw = connection.connection
    done = _prepared.get(raw)
    if done is None:
        done = _prepared.setdefault(raw, set())
    if name not in done:
        cursor.execute(f"PREPARE {name} AS {_server_text(sql)}")
        done.add(name)
    return name


def _execute_text(name: str, params: list | tuple) -> str:
    return f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"


def execute(cursor, connection, sql: str, params: list | tuple) -> None:
    """``cursor.execute(sql, params)``, through a statement prepared on the connection."""
    if not enabled(connection):
        cursor.execute(sql, params)
        return
    cursor.execute(_execute_text(_prepared_name(cursor, connection, sql), params), params)


def execute_together(cursor, connection, statements: list[tuple[str, list]]) -> None:
    """Run ``(sql, params)`` statements in turn, in one round trip on PostgreSQL (one query
    message holding them all, each through its prepared statement when those are on); the
    cursor then holds the last one's rows. Each statement sees what was committed before it
    began, as when sent one by one (PostgreSQL's default isolation, READ COMMITTED), so a
    read after a lock sees what the lock's previous holder committed. Other databases get
    them one by one."""
    if connection.vendor != "postgresql":
        for sql, params in statements:
            cursor.execute(sql, params)
        return
    if enabled(connection):
        texts = [_execute_text(_prepared_name(cursor, connection, sql), p) for sql, p in statements]
    else:
        texts = [sql for sql, _params in statements]
    cursor.execute("; ".join(texts), [value for _sql, params in statements for value in params])


# One row by its key, as a model instance ------------------------------------------------------

#: For each model, its key lookup: (statement, the fields' attribute names, their converters).
_lookups: dict[tuple[type, str], tuple[str, list[str], list[tuple]]] = {}


def _key_lookup(model, connection) -> tuple[str, list[str], list[tuple]]:
    """The ``SELECT`` of all the model's own columns by primary key, as the ORM writes for
    ``model._base_manager.get(pk=...)``, with the converters it would apply to the values
    (``from_db_value`` of fields such as ``core.fields.EncryptedTextField``, the backend's own)."""
    found = _lookups.get((model, connection.alias))
    if found is None:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = meta.concrete_fields
        sql = (
            f"SELECT {', '.join(quote(field.column) for field in fields)} "
            f"FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s"
        )
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(meta.db_table)
            found_converters = [
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            ]
            if found_converters:
                converters.append((index, column, found_converters))
        found = (sql, [field.attname for field in fields], converters)
        _lookups[(model, connection.alias)] = found
    return found


def instance_by_key(model, key, *, using: str = "default"):
    """``model``'s row whose primary key is ``key``, as the ORM would load it
    (``Model.from_db``), or None when there is none or ``key`` is not one. For the lookup
    that runs on every request (the signed-in user): the ORM spends several times longer
    building that statement than the database spends answering it; this builds it once per
    model and, on PostgreSQL, prepares it once per connection."""
    from django.core.exceptions import ValidationError
    from django.db import connections

    try:
        key = model._meta.pk.to_python(key)
    except ValidationError:
        return None
    connection = connections[using]
    sql, attnames, converters = _key_lookup(model, connection)
    with connection.cursor() as cursor:
        execute(cursor, connection, sql, [model._meta.pk.get_db_prep_value(key, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = list(row)
        for index, column, functions in converters:
            for function in functions:
                row[index] = function(row[index], column, connection)
    return model.from_db(using, attnames, row)


def key_only(model, key):
    """An instance of ``model`` that knows only its primary key, as ``model(pk=key)`` is, but
    made without working out every other field's default (a callable default, such as
    today's date, asks for the current time zone each time): its other fields are deferred,
    so one that is used after all is read from the database rather than taken for a default.
    Not saved and not read: for a posted choice the service checks itself."""
    return model.from_db(None, [model._meta.pk.attname], [key])
