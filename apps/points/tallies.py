"""The points tallies (``PointsTally``): each volunteer's points per year, kept by the database.

The ledger is append-only (updates and deletes are refused), so one trigger on inserts is all
it takes: on PostgreSQL once per statement over its transition table, on SQLite once per row.
An entry counts in the year of ``counted_on``, reversals included, as the roll-up sums them.
Migration 0006 counts the tallies in and installs the trigger on PostgreSQL; on SQLite it is
set aside while migrations run and put back after them, with a recount (SQLite alters a table
by rebuilding it, which triggers get in the way of). ``points_tally_recount``
rebuilds a year from the ledger and ``points_tally_differences`` lists what does not match.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection as default_connection
from django.db import transaction

from apps.core import tally_triggers
from apps.service_records.tallies import tune_for_counting

ENTRY = "points_pointsentry"
TALLY = "points_pointstally"
TRIGGER = "points_tally_insert"
CENT = Decimal("0.01")

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
BEGIN
    INSERT INTO {TALLY} AS t (volunteer_id, year, points)
    SELECT volunteer_id, EXTRACT(YEAR FROM counted_on)::integer, SUM(points) FROM new_rows
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (volunteer_id, year) DO UPDATE SET points = t.points + EXCLUDED.points;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
_SQLITE_TRIGGER = (
    f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON {ENTRY} BEGIN "
    f"INSERT INTO {TALLY} (volunteer_id, year, points) "
    f"VALUES (NEW.volunteer_id, CAST(strftime('%Y', NEW.counted_on) AS INTEGER), NEW.points) "
    f"ON CONFLICT (volunteer_id, year) DO UPDATE SET points = points + excluded.points; END"
)


def trigger_installed(connection=default_connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [TRIGGER, ENTRY],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER]
            )
        else:
            return True
        return cursor.fetchone() is not None


def install_points_tally_trigger(connection=default_connection, *, replace=False) -> bool:
    """Create the trigger if it is missing (or afresh with ``replace``); ``True`` if made."""
    if not replace and trigger_installed(connection):
        return False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {ENTRY}")
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON {ENTRY} REFERENCING NEW TABLE AS "
                f"new_rows FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
            cursor.execute(_SQLITE_TRIGGER)
        else:
            return False
    return True


def drop_before_migrate(*, using: str = "default", **kwargs) -> None:
    """``pre_migrate``: on SQLite the trigger is set aside while migrations run (SQLite alters
    a table by building a new one and renaming it into place, and refuses the rename of the
    tallies' table while a trigger names it)."""
    tally_triggers.set_aside_before_migrate(using=using, drop=drop_points_tally_trigger)


def reinstall_after_migrate(*, using: str = "default", **kwargs) -> None:
    """``post_migrate``: put the trigger back if it is missing and, if it was, recount every
    year (the migrations' own entries went uncounted meanwhile)."""
    tally_triggers.put_back_after_migrate(
        using=using, table=TALLY, install=install_points_tally_trigger, recount=points_tally_recount
    )


def drop_points_tally_trigger(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {ENTRY}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")


def _recounted_sql(year: int | None, connection) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        year_of = "EXTRACT(YEAR FROM counted_on)::integer"
    else:
        year_of = "CAST(strftime('%%Y', counted_on) AS INTEGER)"
    condition, params = "1 = 1", []
    if year is not None:
        condition = "counted_on BETWEEN %s AND %s"
        params = [datetime.date(year, 1, 1), datetime.date(year, 12, 31)]
    return (
        f"SELECT volunteer_id, {year_of} AS year, SUM(points) AS points FROM {ENTRY} "
        f"WHERE {condition} GROUP BY volunteer_id, {year_of}",
        params,
    )


def points_tally_recount(*, year: int | None = None, connection=default_connection) -> int:
    """Rebuild the tallies of a year (every year with ``None``) from the ledger; returns the
    rows written."""
    recounted, params = _recounted_sql(year, connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # New entries wait (readers do not) while the year is counted afresh.
            cursor.execute(f"LOCK TABLE {ENTRY}, {TALLY} IN SHARE ROW EXCLUSIVE MODE")
            tune_for_counting(cursor, connection)
        if year is None:
            cursor.execute(f"DELETE FROM {TALLY}")
        else:
            cursor.execute(f"DELETE FROM {TALLY} WHERE year = %s", [year])
        cursor.execute(f"INSERT INTO {TALLY} (volunteer_id, year, points) {recounted}", params)
        written = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {TALLY}")  # plans over the new rows from the start
        return written


def points_tally_differences(
    *, year: int, limit: int = 20, connection=default_connection
) -> tuple[int, list[dict]]:
    """How many volunteers' tallies of a year differ from the ledger, and the first ``limit``
    (``{"volunteer_id", "year", "tally", "recount"}``; compared to the cent)."""
    recounted, params = _recounted_sql(year, connection)
    sql = (
        f"WITH c AS ({recounted}), t AS (SELECT * FROM {TALLY} WHERE year = %s) "
        f"SELECT c.volunteer_id, t.points, c.points FROM c "
        f"LEFT JOIN t ON t.volunteer_id = c.volunteer_id "
        f"WHERE t.volunteer_id IS NULL OR ROUND(t.points, 2) <> ROUND(c.points, 2) "
        f"UNION ALL "
        f"SELECT t.volunteer_id, t.points, NULL FROM t "
        f"WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.volunteer_id = t.volunteer_id) "
        f"ORDER BY 1"
    )
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        tune_for_counting(cursor, connection)
        cursor.execute(sql, [*params, year])
        rows = cursor.fetchall()

    def cents(value):
        return None if value is None else Decimal(str(value)).quantize(CENT)

    found = [
        {"volunteer_id": row[0], "year": year, "tally": cents(row[1]), "recount": cents(row[2])}
        for row in rows
    ]
    return len(found), found[:limit]
