"""Tallies kept by database triggers, around ``migrate``.

SQLite alters a table by building a new one and renaming it into place, and refuses the rename
while a trigger names the table. So on SQLite an app's tally triggers are set aside before the
migrations run (``pre_migrate``) and put back after them (``post_migrate``); when they had to be
put back, the writes the migrations made meanwhile went uncounted, so every year is recounted.
"""

from collections.abc import Callable

from django.db import connections


def set_aside_before_migrate(*, using: str, drop: Callable) -> None:
    connection = connections[using]
    if connection.vendor == "sqlite":
        drop(connection)


def put_back_after_migrate(*, using: str, table: str, install: Callable, recount: Callable) -> None:
    """``install(connection)`` says whether it had to install anything."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return  # migrated back before the tallies
    if install(connection):
        recount(connection=connection)
