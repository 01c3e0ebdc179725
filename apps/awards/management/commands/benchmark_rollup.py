"""``python manage.py benchmark_rollup 2025``: the roll-up against a bare ``GROUP BY volunteer``.

Both run on the same records in the same process; the goal is a roll-up within twice the bare
query's time and under 300 MB at its peak (tracemalloc for Python's own allocations, ru_maxrss
for the whole process).
"""

import datetime
import resource
import time
import tracemalloc

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils.translation import gettext as _

from apps.awards.models import VolunteerYearSummary
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


class Command(BaseCommand):
    help = "Time the roll-up against a bare SQL GROUP BY over the same records."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--parts", type=int, default=None, help="split into this many parts")
        parser.add_argument("--repeat", type=int, default=3, help="bare query runs (best kept)")

    def handle(self, *args, year, parts, repeat, **options):
        bare_group_by(year)  # warm the cache for both contenders
        bare = min(bare_group_by(year)[0] for _index in range(max(repeat, 1)))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        try:
            result = rollup_run_year(year=year, parts=parts)
        except ValidationError as error:
            tracemalloc.stop()
            self.stderr.write(" ".join(error.messages))
            raise SystemExit(2) from None
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        records = ServiceRecord.objects.approved().in_year(year).count()
        volunteers = VolunteerYearSummary.objects.filter(assessment_year=result).count()
        self.stdout.write(result.run_message)
        self.stdout.write(
            _("Approved records: %(records)d; volunteers: %(volunteers)d; parts: %(parts)d.")
            % {"records": records, "volunteers": volunteers, "parts": result.run_parts_total}
        )
        self.stdout.write(
            _("Bare GROUP BY: %(bare).2f s; roll-up: %(rollup).2f s; ratio %(ratio).2f (goal ≤ 2).")
            % {"bare": bare, "rollup": seconds, "ratio": seconds / bare if bare else 0}
        )
        self.stdout.write(
            _(
                "Roll-up peak memory: %(peak).1f MB traced by Python; process peak (ru_maxrss) "
                "%(rss).1f MB, %(before).1f MB before the roll-up (goal < 300 MB)."
            )
            % {"peak": peak / 2**20, "rss": rss / 1024, "before": rss_before / 1024}
        )
