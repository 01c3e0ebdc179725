"""The yearly roll-up (年度考核汇总): volunteers, teams and organisations, in set-based SQL.

A run is split into *parts*, each a set of top-level subtrees (plus one part for volunteers
without a party membership). The year's records, their ratings and the points ledger are
aggregated once per run, by whichever part starts first, into a *stage* (two small UNLOGGED
tables named after the run: one row per volunteer, one per team); every part then joins only
its own people and teams to it. A part replaces its volunteers' and teams' rows in one
transaction, and only the rows whose figures changed (a rerun over unchanged records writes
nothing), so a part killed half-way leaves the previous rows whole, and parts can run on
several Celery workers at once. The part that finishes last writes the organisation rows
(every node's own figures grouped in a few queries and summed up the materialised path, again
only the changed rows replaced) and drops the stage. Running twice gives identical rows.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import TrainingRecord, VolunteerProfile, VolunteerStatus
from apps.activities.models import Activity, ActivityStatus
from apps.care.coverage import four_facts_known_q
from apps.care.models import (
    CareRecipient,
    RecipientPairing,
    RequestStatus,
    ServiceRequest,
    Visit,
)
from apps.communities.models import (
    Pledge,
    PledgeStatus,
    ResidenceReport,
    ResidenceReportStatus,
)
from apps.core.scoping import get_user_scope
from apps.core.services import audit_log
from apps.organizations.models import EmploymentStatus, Membership, PartyOrganization
from apps.points.models import PointsEntry
from apps.service_records.models import Evaluation, RecordStatus, ServiceRecord
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus

from .models import (
    AssessmentYear,
    OrganizationYearSummary,
    RunStatus,
    TeamYearSummary,
    VolunteerYearSummary,
    YearStatus,
    closed_year_message,
)

logger = logging.getLogger(__name__)

#: A run that has shown no sign of life for this long may be started again from the dashboard.
STALE_AFTER = datetime.timedelta(minutes=30)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _today(now) -> datetime.date:
    return timezone.localdate(now or timezone.now())


def _check_year(year: int, *, today: datetime.date) -> None:
    if year > today.year:
        raise ValidationError(
            _("%(year)s has not happened yet: a roll-up can only be run for this year or earlier.")
            % {"year": year},
            code="future_year",
        )
    if year < 2000:
        raise ValidationError(_("Enter a year from 2000 on."), code="year_too_early")


def _locked_year(year: int) -> AssessmentYear:
    assessment_year, _created = AssessmentYear.objects.get_or_create(year=year)
    return AssessmentYear.objects.select_for_update().get(pk=assessment_year.pk)


# Parts -------------------------------------------------------------------------------------


def rollup_parts(*, organization_ids=None, parts: int | None = None) -> list[dict]:
    """How a run is split: a list of JSON-able parts, each ``{"paths", "ids", "citizens"}``.

    By default one part per top-level subtree (the children of the roots), one for the roots'
    own members and one for volunteers outside the party (``citizens``); ``parts`` groups them
    into at most that many. With ``organization_ids`` only those subtrees are rolled up.
    """
    units: list[dict] = []
    if organization_ids:
        chosen = sorted(
            PartyOrganization.objects.filter(pk__in=organization_ids).values_list("path", flat=True)
        )
        kept: list[str] = []
        for path in chosen:
            if not any(path.startswith(outer) for outer in kept):
                kept.append(path)
        units = [{"paths": [path], "ids": [], "citizens": False} for path in kept]
    else:
        roots = list(
            PartyOrganization.objects.filter(parent__isnull=True).values_list("pk", flat=True)
        )
        if roots:
            units.append({"paths": [], "ids": roots, "citizens": False})
        units += [
            {"paths": [path], "ids": [], "citizens": False}
            for path in PartyOrganization.objects.filter(parent_id__in=roots)
            .order_by("path")
            .values_list("path", flat=True)
        ]
        units.append({"paths": [], "ids": [], "citizens": True})
    if not parts or parts >= len(units):
        return units
    grouped = [{"paths": [], "ids": [], "citizens": False} for _index in range(max(parts, 1))]
    for index, unit in enumerate(units):
        target = grouped[index % len(grouped)]
        target["paths"] += unit["paths"]
        target["ids"] += unit["ids"]
        target["citizens"] = target["citizens"] or unit["citizens"]
    return grouped


def _organization_condition(part: dict, alias: str) -> tuple[str, list]:
    clauses, params = [], []
    for path in part["paths"]:
        clauses.append(f"{alias}.path LIKE %s")
        params.append(path + "%")
    if part["ids"]:
        clauses.append(f"{alias}.id IN ({', '.join(['%s'] * len(part['ids']))})")
        params += part["ids"]
    if not clauses:
        return "1 = 0", []
    return "(" + " OR ".join(clauses) + ")", params


# The stage: the year's records, ratings and points aggregated once per run ---------------------
#
# Every part needs the same few figures per volunteer and per team, and they all come from the
# three big tables (records, their ratings, the points ledger). Scanning those once per part
# made a run cost as many full scans as it has parts, so the first part of a run aggregates them
# once, for everybody, into two small tables named after the run (one row per volunteer and
# per team); every part then only joins its own people and teams to them. The stage is scratch:
# the results are still written part by part, each in one transaction. The run's end (or its
# failure, or the next run) drops it.

STAGE_PREFIX = "awards_rollup_"


def _stage_tables(year: int, token: str) -> tuple[str, str]:
    """The stage's two tables (volunteers, teams); the token is the run's uuid4 hex."""
    if not token.isalnum():
        raise ValueError(token)
    return f"{STAGE_PREFIX}{year}_{token}_v", f"{STAGE_PREFIX}{year}_{token}_t"


def _stage_sql(*, year: int, token: str) -> list[tuple[str, list]]:
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    volunteers, teams = _stage_tables(year, token)
    by_pair = f"{volunteers}_vt"
    t = {
        "record": _table(ServiceRecord),
        "evaluation": _table(Evaluation),
        "entry": _table(PointsEntry),
    }
    # UNLOGGED: scratch needs no WAL; CREATE TABLE AS (unlike INSERT … SELECT) may run in
    # parallel on PostgreSQL, like the bare GROUP BY it is measured against.
    create = "CREATE UNLOGGED TABLE" if connection.vendor == "postgresql" else "CREATE TABLE"
    approved = RecordStatus.APPROVED.value
    in_year = "r.status = %s AND r.service_date BETWEEN %s AND %s"
    # Team 0 stands for "no team" (ids start at 1), so the pair is a plain equi-join key.
    statements = [
        (
            # Per volunteer and team: every approved record of the year read once; the ratings
            # (a small share of the records) looked up from their side and added by pair.
            f"{create} {by_pair} AS "
            f"WITH rec AS ("
            f"SELECT r.volunteer_id, COALESCE(r.team_id, 0) AS team_id, "
            f"SUM(r.duration_minutes) AS minutes, COUNT(*) AS n, "
            f"SUM(CASE WHEN r.is_late THEN 0 ELSE 1 END) AS on_time "
            f"FROM {t['record']} r WHERE {in_year} "
            f"GROUP BY r.volunteer_id, COALESCE(r.team_id, 0)), "
            f"ev AS ("
            f"SELECT r.volunteer_id, COALESCE(r.team_id, 0) AS team_id, COUNT(*) AS n, "
            f"SUM(e.stars) AS stars FROM {t['evaluation']} e "
            f"JOIN {t['record']} r ON r.id = e.record_id WHERE {in_year} "
            f"GROUP BY r.volunteer_id, COALESCE(r.team_id, 0)) "
            f"SELECT rec.volunteer_id, rec.team_id, rec.minutes, rec.n, rec.on_time, "
            f"COALESCE(ev.n, 0) AS ev_n, COALESCE(ev.stars, 0) AS ev_stars FROM rec "
            f"LEFT JOIN ev ON ev.volunteer_id = rec.volunteer_id AND ev.team_id = rec.team_id",
            [approved, start, end, approved, start, end],
        ),
        (
            f"{create} {volunteers} AS "
            f"WITH rec AS (SELECT volunteer_id, SUM(minutes) AS minutes, SUM(n) AS n, "
            f"SUM(on_time) AS on_time, SUM(ev_n) AS ev_n, SUM(ev_stars) AS ev_stars "
            f"FROM {by_pair} GROUP BY volunteer_id), "
            f"pts AS (SELECT volunteer_id, SUM(points) AS points FROM {t['entry']} "
            f"WHERE counted_on BETWEEN %s AND %s GROUP BY volunteer_id) "
            f"SELECT COALESCE(rec.volunteer_id, pts.volunteer_id) AS volunteer_id, "
            f"COALESCE(rec.minutes, 0) AS minutes, COALESCE(rec.n, 0) AS n, "
            f"COALESCE(rec.on_time, 0) AS on_time, COALESCE(rec.ev_n, 0) AS ev_n, "
            f"COALESCE(rec.ev_stars, 0) AS ev_stars, COALESCE(pts.points, 0) AS points "
            f"FROM rec FULL JOIN pts ON pts.volunteer_id = rec.volunteer_id",
            [start, end],
        ),
        (
            f"{create} {teams} AS SELECT team_id, SUM(minutes) AS minutes, SUM(n) AS n, "
            f"SUM(ev_n) AS ev_n, SUM(ev_stars) AS ev_stars FROM {by_pair} "
            f"WHERE team_id <> 0 GROUP BY team_id",
            [],
        ),
        (f"DROP TABLE {by_pair}", []),
        (f"CREATE UNIQUE INDEX {volunteers}_pk ON {volunteers} (volunteer_id)", []),
    ]
    return statements


def _prepare_stage(*, year: int, token: str) -> None:
    """Build the run's stage unless another part has: one part builds, the others wait."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [STAGE_PREFIX + token])
            # JIT compiling costs more than it saves here; the hash tables fit in 64 MB; the
            # points are summed from an index that is read whole and in order (cached pages,
            # not random reads); and the big GROUP BYs are worth parallel workers.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            cursor.execute("SET LOCAL parallel_tuple_cost = 0.01")
        if _stage_tables(year, token)[1] in connection.introspection.table_names(cursor):
            return
        _execute(cursor, _stage_sql(year=year, token=token))


def _drop_stages(year: int, *, token: str = "", keep: str | None = None) -> None:
    """Drop a run's stage, or (``keep``) every stage of the year but the current run's."""
    prefix = f"{STAGE_PREFIX}{year}_{token}"
    with connection.cursor() as cursor:
        for name in connection.introspection.table_names(cursor):
            if name.startswith(prefix) and not (keep and keep in name):
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")


def _execute(cursor, statements) -> None:
    """Run statements in order; each one's time is logged at DEBUG (``apps.awards.rollup``)."""
    for sql, params in statements:
        started = time.perf_counter()
        cursor.execute(sql, params)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%.3f s  %s", time.perf_counter() - started, " ".join(sql.split())[:120])


# The SQL of one part ---------------------------------------------------------------------------

#: The columns of a volunteer's row a rerun may change (all but the year and the volunteer).
SUMMARY_FIGURES = (
    "organization_id",
    "approved_minutes",
    "records",
    "on_time_records",
    "points",
    "ratings",
    "rating_stars_total",
    "average_rating",
    "pledges_kept",
    "training_hours",
    "visits",
    "rank_in_organization",
)


def _volunteer_sql(part: dict, *, year_id: int, year: int, token: str) -> list[tuple[str, list]]:
    """DELETE and INSERT … SELECT for the volunteers of one part, from the run's stage."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    t = {
        "summary": _table(VolunteerYearSummary),
        "membership": _table(Membership),
        "org": _table(PartyOrganization),
        "profile": _table(VolunteerProfile),
        "stage": _stage_tables(year, token)[0],
        "pledge": _table(Pledge),
        "training": _table(TrainingRecord),
        "visit": _table(Visit),
        "pairing": _table(RecipientPairing),
    }
    statements: list[tuple[str, list]] = []
    pops: list[tuple[str, list]] = []
    if part["paths"] or part["ids"]:
        condition, params = _organization_condition(part, "o")
        pops.append(
            (
                f"SELECT m.user_id AS volunteer_id, m.organization_id AS organization_id "
                f"FROM {t['membership']} m JOIN {t['org']} o ON o.id = m.organization_id "
                f"WHERE m.ended_on IS NULL AND {condition}",
                params,
            )
        )
    if part["citizens"]:
        pops.append(
            (
                f"SELECT p.user_id AS volunteer_id, CAST(NULL AS BIGINT) AS organization_id "
                f"FROM {t['profile']} p "
                f"WHERE NOT EXISTS (SELECT 1 FROM {t['membership']} m "
                f"WHERE m.user_id = p.user_id AND m.ended_on IS NULL)",
                [],
            )
        )
    if not pops:
        return statements
    pop_sql = " UNION ALL ".join(sql for sql, _params in pops)
    pop_params = [param for _sql, params in pops for param in params]
    in_pop = "IN (SELECT volunteer_id FROM pop)"
    figures = ", ".join(SUMMARY_FIGURES)
    # The part's new rows, in a temporary table: compared with the rows there, only those
    # that differ are replaced, so a rerun over unchanged records writes (and bloats) nothing.
    new_rows = f"""
        CREATE TEMPORARY TABLE rollup_new AS
        WITH
        pop AS ({pop_sql}),
        pl AS (
            SELECT user_id, COUNT(*) AS n FROM {t["pledge"]}
            WHERE user_id {in_pop} AND year = %s AND status = %s
            GROUP BY user_id
        ),
        tr AS (
            SELECT user_id, SUM(hours) AS hours FROM {t["training"]}
            WHERE user_id {in_pop} AND held_on BETWEEN %s AND %s
            GROUP BY user_id
        ),
        vi AS (
            SELECT pa.volunteer_id, COUNT(*) AS n
            FROM {t["visit"]} v JOIN {t["pairing"]} pa ON pa.id = v.pairing_id
            WHERE pa.volunteer_id {in_pop} AND v.visited_on BETWEEN %s AND %s
            GROUP BY pa.volunteer_id
        )
        SELECT pop.volunteer_id, pop.organization_id,
            COALESCE(st.minutes, 0) AS approved_minutes, COALESCE(st.n, 0) AS records,
            COALESCE(st.on_time, 0) AS on_time_records,
            ROUND(COALESCE(st.points, 0), 2) AS points, COALESCE(st.ev_n, 0) AS ratings,
            COALESCE(st.ev_stars, 0) AS rating_stars_total,
            CASE WHEN st.ev_n > 0 THEN ROUND(st.ev_stars * 1.0 / st.ev_n, 2) END
                AS average_rating,
            COALESCE(pl.n, 0) AS pledges_kept, ROUND(COALESCE(tr.hours, 0), 1) AS training_hours,
            COALESCE(vi.n, 0) AS visits,
            CASE WHEN pop.organization_id IS NULL THEN NULL ELSE RANK() OVER (
                PARTITION BY pop.organization_id ORDER BY COALESCE(st.points, 0) DESC
            ) END AS rank_in_organization
        FROM pop
        LEFT JOIN {t["stage"]} st ON st.volunteer_id = pop.volunteer_id
        LEFT JOIN pl ON pl.user_id = pop.volunteer_id
        LEFT JOIN tr ON tr.user_id = pop.volunteer_id
        LEFT JOIN vi ON vi.volunteer_id = pop.volunteer_id
    """
    statements.append(("DROP TABLE IF EXISTS rollup_new", []))
    statements.append(
        (
            new_rows,
            [*pop_params, year, PledgeStatus.CONFIRMED.value, start, end, start, end],
        )
    )
    # Null-safe row comparison (SQLite spells IS NOT DISTINCT FROM as IS).
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    old_figures = ", ".join(f"{t['summary']}.{column}" for column in SUMMARY_FIGURES)
    new_figures = ", ".join(f"n.{column}" for column in SUMMARY_FIGURES)
    condition, condition_params = _organization_condition(part, "o")

    # The part's rows as they stand: found along the (year, organisation) index.
    def in_scope(alias: str) -> str:
        return f"{alias}.organization_id IN (SELECT o.id FROM {t['org']} o WHERE {condition})" + (
            f" OR {alias}.organization_id IS NULL" if part["citizens"] else ""
        )

    statements += [
        # The part's rows that are not exactly as they should be (changed figures, people
        # who moved away or whose membership ended) go …
        (
            f"DELETE FROM {t['summary']} WHERE assessment_year_id = %s "
            f"AND ({in_scope(t['summary'])}) "
            f"AND NOT EXISTS (SELECT 1 FROM rollup_new n "
            f"WHERE n.volunteer_id = {t['summary']}.volunteer_id "
            f"AND ({new_figures}) {same} ({old_figures}))",
            [year_id, *condition_params],
        ),
        # … and the rows missing now come in; a row left elsewhere by someone who moved into
        # the part is written over.
        (
            f"INSERT INTO {t['summary']} (assessment_year_id, volunteer_id, {figures}) "
            f"SELECT %s, n.volunteer_id, {new_figures} FROM rollup_new n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {t['summary']} s "
            f"WHERE s.assessment_year_id = %s AND s.volunteer_id = n.volunteer_id "
            f"AND ({in_scope('s')})) "
            f"ON CONFLICT (assessment_year_id, volunteer_id) DO UPDATE SET "
            + ", ".join(f"{column} = EXCLUDED.{column}" for column in SUMMARY_FIGURES),
            [year_id, year_id, *condition_params],
        ),
        ("DROP TABLE rollup_new", []),
    ]
    return statements


def _year_bounds(year: int):
    """The year as aware datetimes in Asia/Shanghai, adapted for a raw query."""
    zone = timezone.get_default_timezone()
    bounds = (
        datetime.datetime(year, 1, 1, tzinfo=zone),
        datetime.datetime(year + 1, 1, 1, tzinfo=zone),
    )
    return [connection.ops.adapt_datetimefield_value(value) for value in bounds]


def _team_sql(part: dict, *, year_id: int, year: int, token: str) -> list[tuple[str, list]]:
    if not (part["paths"] or part["ids"]):
        return []
    t = {
        "summary": _table(TeamYearSummary),
        "team": _table(Team),
        "org": _table(PartyOrganization),
        "membership": _table(TeamMembership),
        "stage": _stage_tables(year, token)[1],
        "activity": _table(Activity),
    }
    condition, params = _organization_condition(part, "o")
    teams = (
        f"SELECT tm.id AS team_id FROM {t['team']} tm "
        f"JOIN {t['org']} o ON o.id = tm.organization_id WHERE {condition}"
    )
    in_teams = "IN (SELECT team_id FROM teams)"
    delete = (
        f"WITH teams AS ({teams}) DELETE FROM {t['summary']} "
        f"WHERE assessment_year_id = %s AND team_id {in_teams}",
        [*params, year_id],
    )
    begins, ends = _year_bounds(year)
    insert = f"""
        WITH teams AS ({teams}),
        mem AS (
            SELECT team_id, COUNT(*) AS n FROM {t["membership"]}
            WHERE team_id {in_teams} AND status = %s GROUP BY team_id
        ),
        act AS (
            SELECT team_id, COUNT(*) AS n FROM {t["activity"]}
            WHERE team_id {in_teams} AND status = %s AND starts_at >= %s AND starts_at < %s
            GROUP BY team_id
        )
        INSERT INTO {t["summary"]} (
            assessment_year_id, team_id, members, approved_minutes, records, activities,
            ratings, average_rating
        )
        SELECT %s, teams.team_id, COALESCE(mem.n, 0), COALESCE(st.minutes, 0),
            COALESCE(st.n, 0), COALESCE(act.n, 0), COALESCE(st.ev_n, 0),
            CASE WHEN st.ev_n > 0 THEN ROUND(st.ev_stars * 1.0 / st.ev_n, 2) END
        FROM teams
        LEFT JOIN mem ON mem.team_id = teams.team_id
        LEFT JOIN {t["stage"]} st ON st.team_id = teams.team_id
        LEFT JOIN act ON act.team_id = teams.team_id
    """
    insert_params = [
        *params,
        TeamMembershipStatus.ACTIVE.value,
        ActivityStatus.PUBLISHED.value,
        begins,
        ends,
        year_id,
    ]
    return [delete, (insert, insert_params)]


# Running ------------------------------------------------------------------------------------


def rollup_begin(
    *, year: int, organization_ids=None, actor=None, now=None, parts=None, from_dashboard=False
) -> tuple[AssessmentYear, list[dict]]:
    """Check the year may be rolled up, mark a new run and return its parts."""
    now = now or timezone.now()
    _check_year(year, today=_today(now))
    with transaction.atomic():
        assessment_year = _locked_year(year)
        if assessment_year.is_closed:
            raise ValidationError(closed_year_message(year), code="year_closed")
        if (
            from_dashboard
            and assessment_year.run_status == RunStatus.RUNNING
            and assessment_year.run_started_at
            and now - assessment_year.run_started_at < STALE_AFTER
        ):
            raise ValidationError(
                _("A roll-up of %(year)s is already running.") % {"year": year},
                code="running",
            )
        chosen = rollup_parts(organization_ids=organization_ids, parts=parts)
        assessment_year.run_status = RunStatus.RUNNING
        assessment_year.run_token = uuid.uuid4().hex
        assessment_year.run_parts_total = len(chosen)
        assessment_year.run_parts_done = 0
        assessment_year.run_started_at = now
        assessment_year.run_finished_at = None
        assessment_year.run_by = actor if actor is not None and actor.is_authenticated else None
        assessment_year.run_message = ""
        assessment_year.save()
        audit_log(
            actor=actor,
            action="assessment_year.rollup",
            target=assessment_year,
            details={"organizations": list(organization_ids or []), "parts": len(chosen)},
        )
    # What killed or overtaken runs of the year left behind (after the year's row is free:
    # a part of such a run may still hold its stage until it finds itself overtaken).
    _drop_stages(year, keep=assessment_year.run_token)
    return assessment_year, chosen


def _current(year: int, token: str) -> AssessmentYear | None:
    return AssessmentYear.objects.filter(
        year=year, run_token=token, status=YearStatus.OPEN, run_status=RunStatus.RUNNING
    ).first()


def rollup_run_part(*, year: int, token: str, part: dict) -> bool:
    """Replace one part's volunteer and team rows; ``True`` when it was the run's last part."""
    assessment_year = _current(year, token)
    if assessment_year is None:
        return False  # a newer run took over, or the year was closed
    _prepare_stage(year=year, token=token)
    figures = {"year_id": assessment_year.pk, "year": year, "token": token}
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Compiling these plans (JIT) costs more than running them; a part's hash
                # tables (its people, their old and new rows) fit in 64 MB.
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
            _execute(cursor, _volunteer_sql(part, **figures))
            _execute(cursor, _team_sql(part, **figures))
        updated = AssessmentYear.objects.filter(pk=assessment_year.pk, run_token=token).update(
            run_parts_done=F("run_parts_done") + 1
        )
        if not updated:
            # A newer run started meanwhile: leave its rows alone.
            transaction.set_rollback(True)
            return False
        done, total = AssessmentYear.objects.filter(pk=assessment_year.pk).values_list(
            "run_parts_done", "run_parts_total"
        )[0]
    return done >= total


def _own_figures(year: int, as_of: datetime.date, year_id: int) -> dict[int, dict]:
    """Each organisation's own figures (not yet its subtree's), in a handful of GROUP BYs."""
    own: dict[int, dict] = defaultdict(lambda: defaultdict(int))

    def add(rows, field_map):
        for row in rows:
            figures = own[row["org"]]
            for field, key in field_map.items():
                figures[field] += row[key] or 0

    add(
        VolunteerYearSummary.objects.filter(assessment_year_id=year_id, organization__isnull=False)
        .values(org=F("organization_id"))
        .annotate(
            members=Count("pk"),
            participating=Count("pk", filter=Q(records__gt=0)),
            minutes=Sum("approved_minutes"),
            records_=Sum("records"),
            on_time=Sum("on_time_records"),
            ratings_=Sum("ratings"),
            stars=Sum("rating_stars_total"),
        ),
        {
            "members": "members",
            "participating_members": "participating",
            "approved_minutes": "minutes",
            "records": "records_",
            "on_time_records": "on_time",
            "ratings": "ratings_",
            "rating_stars_total": "stars",
        },
    )
    # The residence-report rate, as the coverage board counts it (apps.communities.coverage).
    reported = Exists(
        ResidenceReport.objects.filter(
            user=OuterRef("user_id"), status=ResidenceReportStatus.CONFIRMED
        )
    )
    add(
        Membership.objects.active()
        .filter(employment=EmploymentStatus.EMPLOYED, user__is_active=True)
        .annotate(reported=reported)
        .values(org=F("organization_id"))
        .annotate(total=Count("pk"), yes=Count("pk", filter=Q(reported=True))),
        {"in_service_members": "total", "reported_members": "yes"},
    )
    # Pairing coverage, as apps.care.coverage counts it: party-member volunteers with a household.
    volunteer = Exists(
        VolunteerProfile.objects.filter(user=OuterRef("user_id"), status=VolunteerStatus.ACTIVE)
    )
    paired = Exists(RecipientPairing.objects.active().filter(volunteer=OuterRef("user_id")))
    add(
        Membership.objects.active()
        .filter(volunteer, user__is_active=True)
        .annotate(paired=paired)
        .values(org=F("organization_id"))
        .annotate(total=Count("pk"), yes=Count("pk", filter=Q(paired=True))),
        {"party_volunteers": "total", "paired_volunteers": "yes"},
    )
    add(
        CareRecipient.objects.filter(is_active=True)
        .values(org=F("community__organization_id"))
        .annotate(total=Count("pk"), yes=Count("pk", filter=four_facts_known_q(as_of))),
        {"households": "total", "households_known": "yes"},
    )
    begins = datetime.datetime(year, 1, 1, tzinfo=timezone.get_default_timezone())
    ends = datetime.datetime(year + 1, 1, 1, tzinfo=timezone.get_default_timezone())
    add(
        ServiceRequest.objects.filter(created_at__gte=begins, created_at__lt=ends)
        .exclude(status__in=[RequestStatus.DECLINED, RequestStatus.CANCELLED])
        .values(org=F("community__organization_id"))
        .annotate(
            total=Count("pk"),
            yes=Count("pk", filter=Q(status__in=[RequestStatus.DONE, RequestStatus.CLOSED])),
        ),
        {"requests": "total", "requests_completed": "yes"},
    )
    return own


FIGURES = (
    "members",
    "participating_members",
    "approved_minutes",
    "records",
    "on_time_records",
    "in_service_members",
    "reported_members",
    "party_volunteers",
    "paired_volunteers",
    "households",
    "households_known",
    "requests",
    "requests_completed",
    "ratings",
    "rating_stars_total",
)


def _write_organizations(assessment_year: AssessmentYear, *, as_of: datetime.date) -> int:
    own = _own_figures(assessment_year.year, as_of, assessment_year.pk)
    # Sum each organisation's own figures into every organisation on its path: a loop over
    # the organisations (thousands), never over volunteers.
    totals: dict[int, dict] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    organizations = list(PartyOrganization.objects.values_list("pk", "path"))
    for pk, path in organizations:
        totals[pk]  # every node gets a row, even an empty one
        figures = own.get(pk)
        if not figures:
            continue
        for ancestor in path.strip("/").split("/"):
            target = totals[int(ancestor)]
            for field in FIGURES:
                target[field] += figures.get(field, 0)
    known = {pk for pk, _path in organizations}
    wanted = {pk: tuple(figures[field] for field in FIGURES) for pk, figures in totals.items()}
    wanted = {pk: figures for pk, figures in wanted.items() if pk in known}
    # Only the rows that differ are replaced (a rerun over unchanged figures writes nothing).
    current = OrganizationYearSummary.objects.filter(assessment_year=assessment_year)
    stale, unchanged = [], set()
    for pk, organization_id, *figures in current.values_list("pk", "organization_id", *FIGURES):
        if wanted.get(organization_id) == tuple(figures):
            unchanged.add(organization_id)
        else:
            stale.append(pk)
    for start in range(0, len(stale), 1000):
        current.filter(pk__in=stale[start : start + 1000]).delete()
    OrganizationYearSummary.objects.bulk_create(
        [
            OrganizationYearSummary(
                assessment_year=assessment_year,
                organization_id=pk,
                **dict(zip(FIGURES, figures, strict=True)),
            )
            for pk, figures in wanted.items()
            if pk not in unchanged
        ],
        batch_size=1000,
    )
    return len(wanted)


def rollup_finish(*, year: int, token: str, now=None) -> AssessmentYear | None:
    """The organisations' rows and the end of the run (after the last part)."""
    now = now or timezone.now()
    with transaction.atomic():
        assessment_year = AssessmentYear.objects.select_for_update().get(year=year)
        if assessment_year.run_token != token or assessment_year.run_status != RunStatus.RUNNING:
            return None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        as_of = min(_today(now), datetime.date(year, 12, 31))
        organizations = _write_organizations(assessment_year, as_of=as_of)
        volunteers = VolunteerYearSummary.objects.filter(assessment_year=assessment_year).count()
        teams = TeamYearSummary.objects.filter(assessment_year=assessment_year).count()
        assessment_year.run_status = RunStatus.DONE
        assessment_year.run_finished_at = timezone.now()
        assessment_year.run_message = _(
            "Rolled up %(year)s: %(volunteers)d volunteers, %(teams)d teams, "
            "%(organizations)d organisations."
        ) % {
            "year": year,
            "volunteers": volunteers,
            "teams": teams,
            "organizations": organizations,
        }
        assessment_year.save()
    _drop_stages(year, token=token)
    return assessment_year


def rollup_fail(*, year: int, token: str, message: str) -> None:
    AssessmentYear.objects.filter(year=year, run_token=token).update(
        run_status=RunStatus.FAILED, run_finished_at=timezone.now(), run_message=message
    )
    _drop_stages(year, token=token)


def rollup_run_year(
    *, year: int, organization_ids=None, actor=None, now=None, parts: int | None = None
) -> AssessmentYear:
    """Roll up a year here and now, part after part (the command and the benchmark)."""
    assessment_year, chosen = rollup_begin(
        year=year, organization_ids=organization_ids, actor=actor, now=now, parts=parts
    )
    token = assessment_year.run_token
    try:
        for part in chosen:
            rollup_run_part(year=year, token=token, part=part)
        finished = rollup_finish(year=year, token=token, now=now)
    except Exception as error:
        rollup_fail(year=year, token=token, message=str(error)[:500])
        raise
    return finished or AssessmentYear.objects.get(pk=assessment_year.pk)


def rollup_start(*, actor, year: int, now=None) -> AssessmentYear:
    """Start a roll-up on the workers (the dashboard): one task per part, after commit."""
    from .tasks import rollup_part_task

    if not get_user_scope(actor).is_city_admin:
        raise ValidationError(_("Only the city's administrators may run the roll-up."))
    parts = getattr(settings, "AWARDS_ROLLUP_PARTS", None)
    assessment_year, chosen = rollup_begin(
        year=year, actor=actor, now=now, parts=parts, from_dashboard=True
    )

    def enqueue():
        for part in chosen:
            rollup_part_task.delay(year, assessment_year.run_token, part)

    transaction.on_commit(enqueue)
    return assessment_year


@transaction.atomic
def assessment_year_close(*, actor, year: int, now=None) -> AssessmentYear:
    """Freeze a year's results. Only the city's administrators; only once; never mid-run."""
    if not get_user_scope(actor).is_city_admin:
        raise ValidationError(_("Only the city's administrators may close an assessment year."))
    assessment_year = AssessmentYear.objects.select_for_update().filter(year=year).first()
    if assessment_year is None or assessment_year.run_status == RunStatus.IDLE:
        raise ValidationError(
            _("%(year)s has not been rolled up yet: run the roll-up before closing the year.")
            % {"year": year},
            code="not_rolled_up",
        )
    if assessment_year.is_closed:
        raise ValidationError(
            _("The assessment year %(year)s is already closed.") % {"year": year},
            code="already_closed",
        )
    if assessment_year.run_status != RunStatus.DONE:
        raise ValidationError(
            _("The last roll-up of %(year)s did not finish: run it again before closing the year.")
            % {"year": year},
            code="not_finished",
        )
    assessment_year.status = YearStatus.CLOSED
    assessment_year.closed_at = now or timezone.now()
    assessment_year.closed_by = actor
    assessment_year.save(update_fields=["status", "closed_at", "closed_by"])
    audit_log(actor=actor, action="assessment_year.close", target=assessment_year)
    return assessment_year


def assessment_deadline_check(*, year: int, deadline) -> None:
    """A year's deadline falls in that year or the next (reports on 2026 are due by early 2027)."""
    if deadline is None:
        return
    if not datetime.date(year, 1, 1) <= deadline <= datetime.date(year + 1, 12, 31):
        raise ValidationError(
            {
                "submission_deadline": _(
                    "The deadline for %(year)s must fall in %(year)s or %(next)s."
                )
                % {"year": year, "next": year + 1}
            },
            code="deadline_out_of_range",
        )


@transaction.atomic
def assessment_year_set_deadline(*, actor, year: int, deadline) -> AssessmentYear:
    """Set (or clear) the date branches hand in their assessment; city administrators only."""
    if not get_user_scope(actor).is_city_admin:
        raise ValidationError(_("Only the city's administrators may set the assessment deadline."))
    assessment_deadline_check(year=year, deadline=deadline)
    assessment_year, _created = AssessmentYear.objects.select_for_update().get_or_create(year=year)
    if assessment_year.is_closed:
        raise ValidationError(
            _("The assessment year %(year)s is already closed.") % {"year": year},
            code="already_closed",
        )
    assessment_year.submission_deadline = deadline
    assessment_year.save(update_fields=["submission_deadline"])
    audit_log(
        actor=actor,
        action="assessment_year.deadline",
        target=assessment_year,
        details={"deadline": deadline.isoformat() if deadline else None},
    )
    return assessment_year
