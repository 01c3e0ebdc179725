"""The city-scale data set (``seed_demo --scale city``): a whole city's year, for benchmarks.

100,000 party-member volunteers in 5,000 organisations (city → districts → streets → branches),
1,000 teams of ten, 2,000,000 service records of one year with their points entries and a
rating for one record in ten. Everything is generated inside PostgreSQL with
``INSERT … SELECT … FROM generate_series`` (no rows travel through Python), so the set is
built in minutes. ID numbers are left empty for these people (no encryption per row).

The tallies the roll-up reads are counted once at the end, set-based, rather than by their
triggers row batch by row batch: the triggers are off while the year is generated (the
records carry their ratings columns from the start) and back on before it commits.
"""

from __future__ import annotations

import datetime
import time

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import ServiceCategory, User
from apps.organizations.models import Membership, OrganizationKind, PartyOrganization
from apps.points.models import PointsEntry, PointsRule, PointsTally, RuleKind
from apps.points.tallies import TRIGGER as POINTS_TRIGGER
from apps.points.tallies import points_tally_recount
from apps.service_records.models import Evaluation, RecordTally, ServiceRecord
from apps.service_records.tallies import record_tally_recount
from apps.teams.models import Team, TeamMembership

ROOT_CODE = "CITY-ROOT"
DISTRICTS = 12
#: branches per street, roughly
BRANCHES_PER_STREET = 20
TEAM_SIZE = 10


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _next_id(cursor, model) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_t(model)}")
    return cursor.fetchone()[0]


def _reset_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {_t(model)}))",
        [table],
    )


def _tally_triggers(cursor, *, enable: bool) -> None:
    """Switch the tally triggers off for the bulk inserts (and on again), in the transaction."""
    action = "ENABLE" if enable else "DISABLE"
    tables = {
        "record_tally_insert": ServiceRecord,
        "record_tally_update": ServiceRecord,
        "record_tally_delete": ServiceRecord,
        "record_ratings_insert": Evaluation,
        "record_ratings_update": Evaluation,
        "record_ratings_delete": Evaluation,
        POINTS_TRIGGER: PointsEntry,
    }
    for name, model in tables.items():
        cursor.execute(f"ALTER TABLE {_t(model)} {action} TRIGGER {name}")


def seed_city(
    *,
    volunteers: int = 100_000,
    organizations: int = 5_000,
    teams: int = 1_000,
    records: int = 2_000_000,
    year: int | None = None,
    stdout=None,
) -> dict:
    """Build the city set once (a second call finds it and does nothing). PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise RuntimeError(_("The city-scale data set needs PostgreSQL (set DATABASE_URL)."))
    if PartyOrganization.objects.filter(code=ROOT_CODE).exists():
        return {"skipped": True}
    year = year or timezone.localdate().year - 1
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def step(name, sql, params=()):
        began = time.perf_counter()
        cursor.execute(sql, list(params))
        timings[name] = round(time.perf_counter() - began, 1)
        if stdout is not None:
            stdout.write(f"  {name}: {timings[name]} s")

    districts = min(DISTRICTS, max(organizations - 2, 1))
    streets = max((organizations - 1 - districts) // (BRANCHES_PER_STREET + 1), 1)
    branches = max(organizations - 1 - districts - streets, 1)
    with transaction.atomic(), connection.cursor() as cursor:
        _tally_triggers(cursor, enable=False)
        root = PartyOrganization(
            name="江城市委（城市规模）", code=ROOT_CODE, kind=OrganizationKind.CITY_COMMITTEE
        )
        root.save()
        org = _t(PartyOrganization)
        base = _next_id(cursor, PartyOrganization)
        d0, s0, b0 = base, base + districts, base + districts + streets
        columns = (
            "id, name, short_name, code, kind, parent_id, path, depth, contact_phone, address, "
            "is_active, created_at, updated_at"
        )
        step(
            "districts",
            f"INSERT INTO {org} ({columns}) SELECT %s + g, '第' || g || '区委', '', "
            f"'CITY-D' || g, %s, %s, %s || (%s + g) || '/', 2, '', '', true, now(), now() "
            f"FROM generate_series(0, %s - 1) g",
            [d0, OrganizationKind.PARTY_COMMITTEE.value, root.pk, root.path, d0, districts],
        )
        step(
            "streets",
            f"INSERT INTO {org} ({columns}) SELECT %s + g, '第' || g || '街道党工委', '', "
            f"'CITY-S' || g, %s, p.id, p.path || (%s + g) || '/', 3, '', '', true, now(), now() "
            f"FROM generate_series(0, %s - 1) g JOIN {org} p ON p.id = %s + g %% %s",
            [s0, OrganizationKind.WORKING_COMMITTEE.value, s0, streets, d0, districts],
        )
        step(
            "branches",
            f"INSERT INTO {org} ({columns}) SELECT %s + g, '第' || g || '社区党支部', '', "
            f"'CITY-B' || g, %s, p.id, p.path || (%s + g) || '/', 4, '', '', true, now(), now() "
            f"FROM generate_series(0, %s - 1) g JOIN {org} p ON p.id = %s + g %% %s",
            [b0, OrganizationKind.BRANCH.value, b0, branches, s0, streets],
        )
        _reset_sequence(cursor, PartyOrganization)

        u0 = _next_id(cursor, User)
        step(
            "users",
            f"INSERT INTO {_t(User)} (id, password, is_superuser, username, "
            f"email, is_staff, is_active, date_joined, real_name, phone, id_number, "
            f"id_number_hash, gender, ethnicity, political_status, language) "
            f"SELECT %s + g, %s, false, 'cv' || lpad(g::text, 7, '0'), '', false, "
            f"true, now(), '志愿者' || g, NULL, '', NULL, "
            f"CASE WHEN g %% 2 = 0 THEN 'female' ELSE 'male' END, '01', 'party_member', '' "
            f"FROM generate_series(0, %s - 1) g",
            [u0, make_password("city-scale-demo"), volunteers],
        )
        _reset_sequence(cursor, User)
        step(
            "memberships",
            f"INSERT INTO {_t(Membership)} (category, employment, started_on, end_reason, "
            f"user_id, organization_id) SELECT 'full', "
            f"CASE WHEN g %% 10 < 7 THEN 'employed' ELSE 'retired' END, DATE '2020-01-01', '', "
            f"%s + g, %s + g %% %s FROM generate_series(0, %s - 1) g",
            [u0, b0, branches, volunteers],
        )
        t0 = _next_id(cursor, Team)
        step(
            "teams",
            f"INSERT INTO {_t(Team)} (id, name, kind, brand_name, description, founded_on, "
            f"contact_phone, is_active, created_at, organization_id) "
            f"SELECT %s + g, '第' || g || '志愿服务队', 'general', '', '', DATE '2020-01-01', '', "
            f"true, now(), %s + (g * 7) %% %s FROM generate_series(0, %s - 1) g",
            [t0, b0, branches, teams],
        )
        _reset_sequence(cursor, Team)
        team_members = min(teams * TEAM_SIZE, volunteers)
        step(
            "team memberships",
            f"INSERT INTO {_t(TeamMembership)} (role, status, message, created_at, "
            f"decline_reason, team_id, user_id, joined_on) "
            f"SELECT CASE WHEN g < %s THEN 'leader' ELSE 'member' END, 'active', '', now(), '', "
            f"%s + g %% %s, %s + g, DATE '2020-01-01' FROM generate_series(0, %s - 1) g",
            [teams, t0, teams, u0, team_members],
        )
        categories = list(ServiceCategory.objects.order_by("pk").values_list("pk", flat=True))
        if not categories:
            categories = [ServiceCategory.objects.create(code="general", name="综合").pk]
        last_day = min(timezone.localdate(), datetime.date(year, 12, 31))
        days = (last_day - datetime.date(year, 1, 1)).days + 1
        r0 = _next_id(cursor, ServiceRecord)
        # A volunteer, a day and a length spread over the year by multiplicative hashing.
        step(
            "service records",
            f"INSERT INTO {_t(ServiceRecord)} (id, volunteer_id, activity_name, category_id, "
            f"started_at, ended_at, service_date, duration_minutes, place, content, "
            f"responsible_person, source, status, within_working_hours, is_late, late_reason, "
            f"flags, content_fingerprint, review_note, evaluation_token, created_at, updated_at, "
            f"team_id, ratings_count, rating_stars_total) "
            f"SELECT %s + g, %s + (g::bigint * 7919) %% %s, '社区志愿服务', "
            f"(%s::bigint[])[1 + g %% %s], "
            f"(d + TIME '09:00') AT TIME ZONE 'Asia/Shanghai', "
            f"(d + TIME '09:00') AT TIME ZONE 'Asia/Shanghai' + m * INTERVAL '1 minute', "
            f"d, m, '社区', '志愿服务', '负责人', 'self_reported', "
            f"CASE g %% 20 WHEN 0 THEN 'submitted' WHEN 1 THEN 'rejected' ELSE 'approved' END, "
            f"true, g %% 25 = 3, CASE WHEN g %% 25 = 3 THEN '补录' ELSE '' END, '[]'::jsonb, '', "
            f"'', md5('city-' || g), now(), now(), "
            f"CASE WHEN g %% 10 < 3 THEN %s + g %% %s END, "
            # The rating the evaluations below give (one approved record in ten).
            f"CASE WHEN g %% 20 > 1 AND (%s + g) %% 10 = 0 THEN 1 ELSE 0 END, "
            f"CASE WHEN g %% 20 > 1 AND (%s + g) %% 10 = 0 THEN 3 + (%s + g) %% 3 ELSE 0 END "
            f"FROM generate_series(0, %s - 1) g, "
            f"LATERAL (SELECT DATE %s + ((g::bigint * 104729) %% %s)::int AS d, "
            f"30 + (g %% 8) * 15 AS m) x",
            [
                r0,
                u0,
                volunteers,
                categories,
                len(categories),
                t0,
                teams,
                r0,
                r0,
                r0,
                records,
                datetime.date(year, 1, 1).isoformat(),
                days,
            ],
        )
        _reset_sequence(cursor, ServiceRecord)
        rule = (
            PointsRule.objects.current().series(kind=RuleKind.HOUR).order_by("-version").first()
        ) or PointsRule.objects.create(
            kind=RuleKind.HOUR, points=1, effective_from=datetime.date(year, 1, 1)
        )
        step(
            "points entries",
            f"INSERT INTO {_t(PointsEntry)} (volunteer_id, points, kind, rule_id, rule_version, "
            f"source_type, source_id, reason, counted_on, posting_key, created_at) "
            f"SELECT volunteer_id, ROUND(duration_minutes / 60.0 * %s, 2), 'hour', %s, %s, "
            f"'record', id, '服务时长', service_date, 'city:record:' || id, now() "
            f"FROM {_t(ServiceRecord)} WHERE id >= %s AND status = 'approved'",
            [rule.points, rule.pk, rule.version, r0],
        )
        step(
            "evaluations",
            f"INSERT INTO {_t(Evaluation)} (rater_kind, stars, comment, created_at, record_id) "
            f"SELECT 'resident', 3 + id %% 3, '', now(), id FROM {_t(ServiceRecord)} "
            f"WHERE id >= %s AND status = 'approved' AND id %% 10 = 0",
            [r0],
        )
        began = time.perf_counter()
        record_tally_recount(year=year)
        points_tally_recount(year=year)
        timings["tallies"] = round(time.perf_counter() - began, 1)
        if stdout is not None:
            stdout.write(f"  tallies: {timings['tallies']} s")
        # The deferred foreign-key checks now: a table with checks pending cannot be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _tally_triggers(cursor, enable=True)
    # Set the hint bits and the planner's statistics now, not during the first benchmark.
    with connection.cursor() as cursor:
        for model in (
            ServiceRecord,
            PointsEntry,
            Evaluation,
            User,
            Membership,
            Team,
            TeamMembership,
            PartyOrganization,
            RecordTally,
            PointsTally,
        ):
            cursor.execute(f"VACUUM (ANALYZE) {_t(model)}")
    return {
        "organizations": 1 + districts + streets + branches,
        "volunteers": volunteers,
        "teams": teams,
        "records": records,
        "year": year,
        "seconds": round(time.perf_counter() - started, 1),
        "timings": timings,
    }


def seed_city_command(*, fraction: float, stdout, stderr) -> None:
    """``seed_demo --scale city [--fraction F]``: build the set and say how long it took."""
    if not 0 < fraction <= 1:
        stderr.write(_("The fraction must be more than 0 and at most 1."))
        raise SystemExit(2)
    try:
        created = seed_city(
            volunteers=max(int(100_000 * fraction), 10),
            organizations=max(int(5_000 * fraction), 20),
            teams=max(int(1_000 * fraction), 1),
            records=max(int(2_000_000 * fraction), 10),
            stdout=stdout,
        )
    except RuntimeError as error:
        stderr.write(str(error))
        raise SystemExit(2) from None
    if created.get("skipped"):
        stdout.write(_("The city-scale data set is already there; nothing was added."))
        return
    stdout.write(
        _(
            "City scale for %(year)s: %(organizations)d organisations, %(volunteers)d "
            "volunteers, %(teams)d teams, %(records)d service records with their points, in "
            "%(seconds).1f seconds."
        )
        % created
    )
