"""The portal benchmark's own parts: options it refuses, clients that connect as the proxy in
front of gunicorn does, and rounds that add up. (The whole run serves gunicorn against the
configured database and is run by hand; its figures go in the issue's note.)"""

import http.server
import threading

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
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
        (302, "/accounts/login/?next=/records/new/", False),  # signed out: no record made
        (302, "/records/new/", False),
        (302, "/records/0/", False),
        (200, "", False),  # the form again, with its errors
        (403, "", False),
    ],
)
def test_a_submit_counts_only_when_it_leads_to_the_new_record(status, location, counts):
    assert bench.submitted(status, location) is counts
