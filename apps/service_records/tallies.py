"""The record tallies (``RecordTally``): each volunteer's approved service per year and team,
kept by the database itself as records and their ratings are written.

Two sets of triggers, on PostgreSQL and on SQLite alike:

- on evaluations: every rating added, changed or removed updates its record's
  ``ratings_count`` and ``rating_stars_total``. That ``UPDATE`` takes the record's row lock, so
  a rating and a review of the same record never miss each other, whichever commits first;
- on records: an approved record counts in the tally of its volunteer, its service date's year
  and its team (0 for none). Inserting, approving, reopening, editing, rating or deleting one
  moves its figures in or out; a row whose records fall to zero is removed.

PostgreSQL runs them once per statement over its transition tables (a bulk insert of 10,000
records aggregates them and upserts a few thousand tally rows); SQLite once per row. Migration
0003 counts the tallies in and installs them on PostgreSQL. SQLite alters a table by rebuilding
it, which drops the table's triggers and is refused while a trigger elsewhere names it, so there
they are set aside while migrations run and put back after them, with a recount
(``drop_before_migrate``, ``reinstall_after_migrate``). A change to the SQL below reaches
PostgreSQL through a new migration that calls ``install_record_tally_triggers(replace=True)``
(0011 did so for the check that returns at once when no approved record is among the rows).

``record_tally_recount`` rebuilds a year from the records and evaluations, and
``record_tally_differences`` lists what does not match them.
"""

from __future__ import annotations

import datetime

from django.db import connection as default_connection
from django.db import transaction

from apps.core import tally_triggers

RECORD = "service_records_servicerecord"
EVALUATION = "service_records_evaluation"
TALLY = "service_records_recordtally"
APPROVED = "approved"  # RecordStatus.APPROVED, spelled out: the SQL below is frozen text

TALLY_COLUMNS = ("approved_minutes", "records", "on_time_records", "ratings", "rating_stars")
KEY = ("volunteer_id", "year", "team_key")

# PostgreSQL ----------------------------------------------------------------------------------


def _pg_contribution(table: str, sign: str) -> str:
    """What the approved rows of a transition table add to (or take from) the tallies."""
    return (
        f"SELECT volunteer_id, EXTRACT(YEAR FROM service_date)::integer AS year, "
        f"COALESCE(team_id, 0) AS team_key, {sign}duration_minutes AS minutes, "
        f"{sign}1 AS n, {sign}(CASE WHEN is_late THEN 0 ELSE 1 END) AS on_time, "
        f"{sign}ratings_count AS ratings, {sign}rating_stars_total AS stars "
        f"FROM {table} WHERE status = '{APPROVED}'"
    )


def _pg_tally_function(name: str, sources: list[str]) -> str:
    changes = " UNION ALL ".join(sources)
    sets = ", ".join(f"{column} = t.{column} + EXCLUDED.{column}" for column in TALLY_COLUMNS)
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
DECLARE
    emptied_volunteers bigint[];
    emptied_years integer[];
    emptied_teams bigint[];
BEGIN
    -- Most writes change no approved record (a submit, an edit while waiting for review):
    -- then there is nothing to count, and nothing to aggregate or upsert.
    IF NOT EXISTS ({changes}) THEN
        RETURN NULL;
    END IF;
    WITH delta AS (
        SELECT volunteer_id, year, team_key, SUM(minutes) AS minutes, SUM(n) AS n,
            SUM(on_time) AS on_time, SUM(ratings) AS ratings, SUM(stars) AS stars
        FROM ({changes}) changes
        GROUP BY volunteer_id, year, team_key
        HAVING SUM(n) <> 0 OR SUM(minutes) <> 0 OR SUM(on_time) <> 0 OR SUM(ratings) <> 0
            OR SUM(stars) <> 0
    ),
    written AS (
        INSERT INTO {TALLY} AS t (volunteer_id, year, team_key, {", ".join(TALLY_COLUMNS)})
        SELECT * FROM delta ORDER BY volunteer_id, year, team_key
        ON CONFLICT (volunteer_id, year, team_key) DO UPDATE SET {sets}
        RETURNING t.volunteer_id, t.year, t.team_key, t.records
    )
    SELECT array_agg(volunteer_id), array_agg(year), array_agg(team_key)
        INTO emptied_volunteers, emptied_years, emptied_teams
        FROM written WHERE records = 0;
    IF emptied_volunteers IS NOT NULL THEN
        DELETE FROM {TALLY} t
        USING unnest(emptied_volunteers, emptied_years, emptied_teams) AS z(v, y, k)
        WHERE t.volunteer_id = z.v AND t.year = z.y AND t.team_key = z.k AND t.records = 0;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _pg_ratings_function(name: str, sources: list[str]) -> str:
    changes = " UNION ALL ".join(sources)
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    UPDATE {RECORD} r
    SET ratings_count = r.ratings_count + d.n, rating_stars_total = r.rating_stars_total + d.stars
    FROM (
        SELECT record_id, SUM(n) AS n, SUM(stars) AS stars FROM ({changes}) changes
        GROUP BY record_id HAVING SUM(n) <> 0 OR SUM(stars) <> 0
    ) d
    WHERE r.id = d.record_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _pg_rating(table: str, sign: str) -> str:
    return f"SELECT record_id, {sign}1 AS n, {sign}stars AS stars FROM {table}"


#: (trigger, table, event, transition tables, function, its body)
_PG_TRIGGERS = [
    (
        "record_tally_insert",
        RECORD,
        "INSERT",
        "NEW TABLE AS new_rows",
        "record_tally_insert",
        _pg_tally_function("record_tally_insert", [_pg_contribution("new_rows", "")]),
    ),
    (
        "record_tally_update",
        RECORD,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "record_tally_update",
        _pg_tally_function(
            "record_tally_update",
            [_pg_contribution("new_rows", ""), _pg_contribution("old_rows", "-")],
        ),
    ),
    (
        "record_tally_delete",
        RECORD,
        "DELETE",
        "OLD TABLE AS old_rows",
        "record_tally_delete",
        _pg_tally_function("record_tally_delete", [_pg_contribution("old_rows", "-")]),
    ),
    (
        "record_ratings_insert",
        EVALUATION,
        "INSERT",
        "NEW TABLE AS new_rows",
        "record_ratings_insert",
        _pg_ratings_function("record_ratings_insert", [_pg_rating("new_rows", "")]),
    ),
    (
        "record_ratings_update",
        EVALUATION,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "record_ratings_update",
        _pg_ratings_function(
            "record_ratings_update", [_pg_rating("new_rows", ""), _pg_rating("old_rows", "-")]
        ),
    ),
    (
        "record_ratings_delete",
        EVALUATION,
        "DELETE",
        "OLD TABLE AS old_rows",
        "record_ratings_delete",
        _pg_ratings_function("record_ratings_delete", [_pg_rating("old_rows", "-")]),
    ),
]


# SQLite --------------------------------------------------------------------------------------


def _sqlite_key(row: str) -> tuple[str, str, str]:
    return (
        f"{row}.volunteer_id",
        f"CAST(strftime('%Y', {row}.service_date) AS INTEGER)",
        f"COALESCE({row}.team_id, 0)",
    )


def _sqlite_figures(row: str) -> tuple[str, ...]:
    return (
        f"{row}.duration_minutes",
        "1",
        f"(NOT {row}.is_late)",
        f"{row}.ratings_count",
        f"{row}.rating_stars_total",
    )


def _sqlite_where(row: str) -> str:
    return " AND ".join(
        f"{column} = {value}" for column, value in zip(KEY, _sqlite_key(row), strict=True)
    )


def _sqlite_add(row: str) -> str:
    columns = ", ".join((*KEY, *TALLY_COLUMNS))
    values = ", ".join((*_sqlite_key(row), *_sqlite_figures(row)))
    sets = ", ".join(f"{column} = {column} + excluded.{column}" for column in TALLY_COLUMNS)
    return (
        f"INSERT INTO {TALLY} ({columns}) VALUES ({values}) "
        f"ON CONFLICT (volunteer_id, year, team_key) DO UPDATE SET {sets};"
    )


def _sqlite_take(row: str) -> str:
    sets = ", ".join(
        f"{column} = {column} - {value}"
        for column, value in zip(TALLY_COLUMNS, _sqlite_figures(row), strict=True)
    )
    return (
        f"UPDATE {TALLY} SET {sets} WHERE {_sqlite_where(row)}; "
        f"DELETE FROM {TALLY} WHERE {_sqlite_where(row)} AND records = 0;"
    )


def _sqlite_move() -> str:
    sets = ", ".join(
        f"{column} = {column} + {new} - {old}"
        for column, new, old in zip(
            TALLY_COLUMNS, _sqlite_figures("NEW"), _sqlite_figures("OLD"), strict=True
        )
    )
    return f"UPDATE {TALLY} SET {sets} WHERE {_sqlite_where('NEW')};"


_SAME_KEY = " AND ".join(
    f"{old} = {new}" for old, new in zip(_sqlite_key("OLD"), _sqlite_key("NEW"), strict=True)
)
_OLD_IN = f"OLD.status = '{APPROVED}'"
_NEW_IN = f"NEW.status = '{APPROVED}'"
_WATCHED = (
    "status, service_date, volunteer_id, team_id, duration_minutes, is_late, ratings_count, "
    "rating_stars_total"
)

#: (trigger, its statement) — every one ``AFTER``, ``FOR EACH ROW``.
_SQLITE_TRIGGERS = [
    (
        "record_tally_insert",
        f"AFTER INSERT ON {RECORD} WHEN {_NEW_IN} BEGIN {_sqlite_add('NEW')} END",
    ),
    (
        "record_tally_delete",
        f"AFTER DELETE ON {RECORD} WHEN {_OLD_IN} BEGIN {_sqlite_take('OLD')} END",
    ),
    # An update either changes an approved record's figures in place (same volunteer, year and
    # team: a plain UPDATE, which never creates a row) or takes it out of one tally and puts
    # it into another.
    (
        "record_tally_update",
        f"AFTER UPDATE OF {_WATCHED} ON {RECORD} "
        f"WHEN {_OLD_IN} AND {_NEW_IN} AND {_SAME_KEY} BEGIN {_sqlite_move()} END",
    ),
    (
        "record_tally_update_out",
        f"AFTER UPDATE OF {_WATCHED} ON {RECORD} "
        f"WHEN {_OLD_IN} AND NOT ({_NEW_IN} AND {_SAME_KEY}) BEGIN {_sqlite_take('OLD')} END",
    ),
    (
        "record_tally_update_in",
        f"AFTER UPDATE OF {_WATCHED} ON {RECORD} "
        f"WHEN {_NEW_IN} AND NOT ({_OLD_IN} AND {_SAME_KEY}) BEGIN {_sqlite_add('NEW')} END",
    ),
    (
        "record_ratings_insert",
        f"AFTER INSERT ON {EVALUATION} BEGIN UPDATE {RECORD} SET "
        f"ratings_count = ratings_count + 1, rating_stars_total = rating_stars_total + NEW.stars "
        f"WHERE id = NEW.record_id; END",
    ),
    (
        "record_ratings_update",
        f"AFTER UPDATE OF stars, record_id ON {EVALUATION} BEGIN UPDATE {RECORD} SET "
        f"ratings_count = ratings_count - 1, rating_stars_total = rating_stars_total - OLD.stars "
        f"WHERE id = OLD.record_id; UPDATE {RECORD} SET ratings_count = ratings_count + 1, "
        f"rating_stars_total = rating_stars_total + NEW.stars WHERE id = NEW.record_id; END",
    ),
    (
        "record_ratings_delete",
        f"AFTER DELETE ON {EVALUATION} BEGIN UPDATE {RECORD} SET "
        f"ratings_count = ratings_count - 1, rating_stars_total = rating_stars_total - OLD.stars "
        f"WHERE id = OLD.record_id; END",
    ),
]


def installed_triggers(connection=default_connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid IN (%s::regclass, %s::regclass)",
                [RECORD, EVALUATION],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                [RECORD, EVALUATION],
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


def _wanted(connection) -> list[tuple[str, list[str]]]:
    """Each trigger with the statements that (re)create it."""
    if connection.vendor == "postgresql":
        return [
            (
                name,
                [
                    body,
                    f"DROP TRIGGER IF EXISTS {name} ON {table}",
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
                ],
            )
            for name, table, event, transition, function, body in _PG_TRIGGERS
        ]
    if connection.vendor == "sqlite":
        return [
            (name, [f"DROP TRIGGER IF EXISTS {name}", f"CREATE TRIGGER {name} {sql}"])
            for name, sql in _SQLITE_TRIGGERS
        ]
    return []


def install_record_tally_triggers(connection=default_connection, *, replace=False) -> list[str]:
    """Create the triggers that are missing (all of them with ``replace``); returns their names.

    The tallies are only right if the triggers were there for every write: after putting back a
    trigger that was missing while records changed, recount (``record_tally_recount``).
    """
    present = set() if replace else installed_triggers(connection)
    made = []
    with connection.cursor() as cursor:
        for name, statements in _wanted(connection):
            if name in present:
                continue
            for statement in statements:
                cursor.execute(statement)
            made.append(name)
    return made


def drop_before_migrate(*, using: str = "default", **kwargs) -> None:
    """``pre_migrate``: on SQLite the triggers are set aside while migrations run.

    SQLite alters a table by building a new one and renaming it into place, and refuses the
    rename while a trigger elsewhere (on evaluations) names the table being replaced.
    """
    tally_triggers.set_aside_before_migrate(using=using, drop=drop_record_tally_triggers)


def reinstall_after_migrate(*, using: str = "default", **kwargs) -> None:
    """``post_migrate``: put back the triggers that are missing and, if any were, recount
    every year (the migrations' own writes went uncounted meanwhile)."""
    tally_triggers.put_back_after_migrate(
        using=using,
        table=TALLY,
        install=install_record_tally_triggers,
        recount=record_tally_recount,
    )


def drop_record_tally_triggers(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, table, _event, _transition, function, _body in _PG_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")
        elif connection.vendor == "sqlite":
            for name, _sql in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


# Recount and check ---------------------------------------------------------------------------


def _bounds(year: int | None) -> tuple[str, list]:
    if year is None:
        return "1 = 1", []
    return "r.service_date BETWEEN %s AND %s", [
        datetime.date(year, 1, 1),
        datetime.date(year, 12, 31),
    ]


def _year_of(column: str, connection) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(YEAR FROM {column})::integer"
    return f"CAST(strftime('%%Y', {column}) AS INTEGER)"


#: Each record's ratings counted from the evaluations themselves.
RATINGS_SQL = (
    f"SELECT record_id, COUNT(*) AS n, SUM(stars) AS stars FROM {EVALUATION} GROUP BY record_id"
)


def _recounted_sql(year: int | None, connection) -> tuple[str, list]:
    """The tallies as the records have them (their ratings columns included), from scratch."""
    condition, params = _bounds(year)
    year_of = _year_of("r.service_date", connection)
    sql = (
        f"SELECT r.volunteer_id, {year_of} AS year, COALESCE(r.team_id, 0) AS team_key, "
        f"SUM(r.duration_minutes) AS approved_minutes, COUNT(*) AS records, "
        f"SUM(CASE WHEN r.is_late THEN 0 ELSE 1 END) AS on_time_records, "
        f"SUM(r.ratings_count) AS ratings, SUM(r.rating_stars_total) AS rating_stars "
        f"FROM {RECORD} r WHERE r.status = %s AND {condition} "
        f"GROUP BY r.volunteer_id, {year_of}, COALESCE(r.team_id, 0)"
    )
    return sql, [APPROVED, *params]


def _wrong_ratings_sql(year: int | None) -> list[tuple[str, str, list]]:
    """The records whose ratings columns disagree with their evaluations, as (what to select
    from, condition, params) pairs: rated records counted wrong, unrated ones not at zero."""
    condition, params = _bounds(year)
    return [
        (
            f"{RECORD} r JOIN ({RATINGS_SQL}) e ON e.record_id = r.id",
            f"{condition} AND (r.ratings_count <> e.n OR r.rating_stars_total <> e.stars)",
            params,
        ),
        (
            f"{RECORD} r",
            f"{condition} AND (r.ratings_count <> 0 OR r.rating_stars_total <> 0) "
            f"AND NOT EXISTS (SELECT 1 FROM {EVALUATION} e WHERE e.record_id = r.id)",
            params,
        ),
    ]


def _lock(cursor, connection, *tables: str) -> None:
    if connection.vendor == "postgresql":
        # Writers wait (readers do not) while the year is counted afresh.
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
        tune_for_counting(cursor, connection)


def tune_for_counting(cursor, connection) -> None:
    """PostgreSQL, in a transaction: big hash aggregates in memory, no JIT compiling."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0.01")


def record_tally_recount(*, year: int | None = None, connection=default_connection) -> int:
    """Rebuild the tallies of a year (every year with ``None``) from the records and their
    evaluations, and the records' ratings columns with them; returns the tally rows written."""
    condition, params = _bounds(year)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _lock(cursor, connection, RECORD, EVALUATION, TALLY)
        # The records' own ratings columns first, where they disagree with the evaluations
        # (their triggers adjust the tallies, which are then replaced anyway) …
        rated, unrated = _wrong_ratings_sql(year)
        cursor.execute(
            f"UPDATE {RECORD} SET ratings_count = 0, rating_stars_total = 0 "
            f"WHERE id IN (SELECT r.id FROM {unrated[0]} WHERE {unrated[1]})",
            unrated[2],
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {RECORD} SET ratings_count = x.n, rating_stars_total = x.stars "
                f"FROM (SELECT r.id, e.n, e.stars FROM {rated[0]} WHERE {rated[1]}) x "
                f"WHERE {RECORD}.id = x.id",
                rated[2],
            )
        else:
            for column, value in (
                ("ratings_count", "COUNT(*)"),
                ("rating_stars_total", "SUM(stars)"),
            ):
                cursor.execute(
                    f"UPDATE {RECORD} SET {column} = (SELECT {value} FROM {EVALUATION} e "
                    f"WHERE e.record_id = {RECORD}.id) "
                    f"WHERE id IN (SELECT r.id FROM {rated[0]} WHERE {rated[1]})",
                    rated[2],
                )
        # … then the tallies, from scratch.
        if year is None:
            cursor.execute(f"DELETE FROM {TALLY}")
        else:
            cursor.execute(f"DELETE FROM {TALLY} WHERE year = %s", [year])
        recounted, recounted_params = _recounted_sql(year, connection)
        cursor.execute(
            f"INSERT INTO {TALLY} ({', '.join((*KEY, *TALLY_COLUMNS))}) {recounted}",
            recounted_params,
        )
        written = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {TALLY}")  # plans over the new rows from the start
        return written


def record_tally_differences(
    *, year: int, limit: int = 20, connection=default_connection
) -> tuple[int, list[dict]]:
    """How many tally rows of a year differ from a recount, and the first ``limit`` of them
    (``{"volunteer_id", "year", "team_key", "tally": (…), "recount": (…)}``); records whose
    ratings columns disagree with their evaluations count too (``{"record_id", …}``)."""
    recounted, params = _recounted_sql(year, connection)
    columns = ", ".join(f"t.{column}" for column in TALLY_COLUMNS)
    truth = ", ".join(f"c.{column}" for column in TALLY_COLUMNS)
    join = " AND ".join(f"t.{column} = c.{column}" for column in KEY)
    same = " AND ".join(f"t.{column} = c.{column}" for column in TALLY_COLUMNS)
    null = ", ".join(["NULL"] * len(TALLY_COLUMNS))
    sql = (
        f"WITH c AS ({recounted}), t AS (SELECT * FROM {TALLY} WHERE year = %s) "
        f"SELECT c.volunteer_id, c.year, c.team_key, {columns}, {truth} "
        f"FROM c LEFT JOIN t ON {join} WHERE t.volunteer_id IS NULL OR NOT ({same}) "
        f"UNION ALL "
        f"SELECT t.volunteer_id, t.year, t.team_key, {columns}, {null} FROM t "
        f"WHERE NOT EXISTS (SELECT 1 FROM c WHERE {join}) "
        f"ORDER BY 1, 2, 3"
    )
    size = len(TALLY_COLUMNS)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        tune_for_counting(cursor, connection)
        cursor.execute(sql, [*params, year])
        found = [
            {
                "volunteer_id": row[0],
                "year": row[1],
                "team_key": row[2],
                "tally": None if row[3] is None else tuple(row[3 : 3 + size]),
                "recount": None if row[3 + size] is None else tuple(row[3 + size :]),
            }
            for row in cursor.fetchall()
        ]
        for source, condition, condition_params in _wrong_ratings_sql(year):
            cursor.execute(
                f"SELECT r.id, r.volunteer_id, r.ratings_count, r.rating_stars_total "
                f"FROM {source} WHERE {condition} ORDER BY r.id",
                condition_params,
            )
            found += [
                {"record_id": pk, "volunteer_id": volunteer, "tally": (count, stars)}
                for pk, volunteer, count, stars in cursor.fetchall()
            ]
    return len(found), found[:limit]
