""" "My records" keeps its rendered rows in the cache under a stamp of the volunteer's records:
every change to a record the rows show (submit, correction, each review step, deletion, rows
written straight into the table) shows at once; photos and ratings, which the rows do not show,
leave the cached rows in use."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.care.tests.request_fixtures import png
from apps.portal.tests.test_records_permissions import local, make_record, recworld  # noqa: F401
from apps.service_records import evaluations, services
from apps.service_records.evidence import evidence_add
from apps.service_records.models import RaterKind, RecordSource, RecordStatus, ServiceRecord
from conftest import zh

pytestmark = pytest.mark.django_db

ROWS_QUERY = re.compile(r'FROM "service_records_servicerecord".*LIMIT 21', re.S)


@pytest.fixture
def w(recworld):  # noqa: F811
    return recworld


def _get(client, year, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portal:record-list"), {"year": year, **params})
    assert response.status_code == 200
    rows_read = any(ROWS_QUERY.search(q["sql"]) for q in queries.captured_queries)
    return response.content.decode(), rows_read


def _row(page: str, record) -> str:
    """The HTML of one record's row ('' when it is not listed)."""
    match = re.search(rf'data-record="{record.pk}">(.*?)</a>', page, re.S)
    return match.group(1) if match else ""


def _primed(w):
    client = w.client_as(w.cast.volunteer)
    year = w.submitted.service_date.year
    _get(client, year)
    page, rows_read = _get(client, year)
    assert not rows_read, "the second look is served from the cache"
    return client, year, page


@pytest.fixture
def client_and_year(w, client_as):
    w.client_as = client_as
    return _primed(w)


def test_the_rows_come_from_the_cache_while_nothing_changes(w, client_as):
    client = client_as(w.cast.volunteer)
    year = w.submitted.service_date.year
    first, rows_read = _get(client, year)
    assert rows_read
    second, rows_read = _get(client, year)
    assert not rows_read
    assert _row(second, w.submitted) == _row(first, w.submitted) != ""
    assert f'href="{reverse("portal:record-detail", args=[w.submitted.pk])}"' in second


def test_a_new_record_shows_at_once(w, client_and_year):
    client, year, _page = client_and_year
    record = make_record(w.cast.volunteer, day=w.submitted.service_date, start=14, end=15)
    page, rows_read = _get(client, year)
    assert rows_read and _row(page, record)


def test_a_correction_shows_at_once(w, client_and_year):
    client, year, _page = client_and_year
    services.service_record_update(
        actor=w.cast.volunteer, record=w.submitted, activity_name="更正后的活动名称"
    )
    page, _rows_read = _get(client, year)
    assert "更正后的活动名称" in _row(page, w.submitted)


@pytest.mark.parametrize(
    "step, record_name, badge",
    [
        ("approve", "submitted", "text-bg-success"),
        ("reject", "submitted", "text-bg-danger"),
        ("revoke", "submitted", "text-bg-dark"),
        ("reopen", "approved", "text-bg-warning"),
    ],
)
def test_each_review_step_shows_at_once(w, client_and_year, step, record_name, badge):
    client, year, before = client_and_year
    record = getattr(w, record_name)
    assert badge not in _row(before, record)
    action = getattr(services, f"service_record_{step}")
    extra = {} if step == "approve" else {"reason": "核实情况"}
    action(actor=w.cast.team_leader, record=record, **extra)
    page, rows_read = _get(client, year)
    assert rows_read
    assert badge in _row(page, record)


def test_a_deleted_record_disappears_at_once(w, client_and_year):
    client, year, before = client_and_year
    assert _row(before, w.rejected)
    ServiceRecord.objects.filter(pk=w.rejected.pk).delete()
    page, _rows_read = _get(client, year)
    assert not _row(page, w.rejected)


def test_rows_written_straight_into_the_table_show_at_once(w, client_and_year):
    # as an import does (bulk_create, no signals)
    client, year, _page = client_and_year
    day = w.submitted.service_date
    (record,) = ServiceRecord.objects.bulk_create(
        [
            ServiceRecord(
                volunteer=w.cast.volunteer,
                activity_name="批量导入的记录",
                category=w.category,
                started_at=local(day, 20),
                ended_at=local(day, 21),
                service_date=day,
                duration_minutes=60,
                place="桂园社区",
                content="导入",
                responsible_person="李明",
                source=RecordSource.IMPORT,
                status=RecordStatus.APPROVED,
            )
        ]
    )
    page, _rows_read = _get(client, year)
    assert "批量导入的记录" in page


def test_photos_and_ratings_leave_the_cached_rows_in_use(w, client_and_year):
    # The rows show neither photos nor ratings: the cached rows stay right and stay in use.
    client, year, before = client_and_year
    evidence_add(actor=w.cast.volunteer, record=w.submitted, photos=[png()])
    evaluations.evaluation_submit(
        record=w.approved, stars=5, comment="很好", rater_kind=RaterKind.RESIDENT
    )
    page, rows_read = _get(client, year)
    assert not rows_read
    assert page.count('data-record="') == before.count('data-record="')
    fresh = ServiceRecord.objects.get(pk=w.approved.pk)
    assert fresh.evaluations.count() == 1 and w.submitted.evidence.count() == 1


def test_the_hours_follow_an_approval_at_once(w, client_and_year):
    client, year, before = client_and_year
    hours = re.search(r"data-approved-hours>([\d.]+)<", before).group(1)
    services.service_record_approve(actor=w.cast.team_leader, record=w.submitted)
    page, _rows_read = _get(client, year)
    added = w.submitted.duration_minutes / 60
    shown = re.search(r"data-approved-hours>([\d.]+)<", page).group(1)
    assert shown == f"{float(hours) + added:.1f}"


def test_each_language_and_filter_has_its_own_rows(w, client_as):
    client = client_as(w.cast.volunteer)
    year = w.submitted.service_date.year
    chinese, _rows_read = _get(client, year)
    assert zh("Awaiting review") in _row(chinese, w.submitted)
    client.cookies["django_language"] = "en"
    english, rows_read = _get(client, year, status="")
    assert rows_read, "another language is rendered, not read from the Chinese rows"
    assert "Awaiting review" in _row(english, w.submitted)
    rejected, _rows_read = _get(client, year, status="rejected")
    assert _row(rejected, w.rejected) and not _row(rejected, w.submitted)


def test_someone_elses_cached_rows_are_never_shown(w, client_as):
    year = w.submitted.service_date.year
    _get(client_as(w.cast.volunteer), year)
    page, _rows_read = _get(client_as(w.cast.team_leader), year)
    assert not _row(page, w.submitted)


def test_a_record_in_another_year_changes_the_stamp_too(w, client_and_year):
    # The stamp covers all the volunteer's records: simple, and never stale.
    client, year, _page = client_and_year
    make_record(
        w.cast.volunteer,
        day=timezone.localdate() - datetime.timedelta(days=400),
        late_reason="补录去年的服务",
    )
    _page, rows_read = _get(client, year)
    assert rows_read


def test_a_warm_visit_reads_the_cache_in_one_round_trip(w, client_as, settings, monkeypatch):
    """The page body, the scope and the unread badge the navigation shows: one read."""
    from django.core.cache import cache

    from apps.core import scoping
    from apps.notifications.selectors import unread_count_refreshed

    settings.SCOPE_CACHE_SECONDS = 300
    # The fixtures' roles and memberships count as committed (this test runs in a transaction
    # that never commits, and scopes resting on uncommitted changes are not shared).
    scoping._committed()
    client = client_as(w.cast.volunteer)
    year = w.submitted.service_date.year
    unread_count_refreshed(w.cast.volunteer)
    first, _rows_read = _get(client, year)
    reads, depth = [], [0]
    for name in ("get", "get_many"):
        original = getattr(cache, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            # Only the calls the platform makes: a backend's get_many may call its own get.
            if not depth[0]:
                reads.append(_name)
            depth[0] += 1
            try:
                return _original(*args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(cache, name, counted)
    with CaptureQueriesContext(connection) as queries:
        second, rows_read = _get(client, year)
    assert not rows_read
    assert reads == ["get_many"]
    assert not any("organizationrole" in q["sql"] for q in queries.captured_queries)
    assert _row(second, w.submitted) == _row(first, w.submitted) != ""
