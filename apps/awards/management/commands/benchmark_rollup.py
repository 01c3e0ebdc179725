"""``python manage.py benchmark_rollup 2025``: the roll-up against a bare ``GROUP BY volunteer``.

Both run on the same records in the same process. The roll-up reads the tallies the database
keeps as records, ratings and ledger entries are written, so before anything is timed the
tallies are checked against a recount of the records and the ledger (a benchmark over wrong
tallies would prove nothing). The roll-up is timed twice: as the year's first roll-up (the
year's result rows are cleared before it, so every row is written) and as a rerun over the rows
just written (which rewrites only what changed); like the bare query, each is run ``--repeat``
times and the best time kept. Then, for honesty, a full recount of the year's tallies is timed
(and rolled back): the work the tallies spread over the writes. The goal is a roll-up within
twice the bare query's time and under 300 MB at the process's peak (ru_maxrss).
``--trace-memory`` adds an untimed run under tracemalloc for Python's own peak;
``--write-cost`` times inserting records and ratings with the tally triggers and without them
(PostgreSQL; rolled back).
"""

import datetime
import resource
import time
import tracemalloc

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils.translation import gettext as _

from apps.awards.models import (
    AssessmentYear,
    OrganizationYearSummary,
    TeamYearSummary,
    VolunteerYearSummary,
    YearStatus,
    closed_year_message,
)
from apps.awards.rollup import rollup_run_year
from apps.awards.tallies import tallies_check, tallies_recount
from apps.points.models import PointsTally
from apps.service_records.models import Evaluation, RecordStatus, RecordTally, ServiceRecord


def bare_group_by(year: int) -> tuple[float, int]:
    table = connection.ops.quote_name(ServiceRecord._meta.db_table)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT volunteer_id, SUM(duration_minutes), COUNT(*) FROM {table} "
            f"WHERE status = %s AND service_date BETWEEN %s AND %s GROUP BY volunteer_id",
            [RecordStatus.APPROVED.value, datetime.date(year, 1, 1), datetime.date(year, 12, 31)],
        )
        rows = len(cursor.fetchall())
    return time.perf_counter() - started, rows


def clear_results(year: int) -> None:
    """Remove an open year's result rows, so the next roll-up writes every row afresh.

    On PostgreSQL the tables are vacuumed too (outside a transaction): a year that was never
    rolled up has no dead row versions for the new rows' unique checks to step over.
    """
    models = (VolunteerYearSummary, TeamYearSummary, OrganizationYearSummary)
    for model in models:
        model.objects.filter(assessment_year__year=year).delete()
    vacuum(*models, RecordTally, PointsTally)


def vacuum(*models) -> None:
    """VACUUM (ANALYZE) on PostgreSQL, outside a transaction (what autovacuum would do)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for model in models:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"VACUUM (ANALYZE) {table}")


def timed_recount(year: int) -> float:
    """A full recount of the year's tallies, timed and rolled back."""
    started = time.perf_counter()
    with transaction.atomic():
        tallies_recount(year=year)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    vacuum(RecordTally, PointsTally)
    return seconds


def time_writes(year: int, rows: int) -> dict:
    """Seconds to insert ``rows`` approved records of the year (copies of existing ones) and
    ``rows`` ratings, with the tally triggers and without them (PostgreSQL; rolled back)."""
    record = connection.ops.quote_name(ServiceRecord._meta.db_table)
    evaluation = connection.ops.quote_name(Evaluation._meta.db_table)
    kept = {"ratings_count", "rating_stars_total"}
    copied = [
        field.column
        for field in ServiceRecord._meta.concrete_fields
        if not field.primary_key
        and field.column not in {"evaluation_token", "signup_id"}
        and field.name not in kept
    ]
    columns = ", ".join(connection.ops.quote_name(column) for column in copied)
    bounds = [datetime.date(year, 1, 1), datetime.date(year, 12, 31)]
    statements = {
        "records": (
            record,
            f"INSERT INTO {record} ({columns}, evaluation_token) "
            f"SELECT {columns}, md5(random()::text || id) FROM {record} "
            f"WHERE status = %s AND service_date BETWEEN %s AND %s LIMIT %s",
            [RecordStatus.APPROVED.value, *bounds, rows],
        ),
        "ratings": (
            evaluation,
            f"INSERT INTO {evaluation} (record_id, rater_kind, stars, comment, created_at) "
            f"SELECT r.id, 'community_staff', 4, '', now() FROM {record} r "
            f"WHERE r.status = %s AND r.service_date BETWEEN %s AND %s AND NOT EXISTS "
            f"(SELECT 1 FROM {evaluation} e WHERE e.record_id = r.id "
            f"AND e.rater_kind = 'community_staff') LIMIT %s",
            [RecordStatus.APPROVED.value, *bounds, rows],
        ),
    }
    seconds = {}
    for what, (table, sql, params) in statements.items():
        for triggers in (None, True, False):  # None: an untimed run to warm the caches
            with transaction.atomic(), connection.cursor() as cursor:
                if triggers is False:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                started = time.perf_counter()
                cursor.execute(sql, params)
                seconds[what, triggers] = (time.perf_counter() - started, cursor.rowcount)
                transaction.set_rollback(True)
    return seconds


class Command(BaseCommand):
    help = "Time the roll-up against a bare SQL GROUP BY over the same records."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--parts", type=int, default=None, help="split into this many parts")
        parser.add_argument(
            "--repeat", type=int, default=3, help="runs of each contender (the best is kept)"
        )
        parser.add_argument(
            "--trace-memory",
            action="store_true",
            help="one more, untimed run under tracemalloc for Python's own peak",
        )
        parser.add_argument(
            "--write-cost",
            type=int,
            nargs="?",
            const=10_000,
            default=0,
            metavar="ROWS",
            help="time inserting ROWS records and ratings with and without the tally triggers "
            "(PostgreSQL; rolled back; 10,000 if no number is given)",
        )

    def timed_rollup(self, year: int, parts) -> tuple[float, AssessmentYear]:
        started = time.perf_counter()
        result = rollup_run_year(year=year, parts=parts)
        return time.perf_counter() - started, result

    def handle(self, *args, year, parts, repeat, trace_memory, write_cost, **options):
        if AssessmentYear.objects.filter(year=year, status=YearStatus.CLOSED).exists():
            self.stderr.write(closed_year_message(year))
            raise SystemExit(2)
        if write_cost and connection.vendor != "postgresql":
            self.stderr.write(_("--write-cost needs PostgreSQL."))
            raise SystemExit(2)
        try:
            started = time.perf_counter()
            found = tallies_check(year=year)
            checked = time.perf_counter() - started
        except ValidationError as error:
            self.stderr.write(" ".join(error.messages))
            raise SystemExit(2) from None
        if not found.ok:
            self.stderr.write(
                _(
                    "The tallies of %(year)s differ from a recount: %(records)d service "
                    "tallies, %(points)d points tallies. Rebuild them with --recount-tallies."
                )
                % {"year": year, "records": found.records, "points": found.points}
            )
            raise SystemExit(2)
        bare_group_by(year)  # warm the cache for both contenders
        bare = min(bare_group_by(year)[0] for _index in range(max(repeat, 1)))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            # Best of ``repeat`` for the roll-ups too: on a shared machine one slow moment
            # should not decide, for either contender.
            firsts, reruns = [], []
            for _index in range(max(repeat, 1)):
                clear_results(year)
                seconds, result = self.timed_rollup(year, parts)
                firsts.append(seconds)
                seconds, result = self.timed_rollup(year, parts)
                reruns.append(seconds)
            first, rerun = min(firsts), min(reruns)
            traced = None
            if trace_memory:
                tracemalloc.start()
                rollup_run_year(year=year, parts=parts)
                traced = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
        except ValidationError as error:
            tracemalloc.stop()
            self.stderr.write(" ".join(error.messages))
            raise SystemExit(2) from None
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        recount = timed_recount(year)
        records = ServiceRecord.objects.approved().in_year(year).count()
        volunteers = VolunteerYearSummary.objects.filter(assessment_year=result).count()
        self.stdout.write(result.run_message)
        self.stdout.write(
            _("Approved records: %(records)d; volunteers: %(volunteers)d; parts: %(parts)d.")
            % {"records": records, "volunteers": volunteers, "parts": result.run_parts_total}
        )
        self.stdout.write(
            _(
                "Before timing, the tallies the roll-up reads were checked equal to a recount "
                "of the records, their ratings and the ledger (%(seconds).2f s)."
            )
            % {"seconds": checked}
        )
        self.stdout.write(
            _("Each time below is the best of %(repeat)d runs.") % {"repeat": max(repeat, 1)}
        )
        for label, seconds in (
            (_("First roll-up of the year (every row written)"), first),
            (_("Rerun (only changed rows rewritten)"), rerun),
        ):
            self.stdout.write(label)
            self.stdout.write(
                "  "
                + _(
                    "Bare GROUP BY: %(bare).2f s; roll-up: %(rollup).2f s; ratio %(ratio).2f "
                    "(goal ≤ 2)."
                )
                % {"bare": bare, "rollup": seconds, "ratio": seconds / bare if bare else 0}
            )
        self.stdout.write(
            _(
                "Process peak memory (ru_maxrss): %(rss).1f MB, %(before).1f MB before the "
                "roll-ups (goal < 300 MB)."
            )
            % {"rss": rss / 1024, "before": rss_before / 1024}
        )
        self.stdout.write(
            _(
                "A full recount of the year's tallies from the records, their ratings and the "
                "ledger takes %(recount).2f s (%(ratio).2f × the bare query): the roll-up no "
                "longer pays it, every write pays its share."
            )
            % {"recount": recount, "ratio": recount / bare if bare else 0}
        )
        if write_cost:
            costs = time_writes(year, write_cost)
            lines = {
                "records": _(
                    "Inserting %(rows)d approved records in one statement: %(with).2f s with "
                    "the tally triggers, %(without).2f s without."
                ),
                "ratings": _(
                    "Inserting %(rows)d ratings in one statement: %(with).2f s with the tally "
                    "triggers, %(without).2f s without."
                ),
            }
            for what, line in lines.items():
                (with_triggers, rows), (without, _rows) = costs[what, True], costs[what, False]
                self.stdout.write(line % {"rows": rows, "with": with_triggers, "without": without})
        if traced is not None:
            self.stdout.write(
                _("Python's own peak during a roll-up (tracemalloc): %(peak).1f MB.")
                % {"peak": traced / 2**20}
            )
