"""Sessions in the database, which a view may write inside its own transaction.

Every request writes its session (``SESSION_SAVE_EVERY_REQUEST``, for the idle timeout), after
the view, in a transaction of its own: a second commit, with its own wait for the disk, for a
view that commits its own writes anyway. Such a view calls ``save_in_transaction(request)``
inside its transaction; the session middleware's save after the view then finds nothing new
to write and writes nothing.

If the session's row is gone by then (signed out in another tab, say), nothing is written
here and the middleware's save after the view answers as Django always does
(``SessionInterrupted``): the view's own writes stand, as they would without this.

A view whose transaction writes a new row with ``core.inserts.insert_audited`` can send the
session's write in that row's statement instead (``session_write(request)``, passed as
``alongside``): one round trip fewer, with the same outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends import db
from django.db import connection, transaction
from django.utils import timezone

from . import prepared


class SessionStore(db.SessionStore):
    """Django's database store, plus ``write_in_transaction``."""

    #: (session key, serialized data) as written by ``write_in_transaction`` in this request.
    _written: tuple[str, bytes] | None = None

    def _quoted_names(self) -> tuple[str, str, str, str]:
        """The session table's name and its data, expiry and key columns, quoted."""
        meta = self.model._meta
        quote = connection.ops.quote_name
        return (
            quote(meta.db_table),
            *(
                quote(meta.get_field(name).column)
                for name in ("session_data", "expire_date", "session_key")
            ),
        )

    def _get_session_from_db(self):
        """The session's row while it has not expired, or None (forgetting the key, as Django
        does). One statement written once and prepared per connection (``core.prepared``):
        it runs on every request, and the ORM spent longer building it than the database
        spent answering."""
        table, data_column, expiry, key = self._quoted_names()
        sql = f"SELECT {data_column} FROM {table} WHERE {key} = %s AND {expiry} > %s"
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            prepared.execute(cursor, connection, sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0])

    def _snapshot(self, data: dict) -> bytes:
        return self.serializer().dumps(data)

    def update_statement(self, data: dict) -> tuple[str, list]:
        """The ``UPDATE`` that writes ``data`` as this (existing) session's, renewing its
        expiry, and its values."""
        table, data_column, expiry, key = self._quoted_names()
        sql = f"UPDATE {table} SET {data_column} = %s, {expiry} = %s WHERE {key} = %s"
        expires = connection.ops.adapt_datetimefield_value(self.get_expiry_date())
        return sql, [self.encode(data), expires, self.session_key]

    def written_on_commit(self, data: dict) -> None:
        """``data`` was written in the current transaction: once it commits, the session is
        known as written. Rolled back, the middleware writes it as usual."""
        snapshot = (self.session_key, self._snapshot(data))
        transaction.on_commit(lambda: setattr(self, "_written", snapshot))

    def write_in_transaction(self) -> bool:
        """Write the session now, in the caller's transaction; whether it was written (not when
        its row is gone)."""
        if self.session_key is None:
            return False  # a new session: the middleware creates it after the view
        data = self._get_session()
        sql, params = self.update_statement(data)
        with connection.cursor() as cursor:
            prepared.execute(cursor, connection, sql, params)
            written = cursor.rowcount == 1
        if written:
            self.written_on_commit(data)
        return written

    def save(self, must_create=False):
        written = self._written
        if (
            not must_create
            and written is not None
            and written[0] == self.session_key
            and written[1] == self._snapshot(self._get_session())
        ):
            return  # written in the view's transaction, unchanged since
        super().save(must_create=must_create)


def save_in_transaction(request) -> None:
    """Write the request's session in the current transaction, when the configured store can
    (``SESSION_ENGINE = "apps.core.sessions"``); otherwise the middleware saves it as usual."""
    session = getattr(request, "session", None)
    if not isinstance(session, SessionStore) or not connection.in_atomic_block:
        return
    if session.modified or settings.SESSION_SAVE_EVERY_REQUEST:  # what the middleware saves
        session.write_in_transaction()


class SessionWrite:
    """The request's session, with ``changes``, to be written in the statement of the view's
    own new row (``core.inserts.insert_audited(alongside=...)``). The session takes in the
    changes once that statement has written them; a row refused before (by the database or
    the view's rules) leaves the session as it was. Either way, when the transaction does not
    commit, the middleware saves the session after the view, as for any page."""

    def __init__(self, session: SessionStore, changes: dict):
        self.session = session
        self.changes = changes
        self.data = {**session._get_session(), **changes}

    def statement(self) -> tuple[str, list]:
        return self.session.update_statement(self.data)

    def done(self, rows: int) -> None:
        if rows == 1:
            self.session.update(self.changes)
            self.session.written_on_commit(self.data)
        # No row (signed out meanwhile): the middleware's save answers as Django does.


def session_write(request, changes: dict) -> SessionWrite | None:
    """The write of the request's session with ``changes``, for a view's transaction to send
    alongside its new row, when the configured store and the session allow it (an existing
    session in this store); None otherwise: the caller then sets the changes on the session
    itself and the middleware saves it."""
    session = getattr(request, "session", None)
    if not isinstance(session, SessionStore) or session.session_key is None:
        return None
    unchanged = all(session.get(key) == value for key, value in changes.items())
    if unchanged and not settings.SESSION_SAVE_EVERY_REQUEST:
        return None  # nothing the middleware would save either
    return SessionWrite(session, {} if unchanged else changes)
