"""Benchmark "my records" and record submit against a trivial view, served by gunicorn.

    DATABASE_URL=postgres://… DEBUG=0 SECRET_KEY=… ALLOWED_HOSTS=127.0.0.1,localhost \\
        python manage.py benchmark_portal --duration 20 --clients 16

What it does:

* makes sure there is one volunteer per client, each with 500 records over the twelve months
  up to a month ago, all in one team (creates them if missing, and removes them at the end
  only if it created them): real people submit their own records, so the submits of
  different clients do not queue behind one volunteer's row lock; and they log recent
  service after a history, so the submits take the free days since, newest first;
* with a broker (``REDIS_URL``, tasks not eager) also starts one Celery worker, so the checks
  against formalism that a submit queues are run on the same machine during the measurement;
* starts gunicorn on a free local port as the deployment guide runs it (``docs/deployment.md``:
  sync workers behind nginx, with the project's ``gunicorn.conf.py``, so as many workers as it
  gives: two per core, or ``WEB_CONCURRENCY``), against the configured database, with a settings
  module generated in a temporary directory that only swaps ``ROOT_URLCONF`` for this module:
  its URLconf is the project's plus ``/__bench__/trivial``, a view that answers "ok" through
  the same middleware (session, sign-in, CSRF, locale). So the project's URLs stay untouched
  and the baseline pays the same per-request costs as the pages;
* signs in by writing a session row per client and sending its cookie; gets a CSRF token
  from the record form the way a browser does;
* runs ``--clients`` threads (standard library ``http.client``) for ``--duration`` seconds
  per scenario, in ``--rounds`` turns (trivial, my records, submit, trivial, …: a machine
  whose speed drifts during the run, as a shared one does, weighs on every scenario alike),
  and prints requests/s, p50 and p95. Each request comes on a connection of its
  own, as nginx's ``proxy_pass`` sends them to gunicorn in the guide's configuration (no
  upstream keep-alive): gunicorn's workers then take requests from one queue, in turn. With
  ``--keep-alive`` each client keeps one connection instead, which a gunicorn worker serves
  to the end, so a worker that happened to accept more connections than another makes its
  clients wait longer (use it with ``--worker-class gthread``, since sync workers close every
  connection after one request); every submit uses
  a new one-minute slot on a day the volunteer has no records, so the recording rules accept
  it (late entries carry a reason), and describes it in words of its own, so the checks
  against formalism find in it what they find in most honest records: nothing (the same
  description on every record would have them flag each one);
* a submit is the POST alone: its answer is a redirect to the new record's page (any other
  answer, a redirect to sign in included, counts as an error), which the client does not
  follow (that page is a page of its own, not the submit; it says the record was just made
  from its address, ``?recorded=1``, so the submit leaves no one-time message in a cookie);
* PASS when each page reaches half the trivial view's throughput and its p95 is under 100 ms;
* also prints the CPU each scenario costs per request, by who spends it: gunicorn's workers,
  the database (when it runs on this machine), the Celery worker and these clients. They all
  share the machine's cores, so a page's share of the trivial view's throughput is about the
  ratio of their totals, and the table shows where a page's extra cost lies (Linux only);
  and how the machine's cores spent each scenario: busy, idle, or taken by the host it runs on
  (a virtual machine's "steal"), which is what most often sets one run apart from another.

Requests carry ``X-Forwarded-Proto: https`` (and a matching ``Origin`` for the POSTs), as a
TLS-terminating proxy in front of gunicorn would send, so a production configuration
(``SECURE_SSL_REDIRECT``, secure cookies) is measured as deployed.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import http.client
import itertools
import os
import re
import runpy
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

VOLUNTEER_USERNAME = "benchmark_volunteer"
ORGANIZATION_CODE = "BENCH-ORG"
TEAM_NAME = "性能基准测试志愿服务队"
SEED_RECORDS = 500
RECENT_DAYS_FREE = 30  # no seeded records in the last month: the submits go there
SUBMIT_NAME = "性能基准测试提交"
SUBMIT_CONTENT = "性能基准测试自动提交的服务记录"
#: The digits of a submit's serial, written as words: the content fingerprint drops numerals.
SERIAL_DIGITS = "甲乙丙丁戊己庚辛壬癸"
SLOTS_PER_DAY = 600  # one-minute records two minutes apart: 10 hours a day, under the cap
TRIVIAL_PATH = "/__bench__/trivial"
GOAL_SHARE = 0.5
GOAL_P95_MS = 100.0


# The URLconf gunicorn serves: the project's, plus the trivial view. -----------------------------


def trivial(request):
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def __getattr__(name):
    # Built on first use so that importing the command does not load every URL module.
    if name == "urlpatterns":
        from django.urls import include, path

        project = settings.BENCHMARK_PROJECT_URLCONF
        return [path(TRIVIAL_PATH.lstrip("/"), trivial), path("", include(project))]
    raise AttributeError(name)


# Data ----------------------------------------------------------------------------------------


@dataclass
class Fixture:
    volunteers: list
    team: object
    created: list = field(default_factory=list)  # what to delete at the end, in order


def _local(day: datetime.date, minutes: int) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time())
    ) + datetime.timedelta(minutes=minutes)


def _username(n: int) -> str:
    return VOLUNTEER_USERNAME if n == 0 else f"{VOLUNTEER_USERNAME}_{n + 1}"


@transaction.atomic
def ensure_fixture(stdout, *, volunteers: int = 1) -> Fixture:
    from apps.accounts.models import User
    from apps.organizations.models import OrganizationKind, PartyOrganization
    from apps.teams.models import Team

    created = []
    organization = PartyOrganization.objects.filter(code=ORGANIZATION_CODE).first()
    if organization is None:
        organization = PartyOrganization.objects.create(
            name="性能基准测试党支部", code=ORGANIZATION_CODE, kind=OrganizationKind.BRANCH
        )
        created.append(organization)
    team = Team.objects.filter(organization=organization, name=TEAM_NAME).first()
    if team is None:
        team = Team.objects.create(organization=organization, name=TEAM_NAME)
        created.append(team)
    people = []
    for n in range(volunteers):
        volunteer = User.objects.filter(username=_username(n)).first()
        if volunteer is None:
            volunteer = User.objects.create_user(
                username=_username(n), password=None, real_name=f"基准志愿者{n + 1}"
            )
            created.append(volunteer)
        people.append(volunteer)
        _ensure_member(team, volunteer, created)
        _ensure_records(volunteer, team, created, stdout)
    return Fixture(volunteers=people, team=team, created=created)


def _ensure_member(team, volunteer, created: list) -> None:
    from apps.teams.models import TeamMembership, TeamMembershipStatus

    membership = TeamMembership.objects.filter(
        team=team, user=volunteer, status=TeamMembershipStatus.ACTIVE
    ).first()
    if membership is None:
        membership = TeamMembership.objects.create(
            team=team, user=volunteer, status=TeamMembershipStatus.ACTIVE
        )
        created.append(membership)


def _ensure_records(volunteer, team, created: list, stdout) -> None:
    from apps.accounts.models import ServiceCategory
    from apps.service_records.models import RecordSource, RecordStatus, ServiceRecord

    existing = ServiceRecord.objects.filter(volunteer=volunteer).exclude(activity_name=SUBMIT_NAME)
    if existing.exists():
        return
    category = ServiceCategory.objects.filter(is_active=True).first()
    if category is None:
        raise CommandError("No service category: run the migrations first.")
    # A year of history up to a month ago; the submits take the days since (``free_days``),
    # as people log recent service after all they did before. (The recording rules' reads
    # then meet the whole history, as they do in use.)
    last = timezone.localdate() - datetime.timedelta(days=RECENT_DAYS_FREE)
    first = last - datetime.timedelta(days=365)
    days = (last - first).days
    statuses = [RecordStatus.APPROVED] * 7 + [RecordStatus.SUBMITTED] * 2
    statuses += [RecordStatus.REJECTED]
    rows = []
    for n in range(SEED_RECORDS):
        day = first + datetime.timedelta(days=n % days)
        start = _local(day, (8 + 2 * (n // days)) * 60)
        rows.append(
            ServiceRecord(
                volunteer=volunteer,
                activity_name=f"社区敬老服务 {n + 1}",
                category=category,
                started_at=start,
                ended_at=start + datetime.timedelta(hours=2),
                service_date=day,
                duration_minutes=110,
                place="桂园社区活动室",
                content=f"为社区老人提供第 {n + 1} 次上门服务",
                organization=team.organization,
                responsible_person="基准队长",
                team=team,
                source=RecordSource.SELF_REPORTED,
                status=statuses[n % len(statuses)],
            )
        )
    ServiceRecord.objects.bulk_create(rows, batch_size=500)
    created.append(("records", volunteer.pk))
    stdout.write(f"Created {SEED_RECORDS} records for {volunteer.username}.")


def remove_fixture(fixture: Fixture) -> None:
    from apps.service_records.models import ServiceRecord

    with transaction.atomic():
        for item in reversed(fixture.created):
            if isinstance(item, tuple):
                ServiceRecord.objects.filter(volunteer_id=item[1]).delete()
            else:
                type(item).objects.filter(pk=item.pk).delete()


def free_days(volunteers: list, *, count: int) -> list[datetime.date]:
    """Past days on which none of the volunteers has a record at all, newest first."""
    from apps.service_records.models import ServiceRecord

    taken = set(
        ServiceRecord.objects.filter(volunteer__in=volunteers).values_list(
            "service_date", flat=True
        )
    )
    day = timezone.localdate() - datetime.timedelta(days=1)
    days = []
    while len(days) < count:
        if day not in taken:
            days.append(day)
        day -= datetime.timedelta(days=1)
    return days


def _model_backend() -> str:
    """The first configured backend that signs users in from the database (not axes)."""
    from django.contrib.auth.backends import ModelBackend
    from django.utils.module_loading import import_string

    for path in settings.AUTHENTICATION_BACKENDS:
        if issubclass(import_string(path), ModelBackend):
            return path
    raise CommandError("No database authentication backend is configured.")


def make_session(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = _model_backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(3600)
    session.create()
    return session.session_key


@functools.cache
def _record_page() -> re.Pattern:
    prefix, _key, suffix = reverse("portal:record-detail", args=[0]).rpartition("0")
    return re.compile(
        rf"(https?://[^/]+)?{re.escape(prefix)}[1-9][0-9]*{re.escape(suffix)}(\?[^#]*)?"
    )


def submitted(status: int, location: str) -> bool:
    """Whether a submit's answer is the redirect to the new record's page (a redirect to sign
    in, say, is not)."""
    return status == 302 and _record_page().fullmatch(location) is not None


def submit_content(day: datetime.date, minute: int) -> str:
    """A description of its own for the submit at ``minute`` past midnight on ``day``, as
    honest records have: the same text on thousands of records is what the checks against
    formalism flag (``same_content``), and every record flagged is one the sweep writes again."""

    def serial(number: int) -> str:
        return "".join(SERIAL_DIGITS[int(digit)] for digit in str(number))

    return f"{SUBMIT_CONTENT}：第{serial(day.toordinal())}日第{serial(minute)}分"


def submit_body(fixed: str, day: datetime.date, minute: int) -> str:
    """A submit's form data: ``fixed`` (the encoded fields every submit sends alike), a
    one-minute span from ``minute`` past midnight on ``day`` and a description of its own."""
    end = minute + 1
    return (
        f"{fixed}&service_date={day.isoformat()}"
        f"&start_time={minute // 60:02d}%3A{minute % 60:02d}"
        f"&end_time={end // 60:02d}%3A{end % 60:02d}"
        f"&content={quote(submit_content(day, minute))}"
    )


# The clients ------------------------------------------------------------------------------------


class Client:
    """One phone with its own session: a connection per request, as a proxy in front of
    gunicorn makes them, or one kept-alive connection (``keep_alive``)."""

    def __init__(self, port: int, session_key: str, *, keep_alive: bool = False):
        self.port = port
        self.keep_alive = keep_alive
        self.cookies = {settings.SESSION_COOKIE_NAME: session_key}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.origin = f"https://127.0.0.1:{port}"
        self.location = ""  # the last answer's Location header

    def _headers(self, extra=None) -> dict:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Accept-Language": "zh-hans",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if not self.keep_alive:
            headers["Connection"] = "close"
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        extra = None
        if body is not None:
            extra = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.origin,
                "Referer": self.origin + path,
            }
        try:
            self.connection.request(method, path, body=body, headers=self._headers(extra))
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed a kept-alive connection: open a new one once.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=self._headers(extra))
            response = self.connection.getresponse()
        content = response.read()
        self.location = response.getheader("Location", "")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if not self.keep_alive:
            self.connection.close()  # the next request opens a new one
        return response.status, content

    def close(self):
        self.connection.close()


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    first_error: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # seconds per group (``CpuMeter``)
    machine: dict[str, float] = field(default_factory=dict)  # seconds by state (``machine_cpu``)

    @classmethod
    def combined(cls, parts: list[Result]) -> Result:
        """One scenario's rounds as one result."""
        cpu: dict[str, float] = {}
        machine: dict[str, float] = {}
        for part in parts:
            for group, seconds in part.cpu.items():
                cpu[group] = cpu.get(group, 0.0) + seconds
            for state, seconds in part.machine.items():
                machine[state] = machine.get(state, 0.0) + seconds
        return cls(
            parts[0].name,
            sum(p.requests for p in parts),
            sum(p.errors for p in parts),
            sum(p.seconds for p in parts),
            list(itertools.chain.from_iterable(p.latencies for p in parts)),
            next((p.first_error for p in parts if p.first_error), ""),
            cpu,
            machine,
        )

    def cpu_per_request(self) -> dict[str, float]:
        """Milliseconds of CPU per request, by group."""
        if not self.requests:
            return {}
        return {group: seconds * 1000 / self.requests for group, seconds in self.cpu.items()}

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


def run_scenario(
    name, clients, make_request, *, seconds: float, warmup: float, meter: CpuMeter | None = None
) -> Result:
    """Every client loops ``make_request(client)`` until the time is up; warm-up not counted.
    With a ``meter``, the CPU its groups spent while counting goes in the result."""
    latencies: list[list[float]] = [[] for _ in clients]
    errors = [0] * len(clients)
    first_error = [""]
    start_barrier = threading.Barrier(len(clients) + 1)
    bounds = {}

    def loop(index, client):
        start_barrier.wait()
        while time.perf_counter() < bounds["end"]:
            began = time.perf_counter()
            ok, detail = make_request(client)
            finished = time.perf_counter()
            if began < bounds["measure_from"]:
                continue
            if ok:
                latencies[index].append(finished - began)
            else:
                errors[index] += 1
                if not first_error[0]:
                    first_error[0] = detail
            if finished > bounds["end"]:
                break

    threads = [
        threading.Thread(target=loop, args=(i, c), daemon=True) for i, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    bounds["measure_from"] = now + warmup
    bounds["end"] = now + warmup + seconds
    start_barrier.wait()
    cpu, machine = {}, {}
    if meter is not None:
        time.sleep(max(0.0, bounds["measure_from"] - time.perf_counter()))
        before, machine_before = meter.read(), machine_cpu()
        time.sleep(max(0.0, bounds["end"] - time.perf_counter()))
        cpu, machine = meter.spent_since(before), machine_cpu_since(machine_before)
    for thread in threads:
        thread.join()
    flat = list(itertools.chain.from_iterable(latencies))
    return Result(name, len(flat), sum(errors), seconds, flat, first_error[0], cpu, machine)


# Where the CPU goes ------------------------------------------------------------------------------


def process_cpu(pid: int) -> tuple[int, float] | None:
    """A process's group and the CPU seconds it has used (Linux's ``/proc``), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks


def machine_cpu(path: str = "/proc/stat") -> dict[str, float]:
    """The seconds all the machine's cores have spent busy, idle (waiting for the disk
    included) and taken by the host it runs on ("steal": time a virtual machine's core was
    ready to run but the hypervisor ran something else), since it booted (Linux's
    ``/proc/stat``); empty elsewhere."""
    try:
        with open(path) as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return {}
    # user nice system idle iowait irq softirq steal [guest guest_nice: inside user already]
    ticks += [0] * (8 - len(ticks))
    per_second = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = ticks[:8]
    return {
        "busy": (user + nice + system + irq + softirq) / per_second,
        "idle": (idle + iowait) / per_second,
        "steal": steal / per_second,
    }


def machine_cpu_since(before: dict[str, float], path: str = "/proc/stat") -> dict[str, float]:
    now = machine_cpu(path)
    return {state: now[state] - before[state] for state in now if state in before}


class CpuMeter:
    """The CPU that the processes of the run use, by group: gunicorn's workers ("web"), the
    database's server processes when it runs on this machine ("database"), the Celery worker
    ("tasks") and the clients of this command ("load"). They share the machine's cores, so a
    request's throughput follows what they spend on it together; the groups show who spends
    it. Linux only (elsewhere it reads nothing)."""

    def __init__(self, *, web: int | None, tasks: int | None, database=lambda: ()):
        self.groups = {"web": web, "tasks": tasks}  # process group ids
        self.database = database  # () -> the database server's process ids

    def read(self) -> dict[int, tuple[str, float]]:
        found: dict[int, tuple[str, float]] = {}
        by_group = {pgid: name for name, pgid in self.groups.items() if pgid}
        with contextlib.suppress(OSError):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                read = process_cpu(int(entry))
                if read is not None and read[0] in by_group:
                    found[int(entry)] = (by_group[read[0]], read[1])
        for pid in self.database():
            read = process_cpu(pid)
            if read is not None:
                found[pid] = ("database", read[1])
        own = process_cpu(os.getpid())
        if own is not None:
            found[os.getpid()] = ("load", own[1])
        return found

    def spent_since(self, before: dict[int, tuple[str, float]]) -> dict[str, float]:
        """CPU seconds by group since ``before`` (a process started meanwhile counts whole)."""
        spent: dict[str, float] = {}
        for pid, (group, seconds) in self.read().items():
            earlier = before.get(pid)
            used = seconds - earlier[1] if earlier and earlier[0] == group else seconds
            spent[group] = spent.get(group, 0.0) + max(0.0, used)
        return spent


# The command ----------------------------------------------------------------------------------


def _serving(options) -> str:
    """How gunicorn serves and the clients connect, for the report."""
    workers = f"{options['workers']} {options['worker_class']} workers"
    if options["worker_class"] == "gthread":
        workers += f" × {options['threads']} threads"
    connections = "kept-alive connections" if options["keep_alive"] else "a connection per request"
    return f"{workers}, {connections}"


CPU_GROUPS = ("web", "database", "tasks", "load")


def cpu_table(results: list[Result]) -> list[str]:
    """CPU milliseconds per request by group, and each scenario's total against the first's
    (the trivial view): the cores are shared, so throughput follows the totals. Nothing when
    nothing was measured (not Linux)."""
    per_request = [result.cpu_per_request() for result in results]
    if not any(per_request):
        return []
    lines = [
        "CPU per request (ms; web = gunicorn, tasks = Celery worker, load = these clients)",
        f"{'scenario':<34}"
        + "".join(f"{group:>9}" for group in CPU_GROUPS)
        + f"{'total':>9}{'× first':>9}",
    ]
    first = sum(per_request[0].values())
    for result, spent in zip(results, per_request, strict=True):
        total = sum(spent.values())
        times = f"{total / first:>8.2f}×" if first else f"{'':>9}"
        lines.append(
            f"{result.name:<34}"
            + "".join(f"{spent.get(group, 0.0):>9.2f}" for group in CPU_GROUPS)
            + f"{total:>9.2f}{times}"
        )
    return lines


def machine_line(results: list[Result]) -> str:
    """How the machine's cores spent each scenario's time: busy, idle, or taken by the host
    (steal). Runs on a shared virtual machine differ most by the last: the same code served
    at a different speed because the host ran other machines on the same cores. Nothing when
    nothing was measured (not Linux)."""
    parts = []
    for result in results:
        total = sum(result.machine.values())
        if total > 0:
            busy, idle, steal = (
                result.machine.get(k, 0.0) / total for k in ("busy", "idle", "steal")
            )
            parts.append(f"{result.name} {busy:.0%} / {idle:.0%} / {steal:.0%}")
    if not parts:
        return ""
    return f"The machine's cores, busy / idle / taken by the host (steal): {'; '.join(parts)}."


def latency_floor(results: list[Result], clients: int) -> str:
    """What the p95 goal asks of throughput: each client sends its next request when the last
    one is answered, so a scenario's mean latency is the clients over its requests per second,
    and its p95 is no lower. Under 100 ms thus takes more than clients / 0.1 s requests per
    second, however cheap a page is next to the trivial view; on a slow machine even the
    trivial view may fall short."""
    needed = clients / (GOAL_P95_MS / 1000)
    baseline = results[0]
    mean = clients / baseline.rate * 1000 if baseline.rate else float("nan")
    return (
        f"Latency floor: each of the {clients} clients waits for its answer, so a scenario's "
        f"mean latency is {clients} / its req/s; p95 < {GOAL_P95_MS:g} ms needs more than "
        f"{needed:.0f} req/s (the trivial view here: {baseline.rate:.0f} req/s, "
        f"{mean:.0f} ms mean)."
    )


def local_database_pids() -> list[int]:
    """The database server's processes, when it runs on this machine (PostgreSQL): every
    backend and its background writers, whose work the requests cause too."""
    host = connection.settings_dict.get("HOST") or ""
    if connection.vendor != "postgresql" or not (
        host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")
    ):
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity")
        return [pid for (pid,) in cursor.fetchall()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_config() -> str:
    """The project's gunicorn settings file, which the deployment guide runs gunicorn with."""
    return str(settings.BASE_DIR / "gunicorn.conf.py")


def deployed_workers() -> int:
    """How many workers gunicorn runs with the project's settings file on this machine."""
    return runpy.run_path(gunicorn_config())["workers"]


class Command(BaseCommand):
    help = (
        "Serve the portal with gunicorn and measure 'my records' and record submit against a "
        "trivial view (requests/s, p50, p95) with concurrent clients."
    )

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
        parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="gunicorn workers (default: as gunicorn.conf.py has it, two per core)",
        )
        parser.add_argument(
            "--worker-class",
            choices=["sync", "gthread"],
            default="sync",
            help="gunicorn worker class (sync: gunicorn's default, as the deployment guide has it)",
        )
        parser.add_argument(
            "--threads", type=int, default=1, help="threads per gunicorn worker (gthread only)"
        )
        parser.add_argument(
            "--keep-alive",
            action="store_true",
            help="each client keeps one connection open, instead of one per request",
        )
        parser.add_argument(
            "--rounds",
            type=int,
            default=3,
            help="the scenarios take turns this many times, each for its share of --duration, "
            "so that a machine slowing down or speeding up meanwhile weighs on all of them alike",
        )
        parser.add_argument("--warmup", type=float, default=2.0, help="seconds not measured")

    def handle(self, *args, **options):
        if options["rounds"] < 1 or options["duration"] <= 0 or options["clients"] < 1:
            raise CommandError("--rounds and --clients must be at least 1, --duration above 0.")
        if options["workers"] is None:
            options["workers"] = deployed_workers()
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        if options["keep_alive"] and options["worker_class"] == "sync":
            raise CommandError(
                "--keep-alive needs --worker-class gthread: sync workers close every connection."
            )
        if connection.vendor == "sqlite":
            self.stderr.write(
                "Warning: SQLite serialises writes; measure on PostgreSQL (DATABASE_URL)."
            )
        fixture = ensure_fixture(self.stdout, volunteers=options["clients"])
        if connection.vendor == "postgresql":
            self._tidy_tables()
        sessions = [make_session(volunteer) for volunteer in fixture.volunteers]
        port = _free_port()
        server, workdir = self._start_gunicorn(port, options)
        worker = self._start_worker()
        clients = []
        try:
            self._wait_until_up(port, server)
            clients = [Client(port, key, keep_alive=options["keep_alive"]) for key in sessions]
            meter = CpuMeter(
                web=server.pid,
                tasks=worker.pid if worker is not None else None,
                database=local_database_pids,
            )
            results = self._measure(clients, fixture, options, meter)
            checks = self._wait_for_checks(fixture, worker)
        finally:
            for client in clients:
                client.close()
            self._stop(server)
            if worker is not None:
                self._stop(worker, group=False)
            shutil.rmtree(workdir, ignore_errors=True)
            self._clean_up(fixture, sessions)
        return self._report(results, options, checks)

    def _tidy_tables(self) -> None:
        """The tables a run reads and writes, as autovacuum keeps them on a server in use: no
        dead rows left by earlier runs (or by anything else, where autovacuum is off), and
        statistics for rows just loaded, so the planner does not guess (a guess can make the
        rules' read scan the table)."""
        from django.contrib.sessions.models import Session

        from apps.core.models import AuditEntry
        from apps.service_records.models import QueuedCheck, ServiceRecord

        tables = [m._meta.db_table for m in (ServiceRecord, QueuedCheck, Session, AuditEntry)]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")

    # gunicorn ------------------------------------------------------------------------------

    def _start_gunicorn(self, port: int, options):
        workdir = tempfile.mkdtemp(prefix="benchmark_portal_")
        with open(os.path.join(workdir, "benchmark_settings.py"), "w") as module:
            module.write(
                f"from {os.environ.get('DJANGO_SETTINGS_MODULE', 'volunteer_platform.settings')}"
                " import *  # noqa\n"
                f"ROOT_URLCONF = {__name__!r}\n"
                f"BENCHMARK_PROJECT_URLCONF = {settings.ROOT_URLCONF!r}\n"
            )
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "benchmark_settings"
        env["PYTHONPATH"] = os.pathsep.join(
            [workdir, str(settings.BASE_DIR), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "volunteer_platform.wsgi:application",
            "--config",
            gunicorn_config(),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options["workers"]),
            "--worker-class",
            options["worker_class"],
            "--threads",
            str(options["threads"]),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--chdir",
            str(settings.BASE_DIR),
        ]
        self.stdout.write(
            f"gunicorn on 127.0.0.1:{port}: {_serving(options)}; database {connection.vendor}"
        )
        server = subprocess.Popen(command, env=env, start_new_session=True)
        return server, workdir

    def _start_worker(self):
        """One Celery worker for the tasks a submit queues (none when tasks run eagerly)."""
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return None
        command = [sys.executable, "-m", "celery", "-A", "volunteer_platform", "worker"]
        command += ["--concurrency", "1", "--loglevel", "warning", "--without-heartbeat"]
        self.stdout.write("Celery worker: 1 process for the submits' checks")
        return subprocess.Popen(command, cwd=str(settings.BASE_DIR), start_new_session=True)

    def _wait_until_up(self, port, server, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with {server.returncode}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request(
                    "GET",
                    "/healthz",
                    headers={"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"},
                )
                status = probe.getresponse().status
                probe.close()
                if status == 200:
                    return
            time.sleep(0.3)
        raise CommandError("gunicorn did not answer in time")

    def _stop(self, server, *, group: bool = True):
        """SIGTERM to gunicorn's group; to the Celery worker's main process only, so it lets
        its pool finish the task at hand (a warm shutdown)."""
        if server.poll() is None:
            if group:
                os.killpg(server.pid, signal.SIGTERM)
            else:
                server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

    # Measuring -----------------------------------------------------------------------------

    def _measure(self, clients, fixture, options, meter=None) -> list[Result]:
        list_path = reverse("portal:record-list")
        new_path = reverse("portal:record-new")
        from apps.accounts.models import ServiceCategory

        category = ServiceCategory.objects.filter(is_active=True).first()
        # CSRF as a browser gets it: the form page sets the cookie and holds the token.
        tokens = {}
        for client in clients:
            status, page = client.request("GET", new_path)
            if status != 200:
                raise CommandError(f"GET {new_path} answered {status}: {page[:200]!r}")
            match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if not match:
                raise CommandError("No CSRF token on the record form.")
            tokens[id(client)] = match.group(1).decode()

        rough = (options["duration"] + options["warmup"] * options["rounds"]) * 2000  # generous
        days = free_days(fixture.volunteers, count=int(rough // SLOTS_PER_DAY) + 2)
        slots = itertools.count()
        slot_lock = threading.Lock()

        def next_slot():
            with slot_lock:
                n = next(slots)
            return days[n // SLOTS_PER_DAY], (n % SLOTS_PER_DAY) * 2

        def get(path, expected=200):
            def call(client):
                status, body = client.request("GET", path)
                return status == expected, f"GET {path}: {status}"

            return call

        # What every submit of a client sends alike, encoded once: the load generator shares
        # the machine with the server, so what it spends on a request weighs on the figures.
        fixed = {
            id(client): urlencode(
                {
                    "csrfmiddlewaretoken": tokens[id(client)],
                    "activity_name": SUBMIT_NAME,
                    "category": category.pk,
                    "place": "基准测试地点",
                    "team": fixture.team.pk,
                    "responsible_person": "基准队长",
                    "late_reason": "性能基准测试补录",
                }
            )
            for client in clients
        }

        def submit(client):
            day, minute = next_slot()
            body = submit_body(fixed[id(client)], day, minute)
            status, content = client.request("POST", new_path, body)
            if submitted(status, client.location):
                return True, ""
            if status == 302:  # signed out, say: not a record
                return False, f"POST {new_path}: {status} to {client.location}"
            errors = re.findall(rb'invalid-feedback d-block">([^<]+)<', content)
            return False, f"POST {new_path}: {status} {b' | '.join(errors).decode()[:300]}"

        scenarios = [
            ("trivial view", get(TRIVIAL_PATH)),
            ("my records (record-list)", get(list_path)),
            ("record submit (POST record-new)", submit),
        ]
        rounds = options["rounds"]
        parts: dict[str, list[Result]] = {name: [] for name, _call in scenarios}
        for number in range(rounds):
            for name, call in scenarios:
                self.stdout.write(f"… {name} (round {number + 1} of {rounds})")
                warmup = options["warmup"] if number == 0 else min(options["warmup"], 0.5)
                parts[name].append(
                    run_scenario(
                        name,
                        clients,
                        call,
                        seconds=options["duration"] / rounds,
                        warmup=warmup,
                        meter=meter,
                    )
                )
        return [Result.combined(rounds) for rounds in parts.values()]

    def _wait_for_checks(self, fixture, worker, *, timeout: float = 60.0) -> str:
        """How long the worker took, after the last submit, to check every submitted record:
        the submits' throughput is honest only if the checks keep up with it."""
        from apps.service_records.models import ServiceRecord

        made = ServiceRecord.objects.filter(
            volunteer__in=fixture.volunteers, activity_name=SUBMIT_NAME
        )
        total = made.count()
        if worker is None:
            return f"Checks against formalism: run in the web process ({total} records)."
        began = time.monotonic()
        while True:
            waiting = made.filter(queued_check__isnull=False).count()
            waited = time.monotonic() - began
            if not waiting:
                return (
                    f"Checks against formalism: all {total} submitted records checked "
                    f"{waited:.1f} s after the last submit."
                )
            if waited > timeout:
                return (
                    f"Checks against formalism: {waiting} of {total} submitted records still "
                    f"waiting {timeout:g} s after the last submit."
                )
            time.sleep(0.25)

    # Report and clean-up -------------------------------------------------------------------

    def _report(self, results: list[Result], options, checks: str = ""):
        baseline = results[0]
        lines = [
            "",
            f"{options['clients']} clients, {options['duration']:g} s each, "
            f"gunicorn {_serving(options)}, database {connection.vendor}",
            f"{'scenario':<34}{'req/s':>9}{'share':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'errors':>8}  verdict",
        ]
        passed = True
        for result in results:
            share = result.rate / baseline.rate if baseline.rate else 0.0
            verdict = ""
            if result is not baseline:
                ok = (
                    share >= GOAL_SHARE
                    and result.percentile(0.95) < GOAL_P95_MS
                    and not result.errors
                )
                passed &= ok
                verdict = "PASS" if ok else "FAIL"
            lines.append(
                f"{result.name:<34}{result.rate:>9.1f}{share:>7.0%} {result.p50:>8.1f}"
                f"{result.percentile(0.95):>9.1f}{result.errors:>8}  {verdict}"
            )
            if result.first_error:
                lines.append(f"    first error: {result.first_error}")
        lines += cpu_table(results)
        if machine := machine_line(results):
            lines.append(machine)
        lines.append(latency_floor(results, options["clients"]))
        if checks:
            lines.append(checks)
        lines.append(
            f"Goal: at least {GOAL_SHARE:.0%} of the trivial view's throughput and "
            f"p95 < {GOAL_P95_MS:g} ms: {'PASS' if passed else 'FAIL'}"
        )
        self.stdout.write("\n".join(lines))
        if not passed:
            raise CommandError("The benchmark goal was not met.", returncode=2)

    def _clean_up(self, fixture: Fixture, sessions: list[str]) -> None:
        from django.contrib.sessions.models import Session

        from apps.core.models import AuditEntry
        from apps.service_records.models import Evaluation, Evidence, ServiceRecord

        with transaction.atomic():
            made = ServiceRecord.objects.filter(
                volunteer__in=fixture.volunteers, activity_name=SUBMIT_NAME
            )
            ids = [str(pk) for pk in made.values_list("pk", flat=True)]
            Evidence.objects.filter(record__in=made).delete()
            Evaluation.objects.filter(record__in=made).delete()
            for start in range(0, len(ids), 500):
                AuditEntry.objects.filter(
                    action="service_record.submit", target_id__in=ids[start : start + 500]
                ).delete()
            made.delete()
            Session.objects.filter(session_key__in=sessions).delete()
        if fixture.created:
            remove_fixture(fixture)
            self.stdout.write("Removed the benchmark's volunteers, team and records.")
