"""The yearly roll-up (年度考核汇总): volunteers, teams and organisations, in set-based SQL.

The figures that come from the big tables (records, their ratings, the points ledger) are read
from tallies the database keeps up to date as those tables are written: one row per
volunteer, year and team (``service_records.RecordTally``) and one per volunteer and year
(``points.PointsTally``). So a roll-up costs what a city's people, teams and organisations
cost, whatever the number of records; recounting the tallies is ``manage.py rollup_year YEAR
--recount-tallies``, checking them ``--check-tallies``.

A run is split into *parts*, each a set of top-level subtrees (plus one part for volunteers
without a party membership); run here and now it is one part, on the workers one per subtree.
A part replaces its volunteers' and teams' rows in one transaction: on the year's first run
its rows go straight in; afterwards only the rows whose figures changed are replaced (a rerun
over unchanged figures writes nothing). So a part killed half-way leaves the previous rows
whole, and parts can run on several Celery workers at once. The part that finishes last
writes the organisation rows (every node's own figures grouped in a few queries and summed up
the materialised path, again only the changed rows replaced). Running twice gives identical
rows.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
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
from apps.points.models import PointsTally
from apps.service_records.models import RecordTally
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
#: Parts of a run done here and now (``rollup_run_year``), not on the workers.
LOCAL_PARTS = 1


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
    into at most that many (a single part is ``{"all": True, …}``: everybody). With
    ``organization_ids`` only those subtrees are rolled up.
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
    if parts == 1 and not organization_ids:
        # Every subtree and the citizens: the SQL need not name them.
        return [
            {
                "paths": [path for unit in units for path in unit["paths"]],
                "ids": [pk for unit in units for pk in unit["ids"]],
                "citizens": True,
                "all": True,
            }
        ]
    grouped = [{"paths": [], "ids": [], "citizens": False} for _index in range(max(parts, 1))]
    for index, unit in enumerate(units):
        target = grouped[index % len(grouped)]
        target["paths"] += unit["paths"]
        target["ids"] += unit["ids"]
        target["citizens"] = target["citizens"] or unit["citizens"]
    return grouped


def _organization_condition(part: dict, alias: str) -> tuple[str, list]:
    if part.get("all"):
        return "1 = 1", []
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


def _execute(cursor, statements) -> None:
    """Run statements in order; each one's time is logged at DEBUG (``apps.awards.rollup``)."""
    for sql, params in statements:
        started = time.perf_counter()
        cursor.execute(sql, params)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%.3f s  %s", time.perf_counter() - started, " ".join(sql.split())[:120])


# The SQL of one part ---------------------------------------------------------------------------
#
# The figures that come from the big tables (records, their ratings, the points ledger) are
# read from the tallies the database keeps as those tables are written
# (apps.service_records.tallies, apps.points.tallies): one row per volunteer, year and team,
# and one per volunteer and year. A part never reads a record, an evaluation or a ledger entry.

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


def _new_volunteer_rows(part: dict, *, year: int) -> tuple[str, list] | None:
    """A SELECT of the part's volunteers' rows as they should be (``None``: nobody)."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    t = {
        "membership": _table(Membership),
        "org": _table(PartyOrganization),
        "profile": _table(VolunteerProfile),
        "records": _table(RecordTally),
        "points": _table(PointsTally),
        "pledge": _table(Pledge),
        "training": _table(TrainingRecord),
        "visit": _table(Visit),
        "pairing": _table(RecipientPairing),
    }
    pops: list[tuple[str, list]] = []
    if part.get("all"):
        pops.append(
            (
                f"SELECT m.user_id AS volunteer_id, m.organization_id AS organization_id "
                f"FROM {t['membership']} m WHERE m.ended_on IS NULL",
                [],
            )
        )
    elif part["paths"] or part["ids"]:
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
        return None
    pop_sql = " UNION ALL ".join(sql for sql, _params in pops)
    pop_params = [param for _sql, params in pops for param in params]

    # ``pop`` has one row a volunteer (one active membership each; citizens have none), so
    # the figures join to it rather than filter by it: the planner then knows their size.
    # A part of everybody needs no such join at all.
    def only_pop(column: str) -> str:
        return "" if part.get("all") else f"JOIN pop ON pop.volunteer_id = {column}"

    sql = f"""
        WITH
        pop AS ({pop_sql}),
        rec AS (
            SELECT t.volunteer_id, SUM(t.approved_minutes) AS minutes, SUM(t.records) AS n,
                SUM(t.on_time_records) AS on_time, SUM(t.ratings) AS ev_n,
                SUM(t.rating_stars) AS ev_stars
            FROM {t["records"]} t {only_pop("t.volunteer_id")}
            WHERE t.year = %s
            GROUP BY t.volunteer_id
        ),
        pl AS (
            SELECT x.user_id, COUNT(*) AS n
            FROM {t["pledge"]} x {only_pop("x.user_id")}
            WHERE x.year = %s AND x.status = %s
            GROUP BY x.user_id
        ),
        tr AS (
            SELECT x.user_id, SUM(x.hours) AS hours
            FROM {t["training"]} x {only_pop("x.user_id")}
            WHERE x.held_on BETWEEN %s AND %s
            GROUP BY x.user_id
        ),
        vi AS (
            SELECT pa.volunteer_id, COUNT(*) AS n
            FROM {t["visit"]} v JOIN {t["pairing"]} pa ON pa.id = v.pairing_id
            {only_pop("pa.volunteer_id")}
            WHERE v.visited_on BETWEEN %s AND %s
            GROUP BY pa.volunteer_id
        )
        SELECT pop.volunteer_id, pop.organization_id,
            COALESCE(rec.minutes, 0) AS approved_minutes, COALESCE(rec.n, 0) AS records,
            COALESCE(rec.on_time, 0) AS on_time_records,
            ROUND(COALESCE(pts.points, 0), 2) AS points, COALESCE(rec.ev_n, 0) AS ratings,
            COALESCE(rec.ev_stars, 0) AS rating_stars_total,
            CASE WHEN rec.ev_n > 0 THEN ROUND(rec.ev_stars * 1.0 / rec.ev_n, 2) END
                AS average_rating,
            COALESCE(pl.n, 0) AS pledges_kept, ROUND(COALESCE(tr.hours, 0), 1) AS training_hours,
            COALESCE(vi.n, 0) AS visits,
            CASE WHEN pop.organization_id IS NULL THEN NULL ELSE RANK() OVER (
                PARTITION BY pop.organization_id ORDER BY COALESCE(pts.points, 0) DESC
            ) END AS rank_in_organization
        FROM pop
        LEFT JOIN rec ON rec.volunteer_id = pop.volunteer_id
        LEFT JOIN {t["points"]} pts ON pts.volunteer_id = pop.volunteer_id AND pts.year = %s
        LEFT JOIN pl ON pl.user_id = pop.volunteer_id
        LEFT JOIN tr ON tr.user_id = pop.volunteer_id
        LEFT JOIN vi ON vi.volunteer_id = pop.volunteer_id
    """
    params = [
        *pop_params,
        year,
        year,
        PledgeStatus.CONFIRMED.value,
        start,
        end,
        start,
        end,
        year,
    ]
    return sql, params


def _in_scope(part: dict, alias: str) -> tuple[str, list]:
    """The part's rows as they stand: found along the (year, organisation) index."""
    condition, params = _organization_condition(part, "o")
    org = _table(PartyOrganization)
    sql = f"{alias}.organization_id IN (SELECT o.id FROM {org} o WHERE {condition})"
    if part["citizens"]:
        sql += f" OR {alias}.organization_id IS NULL"
    return sql, params


def _volunteer_sql(
    part: dict, *, year_id: int, year: int, fresh: bool = False
) -> list[tuple[str, list]]:
    """The statements that bring one part's volunteer rows up to date.

    ``fresh``: the part has no rows yet, so its new rows go straight in (a plain INSERT: it
    fails if one of its people has a row elsewhere, and the caller then takes the other way).
    Otherwise they are put in a temporary table and compared with the rows there: only those
    that differ are replaced, so a rerun over unchanged figures writes (and bloats) nothing.
    """
    new = _new_volunteer_rows(part, year=year)
    if new is None:
        return []
    new_sql, new_params = new
    summary = _table(VolunteerYearSummary)
    figures = ", ".join(SUMMARY_FIGURES)
    new_figures = ", ".join(f"n.{column}" for column in SUMMARY_FIGURES)
    # A row left in another part by someone who moved into this one is written over.
    upsert = "ON CONFLICT (assessment_year_id, volunteer_id) DO UPDATE SET " + ", ".join(
        f"{column} = EXCLUDED.{column}" for column in SUMMARY_FIGURES
    )
    if fresh:
        return [
            (
                f"INSERT INTO {summary} (assessment_year_id, volunteer_id, {figures}) "
                f"SELECT %s, n.volunteer_id, {new_figures} FROM ({new_sql}) n",
                [year_id, *new_params],
            )
        ]
    # Null-safe row comparison (SQLite spells IS NOT DISTINCT FROM as IS).
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    old_figures = ", ".join(f"{summary}.{column}" for column in SUMMARY_FIGURES)
    scope, scope_params = _in_scope(part, summary)
    scope_s, _same_params = _in_scope(part, "s")
    return [
        ("DROP TABLE IF EXISTS rollup_new", []),
        (f"CREATE TEMPORARY TABLE rollup_new AS {new_sql}", new_params),
        # The part's rows that are not exactly as they should be (changed figures, people
        # who moved away or whose membership ended) go …
        (
            f"DELETE FROM {summary} WHERE assessment_year_id = %s AND ({scope}) "
            f"AND NOT EXISTS (SELECT 1 FROM rollup_new n "
            f"WHERE n.volunteer_id = {summary}.volunteer_id "
            f"AND ({new_figures}) {same} ({old_figures}))",
            [year_id, *scope_params],
        ),
        # … and the rows missing now come in.
        (
            f"INSERT INTO {summary} (assessment_year_id, volunteer_id, {figures}) "
            f"SELECT %s, n.volunteer_id, {new_figures} FROM rollup_new n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {summary} s "
            f"WHERE s.assessment_year_id = %s AND s.volunteer_id = n.volunteer_id "
            f"AND ({scope_s})) {upsert}",
            [year_id, year_id, *scope_params],
        ),
        ("DROP TABLE rollup_new", []),
    ]


def _part_is_fresh(part: dict, *, year_id: int) -> bool:
    """Whether the part has no volunteer rows of the year yet (its first roll-up)."""
    scope, params = _in_scope(part, "s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {_table(VolunteerYearSummary)} s "
            f"WHERE s.assessment_year_id = %s AND ({scope}) LIMIT 1",
            [year_id, *params],
        )
        return cursor.fetchone() is None


def _year_bounds(year: int):
    """The year as aware datetimes in Asia/Shanghai, adapted for a raw query."""
    zone = timezone.get_default_timezone()
    bounds = (
        datetime.datetime(year, 1, 1, tzinfo=zone),
        datetime.datetime(year + 1, 1, 1, tzinfo=zone),
    )
    return [connection.ops.adapt_datetimefield_value(value) for value in bounds]


def _team_sql(part: dict, *, year_id: int, year: int) -> list[tuple[str, list]]:
    if not (part["paths"] or part["ids"]):
        return []
    t = {
        "summary": _table(TeamYearSummary),
        "team": _table(Team),
        "org": _table(PartyOrganization),
        "membership": _table(TeamMembership),
        "records": _table(RecordTally),
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
        rec AS (
            SELECT team_key AS team_id, SUM(approved_minutes) AS minutes, SUM(records) AS n,
                SUM(ratings) AS ev_n, SUM(rating_stars) AS ev_stars
            FROM {t["records"]} WHERE year = %s AND team_key {in_teams}
            GROUP BY team_key
        ),
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
        SELECT %s, teams.team_id, COALESCE(mem.n, 0), COALESCE(rec.minutes, 0),
            COALESCE(rec.n, 0), COALESCE(act.n, 0), COALESCE(rec.ev_n, 0),
            CASE WHEN rec.ev_n > 0 THEN ROUND(rec.ev_stars * 1.0 / rec.ev_n, 2) END
        FROM teams
        LEFT JOIN rec ON rec.team_id = teams.team_id
        LEFT JOIN mem ON mem.team_id = teams.team_id
        LEFT JOIN act ON act.team_id = teams.team_id
    """
    insert_params = [
        *params,
        year,
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
    figures = {"year_id": assessment_year.pk, "year": year}
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Compiling these plans (JIT) costs more than running them; a part's hash
                # tables (its people, their old and new rows) fit in 64 MB.
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
            written = False
            if _part_is_fresh(part, year_id=assessment_year.pk):
                try:
                    with transaction.atomic():
                        _execute(cursor, _volunteer_sql(part, fresh=True, **figures))
                    written = True
                except IntegrityError:
                    pass  # someone of the part has a row elsewhere (moved in, a parallel run)
            if not written:
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
    # Each organisation's own figures, summed into its parent from the deepest level up: a
    # loop over the organisations (thousands), never over volunteers.
    organizations = sorted(
        (path.count("/"), pk, parent)
        for pk, parent, path in PartyOrganization.objects.values_list("pk", "parent_id", "path")
    )[::-1]
    totals = {
        pk: [own[pk].get(field, 0) for field in FIGURES] if pk in own else [0] * len(FIGURES)
        for _depth, pk, _parent in organizations
    }
    for _depth, pk, parent in organizations:
        if parent in totals:
            totals[parent] = [a + b for a, b in zip(totals[parent], totals[pk], strict=True)]
    wanted = {pk: tuple(figures) for pk, figures in totals.items()}
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
    _insert_rows(
        OrganizationYearSummary,
        ["assessment_year_id", "organization_id", *FIGURES],
        [
            (assessment_year.pk, pk, *figures)
            for pk, figures in wanted.items()
            if pk not in unchanged
        ],
    )
    return len(wanted)


def _insert_rows(model, columns: list[str], rows: list[tuple], *, batch: int = 500) -> None:
    """Plain INSERTs of plain values (a model instance a row costs more than the database's
    work on it): on PostgreSQL one statement over a JSON array of the rows, elsewhere
    multi-row VALUES."""
    if not rows:
        return
    table = _table(model)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} "
                f"FROM json_populate_recordset(NULL::{table}, %s)",
                [json.dumps([dict(zip(columns, row, strict=True)) for row in rows])],
            )
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}",
                [value for row in chunk for value in row],
            )


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
    return assessment_year


def rollup_fail(*, year: int, token: str, message: str) -> None:
    AssessmentYear.objects.filter(year=year, run_token=token).update(
        run_status=RunStatus.FAILED, run_finished_at=timezone.now(), run_message=message
    )


def rollup_run_year(
    *, year: int, organization_ids=None, actor=None, now=None, parts: int | None = None
) -> AssessmentYear:
    """Roll up a year here and now (the command and the benchmark): in one part unless told
    otherwise, since one process runs them all anyway."""
    assessment_year, chosen = rollup_begin(
        year=year,
        organization_ids=organization_ids,
        actor=actor,
        now=now,
        parts=parts or LOCAL_PARTS,
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
