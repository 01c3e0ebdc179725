"""Benchmark the service-record import: a 10,000-row Excel file, checked and written.

    DATABASE_URL=postgres://… python manage.py benchmark_import --rows 10000

What it does:

* makes sure there is a branch "BENCH-IMP" with a secretary (the importer) and
  ``--volunteers`` member volunteers with profiles (created in bulk on the first run and kept
  for the next; ``--clean`` removes them);
* writes an .xlsx file in the import template's shape: ``--rows`` one-hour records spread over
  the volunteers and the last working days (some with the hours left empty, all with a
  late-entry reason so the clock never decides the outcome);
* runs the import as the task would (``import_job_run``), timing reading the file, checking
  the rows and the write transaction; the imported records and the job are deleted
  afterwards unless ``--keep``;
* PASS when the whole import takes less than ``--goal`` seconds (default 15).
"""

from __future__ import annotations

import datetime
import io
import os
import time

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from openpyxl import Workbook

ORGANIZATION_CODE = "BENCH-IMP"
IMPORTER = "benchmark_importer"
VOLUNTEER_PREFIX = "bench_imp_"


class Command(BaseCommand):
    help = "Time a 10,000-row service-record import (checking and writing) on this database."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--volunteers", type=int, default=2_000)
        parser.add_argument("--goal", type=float, default=15.0, help="seconds for the import")
        parser.add_argument("--keep", action="store_true", help="keep the imported records")
        parser.add_argument("--clean", action="store_true", help="remove the benchmark's data")

    def handle(self, *args, **options):
        if options["clean"]:
            self._clean()
            return
        if options["rows"] < 1 or options["volunteers"] < 1:
            raise CommandError("--rows and --volunteers must be positive.")
        importer, numbers = self._fixture(options["volunteers"])
        content = self._workbook(numbers, options["rows"])
        self.stdout.write(
            f"Database: {connection.vendor}; file: {options['rows']} rows, "
            f"{len(content) / 1024:.0f} KB, {len(numbers)} volunteers."
        )
        self._run(importer, content, options)

    # --- data -----------------------------------------------------------------------------

    @transaction.atomic
    def _fixture(self, count: int):
        from apps.accounts.models import ServiceCategory, User, VolunteerProfile, VolunteerStatus
        from apps.organizations.models import (
            Membership,
            OrganizationKind,
            OrganizationRole,
            PartyOrganization,
            RoleKind,
        )

        if not ServiceCategory.objects.filter(is_active=True).exists():
            raise CommandError("No service category: run the migrations first.")
        organization, _created = PartyOrganization.objects.get_or_create(
            code=ORGANIZATION_CODE,
            defaults={"name": "导入性能基准测试党支部", "kind": OrganizationKind.BRANCH},
        )
        importer = User.objects.filter(username=IMPORTER).first()
        if importer is None:
            importer = User.objects.create_user(
                username=IMPORTER, password=None, real_name="基准导入人"
            )
            OrganizationRole.objects.create(
                user=importer, organization=organization, kind=RoleKind.SECRETARY
            )
        have = set(
            VolunteerProfile.objects.filter(
                user__username__startswith=VOLUNTEER_PREFIX
            ).values_list("volunteer_number", flat=True)
        )
        wanted = [f"V9{n:08d}" for n in range(1, count + 1)]
        missing = [number for number in wanted if number not in have]
        if missing:
            now = timezone.now()
            password = make_password(None)
            users = User.objects.bulk_create(
                [
                    User(
                        username=f"{VOLUNTEER_PREFIX}{number}",
                        password=password,
                        real_name=f"基准志愿者{number[-5:]}",
                    )
                    for number in missing
                ],
                batch_size=1000,
            )
            if any(user.pk is None for user in users):
                ids = dict(
                    User.objects.filter(username__startswith=VOLUNTEER_PREFIX).values_list(
                        "username", "pk"
                    )
                )
                for user in users:
                    user.pk = ids[user.username]
            VolunteerProfile.objects.bulk_create(
                [
                    VolunteerProfile(
                        user_id=user.pk,
                        volunteer_number=number,
                        status=VolunteerStatus.ACTIVE,
                        birth_date=datetime.date(1980, 1, 1),
                        residence_area="东湖区",
                        consent_at=now,
                    )
                    for user, number in zip(users, missing, strict=True)
                ],
                batch_size=1000,
            )
            Membership.objects.bulk_create(
                [Membership(user_id=user.pk, organization=organization) for user in users],
                batch_size=1000,
            )
            self.stdout.write(f"Created {len(missing)} volunteers in {ORGANIZATION_CODE}.")
        return importer, wanted

    def _workbook(self, numbers: list[str], rows: int) -> bytes:
        from apps.accounts.models import ServiceCategory
        from apps.service_records.imports import RECORD_COLUMNS

        category = ServiceCategory.objects.filter(is_active=True).first().name
        today = timezone.localdate()
        # working days before today, so every record lies in the past
        days = []
        day = today - datetime.timedelta(days=1)
        while len(days) < 8:
            if day.weekday() < 5:
                days.append(day)
            day -= datetime.timedelta(days=1)
        # A normal workbook records its size (the dimension), as Excel does.
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "服务记录"
        sheet.append([column.header for column in RECORD_COLUMNS])
        for n in range(rows):
            number = numbers[n % len(numbers)]
            slot = n // len(numbers)
            if slot >= len(days) * 4:
                raise CommandError("Too many rows per volunteer: raise --volunteers.")
            service_day = days[slot % len(days)]
            hour = 8 + 2 * (slot // len(days))
            start = datetime.datetime.combine(service_day, datetime.time(hour))
            sheet.append(
                [
                    number,
                    f"社区敬老服务 {n + 1}",
                    category,
                    start,
                    start + datetime.timedelta(hours=1),
                    1 if n % 3 else None,
                    "桂园社区活动室",
                    f"为社区老人提供第 {n + 1} 次上门服务",
                    None,
                    "基准队长",
                    "纸质签到表后补",
                ]
            )
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    # --- the run ----------------------------------------------------------------------------

    def _run(self, importer, content: bytes, options):
        from apps.service_records import imports
        from apps.service_records.models import ImportJob, ImportKind, ImportStatus, ServiceRecord

        timings, cpu_timings = {}, {}
        kind = ImportKind.SERVICE_RECORDS
        validate, write = imports.VALIDATORS[kind], imports.WRITERS[kind]

        def timed(name, function):
            def wrapper(**kwargs):
                started, cpu = time.perf_counter(), time.process_time()
                try:
                    return function(**kwargs)
                finally:
                    timings[name] = time.perf_counter() - started
                    cpu_timings[name] = time.process_time() - cpu

            return wrapper

        upload = SimpleUploadedFile("benchmark.xlsx", content)
        started = time.perf_counter()
        total_rows = imports.check_upload(upload, kind=kind)
        timings["upload check"] = time.perf_counter() - started
        upload.seek(0)
        job = ImportJob.objects.create(
            kind=kind, file=upload, original_name="benchmark.xlsx", total_rows=total_rows,
            created_by=importer,
        )  # fmt: skip
        imports.VALIDATORS[kind] = timed("validation", validate)
        imports.WRITERS[kind] = timed("write", write)
        queries = []

        def timed_query(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - started, sql[:60]))

        try:
            started, cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(timed_query):
                job = imports.import_job_run(job_id=job.pk)
            timings["total (as the task runs it)"] = time.perf_counter() - started
            cpu_timings["total"] = time.process_time() - cpu
        finally:
            imports.VALIDATORS[kind], imports.WRITERS[kind] = validate, write

        reading = timings["total (as the task runs it)"] - timings["validation"]
        reading -= timings.get("write", 0)
        self.stdout.write(f"  upload check (read + count):   {timings['upload check']:6.2f} s")
        self.stdout.write(f"  job: reading the file:         {reading:6.2f} s")
        self.stdout.write(f"  job: validation:               {timings['validation']:6.2f} s")
        self.stdout.write(f"  job: write transaction:        {timings.get('write', 0):6.2f} s")
        total = timings["total (as the task runs it)"]
        self.stdout.write(f"  job: total:                    {total:6.2f} s")
        self.stdout.write(
            f"  CPU of this process: validation {cpu_timings['validation']:.2f} s, write "
            f"{cpu_timings.get('write', 0):.2f} s, total {cpu_timings['total']:.2f} s "
            f"(load average {os.getloadavg()[0]:.1f}; database time is not included)"
        )
        slowest = sorted(queries, reverse=True)[:3]
        self.stdout.write(
            f"  database: {len(queries)} queries, {sum(q[0] for q in queries):.2f} s; slowest: "
            + "; ".join(f"{seconds:.2f} s {sql}" for seconds, sql in slowest)
        )
        self.stdout.write(f"  status: {job.status}, imported {job.imported_rows} rows")
        if job.status != ImportStatus.DONE:
            for error in job.errors[:10]:
                self.stdout.write(f"    row {error['row']} {error['column']}: {error['message']}")
        passed = job.status == ImportStatus.DONE and total < options["goal"]
        verdict = "PASS" if passed else "FAIL"
        self.stdout.write(f"{verdict}: goal < {options['goal']:.0f} s for the import")
        if not options["keep"]:
            ServiceRecord.objects.filter(
                volunteer__username__startswith=VOLUNTEER_PREFIX, submitted_by=importer
            ).delete()
            job.file.delete(save=False)
            job.delete()
        if not passed:
            raise CommandError("benchmark failed")

    def _clean(self):
        from apps.accounts.models import User, VolunteerProfile
        from apps.organizations.models import Membership, OrganizationRole, PartyOrganization
        from apps.service_records.models import ImportJob, ServiceRecord

        with transaction.atomic():
            users = User.objects.filter(username__startswith=VOLUNTEER_PREFIX)
            importer = User.objects.filter(username=IMPORTER)
            ServiceRecord.objects.filter(volunteer__in=users).delete()
            ImportJob.objects.filter(created_by__in=importer).delete()
            VolunteerProfile.objects.filter(user__in=users).delete()
            Membership.objects.filter(user__in=users).delete()
            OrganizationRole.objects.filter(user__in=importer).delete()
            deleted = users.delete()[0] + importer.delete()[0]
            PartyOrganization.objects.filter(code=ORGANIZATION_CODE).delete()
        self.stdout.write(f"Removed the benchmark's data ({deleted} rows of people).")
