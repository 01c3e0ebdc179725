"""The portal benchmark's own parts: options it refuses, clients that connect as the proxy in
front of gunicorn does, and rounds that add up. (The whole run serves gunicorn against the
configured database and is run by hand; its figures go in the issue's note.)"""

import datetime
import http.server
import io
import os
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.service_records.checks import content_fingerprint
from apps.service_records.management.commands import benchmark_portal as bench
from apps.service_records.models import ServiceRecord


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep_alive": True}, "--keep-alive needs --worker-class gthread"),
        ({"rounds": 0}, "--rounds and --clients must be at least 1"),
        ({"clients": 0}, "--rounds and --clients must be at least 1"),
        ({"duration": 0}, "--duration above 0"),
        ({"workers": 0}, "--workers must be at least 1"),
    ],
)
def test_bad_options_are_refused_before_anything_is_made(options, message):
    users, records = User.objects.count(), ServiceRecord.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("benchmark_portal", **options)
    assert (User.objects.count(), ServiceRecord.objects.count()) == (users, records)


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open unless asked to close it
    seen: list = []  # (which connection, its Connection header) per request
    connections = 0

    def setup(self):  # once per connection
        super().setup()
        type(self).connections += 1
        self.number = type(self).connections

    def do_GET(self):
        self.seen.append((self.number, self.headers.get("Connection")))
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "messages=abc; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    _Recorder.connections = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_client_opens_a_connection_per_request_as_the_proxy_does(recorder):
    client = bench.Client(recorder.server_address[1], "key")
    for _ in range(3):
        assert client.request("GET", "/") == (200, b"ok")
    client.close()
    assert [header for _conn, header in _Recorder.seen] == ["close"] * 3
    assert [conn for conn, _header in _Recorder.seen] == [1, 2, 3]
    assert client.cookies["messages"] == "abc"  # cookies carry over from one to the next


def test_a_kept_alive_client_sends_every_request_on_one_connection(recorder):
    client = bench.Client(recorder.server_address[1], "key", keep_alive=True)
    for _ in range(3):
        assert client.request("GET", "/") == (200, b"ok")
    client.close()
    assert [header for _conn, header in _Recorder.seen] == [None] * 3
    assert [conn for conn, _header in _Recorder.seen] == [1, 1, 1]


def test_the_rounds_of_a_scenario_add_up():
    parts = [
        bench.Result("submit", 100, 0, 5.0, [0.01] * 100),
        bench.Result("submit", 300, 2, 5.0, [0.03] * 300, first_error="POST: 400"),
    ]
    whole = bench.Result.combined(parts)
    assert (whole.requests, whole.errors, whole.seconds) == (400, 2, 10.0)
    assert whole.rate == 40.0
    assert whole.first_error == "POST: 400"
    assert whole.p50 == 30.0 and whole.percentile(0.2) == 10.0


@pytest.mark.parametrize(
    ("status", "location", "counts"),
    [
        (302, "/records/5/", True),
        (302, "https://127.0.0.1:8000/records/1234/", True),
        (302, "/records/5/?recorded=1", True),
        (302, "/accounts/login/?next=/records/new/", False),  # signed out: no record made
        (302, "/records/new/", False),
        (302, "/records/0/", False),
        (200, "", False),  # the form again, with its errors
        (403, "", False),
    ],
)
def test_a_submit_counts_only_when_it_leads_to_the_new_record(status, location, counts):
    assert bench.submitted(status, location) is counts


@pytest.mark.parametrize(
    ("minute", "start", "end"),
    [(0, "00:00", "00:01"), (59, "00:59", "01:00"), (1198, "19:58", "19:59")],
)
def test_a_submit_body_is_the_fixed_fields_and_a_one_minute_span(minute, start, end):
    fixed = urlencode({"place": "基准测试地点", "team": 7})
    day = datetime.date(2026, 3, 5)
    body = bench.submit_body(fixed, day, minute)
    assert parse_qs(body, strict_parsing=True) == {
        "place": ["基准测试地点"],
        "team": ["7"],
        "service_date": ["2026-03-05"],
        "start_time": [start],
        "end_time": [end],
        "content": [bench.submit_content(day, minute)],
    }


def test_each_submit_describes_its_service_in_words_of_its_own():
    """Not one description for thousands of records, which the checks against formalism
    would flag on every one (``same_content``): the fingerprints, which ignore numerals,
    differ from slot to slot."""
    days = [datetime.date(2026, 3, 5), datetime.date(2026, 3, 6), datetime.date(2027, 1, 1)]
    slots = [(day, minute) for day in days for minute in (0, 1, 10, 12, 120, 1198)]
    contents = [bench.submit_content(day, minute) for day, minute in slots]
    assert all(text.startswith(bench.SUBMIT_CONTENT) for text in contents)
    assert len({content_fingerprint(text) for text in contents}) == len(slots)
    assert bench.submit_content(*slots[0]) == contents[0]  # the same slot, the same words


@pytest.mark.django_db
def test_the_submits_log_recent_service_after_a_year_of_history():
    import io

    from django.utils import timezone

    fixture = bench.ensure_fixture(io.StringIO(), volunteers=2)
    today = timezone.localdate()
    for volunteer in fixture.volunteers:
        dates = ServiceRecord.objects.filter(volunteer=volunteer).values_list(
            "service_date", flat=True
        )
        assert len(dates) == bench.SEED_RECORDS
        assert max(dates) <= today - datetime.timedelta(days=bench.RECENT_DAYS_FREE)
        assert min(dates) >= today - datetime.timedelta(days=bench.RECENT_DAYS_FREE + 365)
    days = bench.free_days(fixture.volunteers, count=3)
    assert days == [today - datetime.timedelta(days=n) for n in (1, 2, 3)]
    bench.remove_fixture(fixture)
    assert not ServiceRecord.objects.filter(volunteer__in=fixture.volunteers).exists()


def test_the_cpu_of_the_rounds_adds_up_per_request():
    parts = [
        bench.Result("submit", 100, 0, 5.0, [0.01] * 100, cpu={"web": 0.5, "database": 0.2}),
        bench.Result("submit", 300, 0, 5.0, [0.01] * 300, cpu={"web": 1.5, "load": 0.1}),
    ]
    whole = bench.Result.combined(parts)
    assert whole.cpu == {"web": 2.0, "database": 0.2, "load": 0.1}
    assert whole.cpu_per_request() == pytest.approx({"web": 5.0, "database": 0.5, "load": 0.25})
    assert bench.Result("empty", 0, 0, 5.0, []).cpu_per_request() == {}


def test_the_cpu_table_sets_each_scenario_against_the_first():
    results = [
        bench.Result("trivial view", 1000, 0, 5.0, [], cpu={"web": 3.0, "database": 1.0}),
        bench.Result("record submit", 400, 0, 5.0, [], cpu={"web": 2.4, "database": 0.8}),
    ]
    lines = bench.cpu_table(results)
    assert lines[1].split() == [
        "scenario",
        "web",
        "database",
        "tasks",
        "load",
        "total",
        "×",
        "first",
    ]
    assert lines[2].split()[-6:] == ["3.00", "1.00", "0.00", "0.00", "4.00", "1.00×"]
    assert lines[3].split()[-6:] == ["6.00", "2.00", "0.00", "0.00", "8.00", "2.00×"]
    assert bench.cpu_table([bench.Result("trivial view", 10, 0, 1.0, [])]) == []


class _Meter:
    def __init__(self):
        self.reads = 0

    def read(self):
        self.reads += 1
        return {"at": time.perf_counter()}

    def spent_since(self, before):
        return {"web": time.perf_counter() - before["at"]}


def test_the_latency_floor_is_the_clients_over_the_throughput():
    trivial = bench.Result("trivial view", 2400, 0, 10.0, [0.06] * 2400)
    line = bench.latency_floor([trivial], 16)
    assert "needs more than 160 req/s" in line
    assert "the trivial view here: 240 req/s, 67 ms mean" in line


def test_a_scenario_meters_only_the_counted_seconds():
    meter = _Meter()
    result = bench.run_scenario(
        "sleep",
        [object()],
        lambda c: (time.sleep(0.01), (True, ""))[1],
        seconds=0.3,
        warmup=0.2,
        meter=meter,
    )
    assert meter.reads == 1 and result.requests > 0
    assert result.cpu["web"] == pytest.approx(0.3, abs=0.05)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads Linux's /proc")
def test_the_meter_counts_what_each_process_group_spends():
    busy = (
        "import time\nend = time.process_time() + 0.4\n"
        "while time.process_time() < end: pass\ntime.sleep(30)"
    )
    idle = "import time; time.sleep(30)"
    web = subprocess.Popen([sys.executable, "-c", busy], start_new_session=True)
    tasks = subprocess.Popen([sys.executable, "-c", idle], start_new_session=True)
    try:
        meter = bench.CpuMeter(web=web.pid, tasks=tasks.pid)
        before = meter.read()
        assert {group for group, _cpu in before.values()} == {"web", "tasks", "load"}
        deadline = time.monotonic() + 20
        while bench.process_cpu(web.pid)[1] < 0.4 and time.monotonic() < deadline:
            time.sleep(0.05)
        spent = meter.spent_since(before)
        assert spent["web"] >= 0.2
        assert 0 <= spent["tasks"] < 0.2
        assert spent["load"] >= 0
        assert bench.process_cpu(tasks.pid)[0] == tasks.pid  # its own process group
    finally:
        for process in (web, tasks):
            process.kill()
            process.wait()
    # A process gone by the second reading is not counted.
    assert bench.process_cpu(web.pid) is None
    assert "web" not in meter.spent_since(before)


def test_gunicorn_runs_two_workers_per_core_unless_told(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert bench.deployed_workers() == 6
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert bench.deployed_workers() == 3


def test_the_benchmark_serves_with_the_deployed_gunicorn_settings(monkeypatch, tmp_path):
    started = {}

    class Started:
        pid = 0

    def popen(command, **kwargs):
        started["command"] = command
        return Started()

    monkeypatch.setattr(bench.subprocess, "Popen", popen)
    monkeypatch.setattr(bench.tempfile, "mkdtemp", lambda prefix: str(tmp_path))
    options = {"workers": 4, "worker_class": "sync", "threads": 1, "keep_alive": False}
    bench.Command(stdout=io.StringIO())._start_gunicorn(8000, options)
    command = started["command"]
    assert command[command.index("--config") + 1] == bench.gunicorn_config()
    assert command[command.index("--workers") + 1] == "4"
    assert os.path.exists(bench.gunicorn_config())


def _proc_stat(tmp_path, *ticks) -> str:
    path = tmp_path / "stat"
    path.write_text("cpu  " + " ".join(str(t) for t in ticks) + "\ncpu0 1 2 3\nintr 5\n")
    return str(path)


def test_the_machine_reading_splits_the_cores_time_into_busy_idle_and_steal(tmp_path):
    hz = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal guest guest_nice
    before = bench.machine_cpu(_proc_stat(tmp_path, 100, 0, 50, 1000, 10, 5, 5, 40, 7, 0))
    assert before == pytest.approx({"busy": 160 / hz, "idle": 1010 / hz, "steal": 40 / hz})
    later = _proc_stat(tmp_path, 200, 0, 80, 1030, 10, 5, 15, 100, 9, 0)
    assert bench.machine_cpu_since(before, later) == pytest.approx(
        {"busy": 140 / hz, "idle": 30 / hz, "steal": 60 / hz}
    )
    # An old kernel's shorter line has no steal to report: none counted.
    assert bench.machine_cpu(_proc_stat(tmp_path, 1, 2, 3, 4))["steal"] == 0
    assert bench.machine_cpu(str(tmp_path / "missing")) == {}
    assert bench.machine_cpu(_proc_stat(tmp_path, "x", 1)) == {}


def test_the_machine_line_gives_each_scenario_its_shares():
    results = [
        bench.Result("trivial view", 10, 0, 1.0, [], machine={"busy": 8, "idle": 1, "steal": 1}),
        bench.Result("record submit", 10, 0, 1.0, [], machine={"busy": 6, "idle": 0, "steal": 4}),
    ]
    assert bench.machine_line(results) == (
        "The machine's cores, busy / idle / taken by the host (steal): "
        "trivial view 80% / 10% / 10%; record submit 60% / 0% / 40%."
    )
    assert bench.machine_line([bench.Result("trivial view", 10, 0, 1.0, [])]) == ""
    combined = bench.Result.combined(results)
    assert combined.machine == {"busy": 14, "idle": 1, "steal": 5}


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads Linux's /proc")
def test_a_metered_scenario_reads_the_machine_over_the_counted_seconds():
    result = bench.run_scenario(
        "sleep",
        [object()],
        lambda c: (time.sleep(0.01), (True, ""))[1],
        seconds=0.5,
        warmup=0.1,
        meter=_Meter(),
    )
    cores = len(os.sched_getaffinity(0))
    assert set(result.machine) == {"busy", "idle", "steal"}
    # The cores' time over the counted half second, give or take a clock tick per core.
    assert sum(result.machine.values()) == pytest.approx(
        0.5 * os.cpu_count(), abs=0.1 * cores + 0.05
    )


def test_a_gunicorn_worker_sets_what_it_loaded_aside_from_the_garbage_collector():
    import gc
    import runpy

    hooks = runpy.run_path(bench.gunicorn_config())
    gc.unfreeze()
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
