"""Time the daily reminder run over a city's worth of volunteers, in the configured database.

    DATABASE_URL=postgres://… python manage.py benchmark_reminders [--volunteers 100000]

Creates (in bulk) a district with ``--teams`` branches, one team each, and the volunteers as
members; each volunteer has a confirmed place on an activity starting tomorrow, half of them
attended yesterday's activity without a record, one in ten attended one whose recording
deadline is near, one in five has a record waiting for review, one in a hundred asks for a
certificate, and a campaign day is three days away. Then it runs every reminder once
(``reminders.run_daily``) and prints the time, the queries and the peak memory, measures
``notifications_create`` per 1000 rows, and removes everything it made (and only that).
"""

from __future__ import annotations

import datetime
import resource
import time
import tracemalloc
import uuid

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from apps.accounts.models import ServiceCategory, User
from apps.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Campaign,
    CampaignKind,
    Signup,
    SignupStatus,
)
from apps.notifications import reminders
from apps.notifications.models import Notification, NotificationKind
from apps.notifications.services import notifications_create
from apps.organizations.models import (
    Membership,
    OrganizationKind,
    OrganizationRole,
    PartyOrganization,
    RoleKind,
)
from apps.service_records.models import (
    Certificate,
    CertificateStatus,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.teams.models import Team, TeamMembership, TeamMembershipStatus, TeamRole

BATCH = 5000
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


class QueryCounter:
    """Counts statements without keeping them (memory stays flat, unlike the debug log)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _batched(iterable, size=BATCH):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Command(BaseCommand):
    help = "Time the daily reminder run for many volunteers (creates and removes its data)."

    def add_arguments(self, parser):
        parser.add_argument("--volunteers", type=int, default=100_000)
        parser.add_argument("--teams", type=int, default=100)

    def handle(self, *args, volunteers: int, teams: int, **options):
        tag = f"bnr{uuid.uuid4().hex[:8]}"
        now = timezone.now()
        self.stdout.write(f"database: {connection.vendor}; preparing {volunteers} volunteers …")
        started = time.perf_counter()
        # the city's administrators reach the benchmark's records too: what the run sends
        # them is removed afterwards (run it on a database of its own all the same)
        self.first_new = (
            Notification.objects.order_by("-pk").values_list("pk", flat=True)[:1] or [0]
        )[0]
        try:
            made = self._prepare(tag, now, volunteers, max(1, teams))
            self.stdout.write(f"prepared in {time.perf_counter() - started:.1f} s")
            # DEBUG keeps every statement in connection.queries: not part of the run's memory
            with override_settings(DEBUG=False):
                self._run(now, "daily run")
                self._run(now, "same run again (nothing new)")
            self._measure_create(made["user_ids"][:1000], tag)
        finally:
            cleaning = time.perf_counter()
            self._clean(tag)
            self.stdout.write(f"cleaned up in {time.perf_counter() - cleaning:.1f} s")

    # --- the run ----------------------------------------------------------------------

    def _run(self, now, label):
        counter = QueryCounter()
        tracemalloc.start()
        began = time.perf_counter()
        with connection.execute_wrapper(counter):
            created = reminders.run_daily(now=now)
        seconds = time.perf_counter() - began
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for name, count in created.items():
            self.stdout.write(f"  {name:<24} {count:>8} notifications")
        self.stdout.write(
            f"{label}: {seconds:.1f} s, {counter.count} queries, "
            f"{sum(created.values())} notifications, "
            f"peak Python memory {peak / 2**20:.1f} MiB (tracemalloc), "
            f"max RSS of the process {rss:.0f} MiB"
        )

    def _measure_create(self, user_ids, tag):
        items = [(user_id, f"{tag}:measure", "t", "", "") for user_id in user_ids]
        with CaptureQueriesContext(connection) as queries:
            created = notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items)
        with CaptureQueriesContext(connection) as again:
            notifications_create(kind=NotificationKind.VISIT_OVERDUE, items=items)
        self.stdout.write(
            f"notifications_create: {len(queries)} queries for {created} new rows, "
            f"{len(again)} for the same {len(items)} again (per 1000 rows)"
        )

    # --- the data ---------------------------------------------------------------------

    @transaction.atomic
    def _prepare(self, tag, now, volunteers, teams):
        category = ServiceCategory.objects.order_by("pk").first()
        if category is None:
            category = ServiceCategory.objects.create(code=tag, name="助老")
        district = PartyOrganization(
            name=f"{tag} 基准区委", code=f"{tag}-D", kind=OrganizationKind.PARTY_COMMITTEE
        )
        district.save()
        branches = []
        for i in range(teams):
            branch = PartyOrganization(
                name=f"{tag} 支部{i}",
                code=f"{tag}-B{i}",
                kind=OrganizationKind.BRANCH,
                parent=district,
            )
            branch.save()
            branches.append(branch)
        team_rows = Team.objects.bulk_create(
            Team(organization=branch, name=f"{tag} 服务队{i}") for i, branch in enumerate(branches)
        )
        team_rows = list(Team.objects.filter(name__startswith=tag).order_by("pk"))

        for batch in _batched(range(volunteers)):
            User.objects.bulk_create(
                (User(username=f"{tag}-{i}", real_name=f"志愿者{i}", password="!") for i in batch),
                batch_size=BATCH,
            )
        user_ids = list(
            User.objects.filter(username__startswith=f"{tag}-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )

        def team_of(index):
            return team_rows[index % len(team_rows)]

        Membership.objects.bulk_create(
            (
                Membership(user_id=user_id, organization_id=team_of(i).organization_id)
                for i, user_id in enumerate(user_ids)
            ),
            batch_size=BATCH,
        )
        # the first volunteer of each team leads it; the second is its branch's secretary
        TeamMembership.objects.bulk_create(
            TeamMembership(
                team=team,
                user_id=user_ids[i],
                role=TeamRole.LEADER,
                status=TeamMembershipStatus.ACTIVE,
            )
            for i, team in enumerate(team_rows)
            if i < len(user_ids)
        )
        OrganizationRole.objects.bulk_create(
            OrganizationRole(
                user_id=user_ids[len(team_rows) + i],
                organization_id=team.organization_id,
                kind=RoleKind.SECRETARY,
            )
            for i, team in enumerate(team_rows)
            if len(team_rows) + i < len(user_ids)
        )

        window = reminders.deadline_near_days(timezone.localdate(now))
        near_day = min(window) if window else timezone.localdate(now) - 12 * DAY
        near_start = timezone.make_aware(datetime.datetime.combine(near_day, datetime.time(9)))
        activities = {}
        for name, starts_at in (
            ("tomorrow", now + 30 * HOUR),
            ("yesterday", now - DAY - 3 * HOUR),
            ("near", near_start),
        ):
            Activity.objects.bulk_create(
                Activity(
                    title=f"{tag} {name}",
                    category=category,
                    organization_id=team.organization_id,
                    team=team,
                    starts_at=starts_at,
                    ends_at=starts_at + 2 * HOUR,
                    place="基准活动中心",
                    capacity=volunteers,
                    description="基准",
                    status=ActivityStatus.PUBLISHED,
                )
                for team in team_rows
            )
            activities[name] = dict(
                Activity.objects.filter(title=f"{tag} {name}").values_list("team_id", "pk")
            )
            activities[f"{name}_start"] = starts_at

        def signups():
            for i, user_id in enumerate(user_ids):
                team = team_of(i)
                yield Signup(
                    activity_id=activities["tomorrow"][team.pk],
                    volunteer_id=user_id,
                    status=SignupStatus.CONFIRMED,
                )
                for name, every in (("yesterday", 2), ("near", 10)):
                    if (i // len(team_rows)) % every == 0:
                        start = activities[f"{name}_start"]
                        yield Signup(
                            activity_id=activities[name][team.pk],
                            volunteer_id=user_id,
                            status=SignupStatus.CONFIRMED,
                            attendance=Attendance.ATTENDED,
                            checked_in_at=start,
                            checked_out_at=start + 2 * HOUR,
                        )

        for batch in _batched(signups()):
            Signup.objects.bulk_create(batch, batch_size=BATCH)

        def records():
            start = now - 2 * DAY
            for i, user_id in enumerate(user_ids):
                if (i // len(team_rows)) % 5 == 0:  # one in five, in every team
                    team = team_of(i)
                    yield ServiceRecord(
                        volunteer_id=user_id,
                        activity_name=f"{tag} 服务",
                        category=category,
                        started_at=start,
                        ended_at=start + 2 * HOUR,
                        service_date=timezone.localtime(start).date(),
                        duration_minutes=120,
                        place="基准",
                        content="基准服务内容",
                        responsible_person="基准",
                        team=team,
                        organization_id=team.organization_id,
                        source=RecordSource.SELF_REPORTED,
                        status=RecordStatus.SUBMITTED,
                    )

        for batch in _batched(records()):
            ServiceRecord.objects.bulk_create(batch, batch_size=BATCH)
        Certificate.objects.bulk_create(
            (
                Certificate(
                    volunteer_id=user_id,
                    issuer_id=team_of(i).organization_id,
                    period_start=timezone.localdate(now) - 365 * DAY,
                    period_end=timezone.localdate(now),
                    purpose=tag,
                    status=CertificateStatus.REQUESTED,
                )
                for i, user_id in enumerate(user_ids)
                if (i // len(team_rows)) % 100 == 1  # one in a hundred, in every team
            ),
            batch_size=BATCH,
        )
        Campaign.objects.create(
            kind=CampaignKind.OTHER,
            name=f"{tag} 主题活动日",
            date=timezone.localdate(now) + 3 * DAY,
            organization=district,
            title="基准",
            category=category,
            start_time=datetime.time(9),
            end_time=datetime.time(11),
        )
        return {"user_ids": user_ids}

    def _clean(self, tag):
        users = User.objects.filter(username__startswith=f"{tag}-")
        organizations = PartyOrganization.objects.filter(code__startswith=f"{tag}-")
        Notification.objects.filter(user__in=users).delete()
        others, _by_kind = Notification.objects.filter(pk__gt=self.first_new).delete()
        if others:
            self.stdout.write(f"removed {others} notifications the run sent to other reviewers")
        Certificate.objects.filter(purpose=tag).delete()
        ServiceRecord.objects.filter(activity_name=f"{tag} 服务").delete()
        Signup.objects.filter(activity__title__startswith=f"{tag} ").delete()
        Activity.objects.filter(title__startswith=f"{tag} ").delete()
        Campaign.objects.filter(name__startswith=f"{tag} ").delete()
        TeamMembership.objects.filter(team__name__startswith=f"{tag} ").delete()
        Team.objects.filter(name__startswith=f"{tag} ").delete()
        OrganizationRole.objects.filter(organization__in=organizations).delete()
        Membership.objects.filter(organization__in=organizations).delete()
        users.delete()
        for organization in organizations.order_by("-depth"):
            organization.delete()
        ServiceCategory.objects.filter(code=tag).delete()
