"""``python manage.py benchmark_rollup 2025``: the roll-up against a bare ``GROUP BY volunteer``.

Both run on the same records in the same process. The roll-up is timed twice: first as the
year's first roll-up (the year's result rows are cleared before it, so every row is written)
and then as a rerun over the rows just written (which rewrites only what changed). The goal is
a roll-up within twice the bare query's time and under 300 MB at the process's peak
(ru_maxrss). ``--trace-memory`` adds a third, untimed run under tracemalloc for Python's own
peak (tracing slows every allocation, so it never runs during a timed run).
"""

import datetime
import resource
import time
import tracemalloc

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import connection
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
from apps.service_records.models import RecordStatus, ServiceRecord


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
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for model in models:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"VACUUM (ANALYZE) {table}")


class Command(BaseCommand):
    help = "Time the roll-up against a bare SQL GROUP BY over the same records."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--parts", type=int, default=None, help="split into this many parts")
        parser.add_argument("--repeat", type=int, default=3, help="bare query runs (best kept)")
        parser.add_argument(
            "--trace-memory",
            action="store_true",
            help="one more, untimed run under tracemalloc for Python's own peak",
        )

    def timed_rollup(self, year: int, parts) -> tuple[float, AssessmentYear]:
        started = time.perf_counter()
        result = rollup_run_year(year=year, parts=parts)
        return time.perf_counter() - started, result

    def handle(self, *args, year, parts, repeat, trace_memory, **options):
        if AssessmentYear.objects.filter(year=year, status=YearStatus.CLOSED).exists():
            self.stderr.write(closed_year_message(year))
            raise SystemExit(2)
        bare_group_by(year)  # warm the cache for both contenders
        bare = min(bare_group_by(year)[0] for _index in range(max(repeat, 1)))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            clear_results(year)
            first, result = self.timed_rollup(year, parts)
            rerun, result = self.timed_rollup(year, parts)
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
        records = ServiceRecord.objects.approved().in_year(year).count()
        volunteers = VolunteerYearSummary.objects.filter(assessment_year=result).count()
        self.stdout.write(result.run_message)
        self.stdout.write(
            _("Approved records: %(records)d; volunteers: %(volunteers)d; parts: %(parts)d.")
            % {"records": records, "volunteers": volunteers, "parts": result.run_parts_total}
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
        if traced is not None:
            self.stdout.write(
                _("Python's own peak during a roll-up (tracemalloc): %(peak).1f MB.")
                % {"peak": traced / 2**20}
            )
