"""A new row and its audit entry, written in one statement.

``Model.save()`` compiles its INSERT afresh every time: for a model of thirty columns that
costs several times what the database spends running it. ``insert_audited`` keeps each
model's statement, compiled once per process, and sends the row and its audit entry (see
``services.audit_log``) in one round trip, as a data-modifying ``WITH``::

    WITH new_row AS (INSERT INTO <table> (...) VALUES (...) RETURNING <key>, <db defaults>),
         new_entry AS (INSERT INTO core_auditentry (...)
                       VALUES (..., (SELECT <key> FROM new_row), ...)),
         with_1 AS (INSERT INTO <companion table> (<its key>) SELECT <key> FROM new_row)
    SELECT <key>, <db defaults> FROM new_row

``companions`` are models whose only column is a key to the new row (a queue of rows waiting
for something, say): a row of each is inserted with it. ``alongside`` are other writes of the
same transaction that do not depend on the row (the visitor's session, renewed on every
request: ``core.sessions.SessionWrite``): each goes in as one more data-modifying ``WITH``
(``along_1 AS (UPDATE ... RETURNING 1)``) and is told how many rows it wrote, so the request
sends one statement where it sent two.

The values are what ``save()`` writes: each field's ``pre_save`` and ``get_db_prep_save``,
and ``DEFAULT`` for a database default (``db_default``) the row was not given a value for;
what the database fills in is read back onto the row, as ``save()`` does. A model whose
``save()`` does more defines ``prepare_insert()`` for that part (and calls it from its
``save()``).

``save()`` and ``audit_log`` are used instead where one statement would not do the same: a
database other than PostgreSQL (SQLite has no INSERT inside WITH), save signals connected to
either model, a ``save()`` overridden without ``prepare_insert()``, rows with parents or
without an automatic key, a row already saved, or a value that is an expression.
"""

from __future__ import annotations

import functools
from typing import Protocol

from django.db import connections, models, router
from django.db.models.expressions import DatabaseDefault
from django.db.models.signals import post_save, pre_save

from . import prepared
from .models import AuditEntry
from .services import audit_entry, audit_log


class Alongside(Protocol):
    """A write sent in the same statement as a new row (see the module)."""

    def statement(self) -> tuple[str, list]:
        """An ``UPDATE``, ``INSERT`` or ``DELETE`` without ``RETURNING``, and its values."""

    def done(self, rows: int) -> None:
        """Told, in the transaction, how many rows the statement wrote."""


@functools.cache
def _written(model) -> list:
    """The fields an INSERT of a new row writes: all but the automatic key."""
    meta = model._meta
    return [f for f in meta.concrete_fields if f is not meta.auto_field and not f.generated]


def _target_column() -> str:
    return AuditEntry._meta.get_field("target_id").column


@functools.cache
def _statement(
    model, using: str, defaults: frozenset[str], companions: tuple = (), alongside: tuple = ()
) -> str:
    """The row's INSERT, its entry's and its companions', and the ``alongside`` statements, in
    one statement; ``defaults`` are the row's columns left to the database (``DEFAULT``). It
    answers the row's database-filled columns, then how many rows each of ``alongside`` wrote."""
    quote = connections[using].ops.quote_name

    def column_list(fields):
        return ", ".join(quote(f.column) for f in fields)

    row_values = ", ".join("DEFAULT" if f.column in defaults else "%s" for f in _written(model))
    key = f"(SELECT CAST({quote(model._meta.pk.column)} AS text) FROM new_row)"
    entry_values = ", ".join(
        key if f.column == _target_column() else "%s" for f in _written(AuditEntry)
    )
    read_back = column_list(model._meta.db_returning_fields)
    also = "".join(
        f", with_{n} AS (INSERT INTO {quote(companion._meta.db_table)} "
        f"({quote(companion._meta.pk.column)}) SELECT {quote(model._meta.pk.column)} FROM new_row)"
        for n, companion in enumerate(companions, start=1)
    )
    also += "".join(
        f", along_{n} AS ({sql} RETURNING 1)" for n, sql in enumerate(alongside, start=1)
    )
    counts = "".join(f", (SELECT COUNT(*) FROM along_{n})" for n in range(1, len(alongside) + 1))
    return (
        f"WITH new_row AS (INSERT INTO {quote(model._meta.db_table)} "
        f"({column_list(_written(model))}) VALUES ({row_values}) RETURNING {read_back}), "
        f"new_entry AS (INSERT INTO {quote(AuditEntry._meta.db_table)} "
        f"({column_list(_written(AuditEntry))}) VALUES ({entry_values})){also} "
        f"SELECT {read_back}{counts} FROM new_row"
    )


def _companion_field(companion, model) -> models.Field:
    """The companion's one column: its primary key, a one-to-one key to ``model``'s rows."""
    meta = companion._meta
    key = meta.pk
    if len(meta.concrete_fields) != 1 or not key.one_to_one or key.related_model is not model:
        raise TypeError(f"{meta.label} is not a key to {model._meta.label} alone.")
    return key


def _fits(obj, connection, companions: tuple = ()) -> bool:
    """Whether one statement does what ``save()``, ``audit_log`` and the companions' ``save()``
    would."""
    model = type(obj)
    meta = model._meta
    return (
        connection.vendor == "postgresql"
        and obj._state.adding
        and meta.auto_field is not None
        and obj.pk is None
        and not meta.parents
        and (model.save is models.Model.save or hasattr(model, "prepare_insert"))
        and not any(
            signal.has_listeners(sender)
            for signal in (pre_save, post_save)
            for sender in (model, AuditEntry, *companions)
        )
    )


def _values(obj, fields, connection) -> tuple[list, frozenset[str]] | None:
    """What ``save()`` writes for the fields, and the columns left to the database; None
    when a value is an expression (the ORM compiles those)."""
    values, defaults = [], set()
    for field in fields:
        value = field.pre_save(obj, True)
        if isinstance(value, DatabaseDefault):
            defaults.add(field.column)
        elif hasattr(value, "resolve_expression"):
            return None
        else:
            values.append(field.get_db_prep_save(value, connection=connection))
    return values, frozenset(defaults)


def _read_back(obj, row, connection) -> None:
    """Set what the database filled in on the row, converted as the ORM reads it."""
    for field, value in zip(type(obj)._meta.db_returning_fields, row, strict=True):
        column = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column)
        for converter in converters + field.get_db_converters(connection):
            value = converter(value, column, connection)
        setattr(obj, field.attname, value)


def insert_audited(
    obj: models.Model,
    *,
    actor,
    action: str,
    details: dict | None = None,
    companions: tuple[type[models.Model], ...] = (),
    alongside: tuple[Alongside, ...] = (),
) -> None:
    """Save the new ``obj`` and append an audit entry about it, as ``obj.save()`` followed by
    ``audit_log(actor=actor, action=action, target=obj, details=details)`` would, in one
    statement where it can (see the module); and a row of each of ``companions`` (models whose
    only column is a one-to-one key to ``obj``'s model) for it; and the ``alongside`` writes.
    Call it inside the service's transaction."""
    model = type(obj)
    keys = [_companion_field(companion, model) for companion in companions]
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    row = entry = None
    if _fits(obj, connection, companions):
        if hasattr(obj, "prepare_insert"):
            obj.prepare_insert()
        obj._prepare_related_fields_for_save(operation_name="save")
        row = _values(obj, _written(model), connection)
        new_entry = audit_entry(actor=actor, action=action, target=obj, details=details)
        target = _target_column()
        entry_fields = [f for f in _written(AuditEntry) if f.column != target]
        entry = _values(new_entry, entry_fields, connection)
    along = [write.statement() for write in alongside]
    if row is None or entry is None or entry[1]:
        obj.save(using=using)
        audit_log(actor=actor, action=action, target=obj, details=details)
        for companion, key in zip(companions, keys, strict=True):
            companion(**{key.name: obj}).save(using=using, force_insert=True)
        for write, (sql, params) in zip(alongside, along, strict=True):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                write.done(cursor.rowcount)
        return
    (values, defaults), (entry_values, _none) = row, entry
    statement = _statement(
        model, using, defaults, tuple(companions), tuple(sql for sql, _params in along)
    )
    params = values + entry_values + [value for _sql, more in along for value in more]
    with connection.cursor() as cursor:
        prepared.execute(cursor, connection, statement, params)
        found = cursor.fetchone()
    returned = len(model._meta.db_returning_fields)
    _read_back(obj, found[:returned], connection)
    obj._state.adding = False
    obj._state.db = using
    for write, rows in zip(alongside, found[returned:], strict=True):
        write.done(rows)
