"""Benchmark the assessment export of a branch: 500 members, 10,000 records in a year.

    DATABASE_URL=postgres://… python manage.py benchmark_exports

What it does:

* makes sure there is a branch "BENCH-EXP" with a secretary, a team and ``--members`` member
  volunteers, each with ``--records`` / ``--members`` approved records spread over the year
  (last year by default) and a points entry per record (created in bulk on the first run and
  kept for the next: running it again builds nothing);
* rolls the year up (the export reads the roll-up);
* times the Excel workbook and the PDF report of the branch, as its secretary asks for them,
  best of ``--repeat`` runs each, and prints them against the goals (Excel < 2 s, PDF < 5 s)
  with the peak memory (Python's own allocations and the whole process).
"""

from __future__ import annotations

import datetime
import logging
import resource
import time
import tracemalloc
import zoneinfo
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

ORGANIZATION_CODE = "BENCH-EXP"
SECRETARY = "benchmark_export_secretary"
MEMBER_PREFIX = "bench_exp_"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
GOALS = {"xlsx": 2.0, "pdf": 5.0}


class Command(BaseCommand):
    help = "Time the Excel and PDF assessment export of a 500-member branch on this database."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None, help="default: last year")
        parser.add_argument("--members", type=int, default=500)
        parser.add_argument("--records", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=3, help="runs per format (best kept)")

    def handle(self, *args, **options):
        year = options["year"] or timezone.localdate().year - 1
        # WeasyPrint reports each page it lays out: not what this command is for.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        if options["members"] < 1 or options["records"] < options["members"]:
            raise CommandError(_("--members must be positive and --records at least --members."))
        secretary, branch = self._fixture(year, options["members"], options["records"])
        self._rollup(year)
        self.stdout.write(
            _(
                "Database: %(vendor)s; branch %(code)s: %(members)d members, %(records)d "
                "approved records in %(year)s."
            )
            % {
                "vendor": connection.vendor,
                "code": branch.code,
                "members": options["members"],
                "records": options["records"],
                "year": year,
            }
        )
        failed = False
        for format_name in ("xlsx", "pdf"):
            seconds, size, peak = self._time(secretary, branch, year, format_name, options)
            goal = GOALS[format_name]
            verdict = _("PASS") if seconds < goal else _("FAIL")
            failed |= seconds >= goal
            self.stdout.write(
                _(
                    "%(format)s best of %(repeat)d: %(seconds).2f s (goal < %(goal).0f s) "
                    "%(verdict)s; %(size).0f KB; peak Python memory %(peak).1f MB"
                )
                % {
                    "format": format_name.upper(),
                    "repeat": options["repeat"],
                    "seconds": seconds,
                    "goal": goal,
                    "verdict": verdict,
                    "size": size / 1024,
                    "peak": peak / 2**20,
                }
            )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.stdout.write(_("Peak process memory (ru_maxrss): %(rss).0f MB") % {"rss": rss / 1024})
        if failed:
            raise SystemExit(1)

    # --- data -----------------------------------------------------------------------------

    @transaction.atomic
    def _fixture(self, year: int, members: int, records: int):
        from apps.accounts.models import ServiceCategory, User
        from apps.organizations.models import (
            Membership,
            OrganizationKind,
            OrganizationRole,
            PartyOrganization,
            RoleKind,
        )
        from apps.teams.models import Team

        category = ServiceCategory.objects.filter(is_active=True).order_by("pk").first()
        if category is None:
            raise CommandError("No service category: run the migrations first.")
        branch, _created = PartyOrganization.objects.get_or_create(
            code=ORGANIZATION_CODE,
            defaults={"name": "导出性能基准测试党支部", "kind": OrganizationKind.BRANCH},
        )
        secretary = User.objects.filter(username=SECRETARY).first()
        if secretary is None:
            secretary = User.objects.create_user(
                username=SECRETARY, password=None, real_name="基准书记"
            )
            OrganizationRole.objects.create(
                user=secretary, organization=branch, kind=RoleKind.SECRETARY
            )
        team, _created = Team.objects.get_or_create(organization=branch, name="基准红心志愿服务队")
        have = set(
            User.objects.filter(username__startswith=MEMBER_PREFIX).values_list(
                "username", flat=True
            )
        )
        wanted = [f"{MEMBER_PREFIX}{n:04d}" for n in range(1, members + 1)]
        missing = [name for name in wanted if name not in have]
        if missing:
            password = make_password(None)
            User.objects.bulk_create(
                [
                    User(username=name, password=password, real_name=f"党员{name[-4:]}")
                    for name in missing
                ],
                batch_size=1000,
            )
            ids = User.objects.filter(username__in=missing).values_list("pk", flat=True)
            Membership.objects.bulk_create(
                [Membership(user_id=pk, organization=branch) for pk in ids], batch_size=1000
            )
            self.stdout.write(
                _("Created %(count)d members in %(code)s.")
                % {"count": len(missing), "code": ORGANIZATION_CODE}
            )
        user_ids = list(
            User.objects.filter(username__in=wanted)
            .order_by("username")
            .values_list("pk", flat=True)
        )
        self._records(year, user_ids, records, category, team)
        return secretary, branch

    def _records(self, year, user_ids, count, category, team):
        from apps.points.models import PointsEntry, PointsRule, RuleKind, SourceType
        from apps.service_records.models import RecordSource, RecordStatus, ServiceRecord

        existing = ServiceRecord.objects.filter(
            volunteer_id__in=user_ids, service_date__year=year
        ).count()
        if existing >= count:
            return
        if existing:
            raise CommandError(
                f"{existing} of {count} benchmark records exist for {year}: "
                "use another --year or a fresh database."
            )
        made = []
        for index in range(count):
            volunteer = user_ids[index % len(user_ids)]
            day = datetime.date(year, 1, 1) + datetime.timedelta(days=(index * 7) % 365)
            started = datetime.datetime.combine(day, datetime.time(9), tzinfo=SHANGHAI)
            minutes = 30 + (index % 8) * 15
            made.append(
                ServiceRecord(
                    volunteer_id=volunteer,
                    activity_name="社区助老服务",
                    category=category,
                    started_at=started,
                    ended_at=started + datetime.timedelta(minutes=minutes),
                    service_date=day,
                    duration_minutes=minutes,
                    place="基准社区活动中心",
                    content=f"陪伴老人、打扫卫生（第{index + 1}次）",
                    responsible_person="基准书记",
                    team=team if index % 3 == 0 else None,
                    source=RecordSource.SELF_REPORTED,
                    status=RecordStatus.APPROVED,
                    is_late=index % 10 == 0,
                    late_reason="忘记登记" if index % 10 == 0 else "",
                )
            )
        ServiceRecord.objects.bulk_create(made, batch_size=2000)
        bonus = PointsRule.objects.filter(kind=RuleKind.BONUS).order_by("pk").first()
        if bonus is None:
            bonus = PointsRule(
                kind=RuleKind.BONUS,
                points=Decimal("1"),
                effective_from=datetime.date(2000, 1, 1),
                version=1,
            )
            bonus.full_clean()
            bonus.save()
        records = ServiceRecord.objects.filter(
            volunteer_id__in=user_ids, service_date__year=year
        ).values_list("pk", "volunteer_id", "service_date", "duration_minutes")
        PointsEntry.objects.bulk_create(
            [
                PointsEntry(
                    volunteer_id=volunteer,
                    points=Decimal(minutes) / 60,
                    kind=RuleKind.BONUS,
                    rule=bonus,
                    rule_version=bonus.version,
                    source_type=SourceType.ADJUSTMENT,
                    source_id=pk,
                    reason="基准测试",
                    counted_on=day,
                    posting_key=f"bench-exp-{pk}",
                )
                for pk, volunteer, day, minutes in records
            ],
            batch_size=2000,
        )
        self.stdout.write(
            _("Created %(count)d approved records with points in %(year)s.")
            % {"count": count, "year": year}
        )

    def _rollup(self, year: int) -> None:
        from apps.awards.rollup import rollup_run_year

        started = time.perf_counter()
        rollup_run_year(year=year)
        self.stdout.write(
            _("Roll-up of %(year)s: %(seconds).2f s.")
            % {"year": year, "seconds": time.perf_counter() - started}
        )

    # --- timing ---------------------------------------------------------------------------

    def _time(self, secretary, branch, year, format_name, options):
        """Best of the timed runs, then one more run traced for its peak memory (tracing
        slows Python down, so it is kept out of the timings)."""
        best = None
        for _run in range(max(options["repeat"], 1)):
            started = time.perf_counter()
            content = self._export(secretary, branch, year, format_name)
            seconds = time.perf_counter() - started
            best = seconds if best is None else min(best, seconds)
        tracemalloc.start()
        self._export(secretary, branch, year, format_name)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return best, len(content), peak

    @staticmethod
    def _export(secretary, branch, year, format_name) -> bytes:
        from apps.accounts.models import User
        from apps.awards.exports import AssessmentExporter

        user = User.objects.get(pk=secretary.pk)  # a fresh user: its scope is read again
        exporter = AssessmentExporter.for_job(
            user=user, params={"year": year, "organization": branch.pk}
        )
        return exporter.render(format_name)[2]
