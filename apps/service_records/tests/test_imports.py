"""Imports of service records: templates, whole-file refusals, row reports, all or nothing."""

import datetime
import io
import pathlib
import re

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.models import CalendarDay, CalendarDayKind
from apps.core.workdays import overlaps_working_hours, working_days_after
from apps.service_records import imports
from apps.service_records.imports import _Calendar, import_job_create, import_template
from apps.service_records.models import (
    ImportJob,
    ImportKind,
    ImportStatus,
    QueuedCheck,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from apps.service_records.tests.helpers import NOW, at, make_record
from apps.service_records.tests.import_fixtures import (
    RECORD_HEADERS,
    elderly,
    profile,
    records_file,
    upload,
    xlsx_bytes,
)
from conftest import zh


@pytest.fixture
def w(world):
    elderly()
    world.profile = profile(world.cast.volunteer, "V000000001")
    world.leader_profile = profile(world.cast.team_leader, "V000000002")
    return world


def run(w, rows, *, actor=None, now=NOW):
    return import_job_create(
        actor=actor or w.cast.branch_secretary,
        kind=ImportKind.SERVICE_RECORDS,
        file=records_file(rows),
        now=now,
    )


def problems(job):
    return {(e["row"], e["column"]): e["message"] for e in job.errors}


def refused(w, rows, **kwargs):
    before = ServiceRecord.objects.count()
    job = run(w, rows, **kwargs)
    assert job.status == ImportStatus.FAILED
    assert job.imported_rows == 0
    assert ServiceRecord.objects.count() == before
    return job


def test_template_has_chinese_headers_an_example_and_instructions(db):
    book = load_workbook(io.BytesIO(import_template(kind=ImportKind.SERVICE_RECORDS)))
    data, notes = book.worksheets
    assert [c.value for c in data[1]] == RECORD_HEADERS
    assert RECORD_HEADERS[:3] == ["志愿者编号或手机号", "活动名称", "服务类别"]
    assert data["B2"].value == "桂园社区敬老助餐"
    assert data["A1"].font.bold
    assert notes.title == zh("Instructions")
    texts = [row[0] for row in notes.iter_rows(values_only=True)]
    assert zh("Do not change, move or rename the header row.") in texts
    assert "补录原因" in texts


def test_good_file_imports_every_row_for_review(w):
    job = run(
        w,
        [
            {},
            {"volunteer": "V000000001", "start": "2026-11-12 14:00", "end": "2026-11-12 15:30",
             "hours": 1.5, "team": "桂园红心志愿服务队"},
            {"volunteer": w.cast.team_leader.phone or "V000000002", "start": "2026-11-12 09:00",
             "end": "2026-11-12 11:00"},
            {"start": "2026-10-09 09:00", "end": "2026-10-09 10:00", "hours": "",
             "late_reason": "纸质签到表后补"},
        ],
    )  # fmt: skip
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.total_rows, job.processed_rows, job.imported_rows) == (4, 4, 4)
    assert job.message == zh("All %(count)d rows were imported.") % {"count": 4}
    records = list(ServiceRecord.objects.order_by("started_at", "pk"))
    assert len(records) == 4
    assert {r.source for r in records} == {RecordSource.IMPORT}
    assert {r.status for r in records} == {RecordStatus.SUBMITTED}
    assert {r.submitted_by for r in records} == {w.cast.branch_secretary}
    late = records[0]
    assert late.is_late and late.late_reason == "纸质签到表后补"
    assert late.duration_minutes == 60 and late.service_date == datetime.date(2026, 10, 9)
    with_team = ServiceRecord.objects.get(duration_minutes=90)
    assert with_team.team == w.team and with_team.organization == w.tree.branch
    assert with_team.within_working_hours
    assert not ServiceRecord.objects.get(volunteer=w.cast.team_leader).is_late
    assert len({r.evaluation_token for r in records}) == 4
    # The uploaded file holds people's data: kept privately, under an unguessable directory.
    assert re.fullmatch(r"imports/\d{4}/\d{2}/[0-9a-f]{32}/[^/]+\.xlsx", job.file.name)
    stored = pathlib.Path(job.file.path).resolve()
    assert stored.is_relative_to(pathlib.Path(settings.PRIVATE_MEDIA_ROOT).resolve())


def test_phone_identifies_the_volunteer(w):
    w.cast.volunteer.phone = "13900001111"
    w.cast.volunteer.save()
    job = run(w, [{"volunteer": 13900001111}])
    assert job.status == ImportStatus.DONE, job.errors
    assert ServiceRecord.objects.get().volunteer == w.cast.volunteer


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"not a zip at all", "records.xlsx", "This file cannot be read as an Excel workbook "
         "(.xlsx). It may be damaged or of another kind; save it from Excel as .xlsx and upload "
         "it again."),
        (b"PK\x03\x04broken", "records.xlsx", "This file cannot be read as an Excel workbook "
         "(.xlsx). It may be damaged or of another kind; save it from Excel as .xlsx and upload "
         "it again."),
        (b"a,b,c\n1,2,3\n", "records.csv", "Upload an Excel workbook saved as .xlsx (use the "
         "template)."),
        (xlsx_bytes(RECORD_HEADERS, []), "records.xlsx",
         "The file has no rows to import below the header."),
    ],
)  # fmt: skip
def test_unreadable_files_are_refused_with_one_message(w, content, name, message):
    with pytest.raises(ValidationError) as caught:
        import_job_create(
            actor=w.cast.branch_secretary,
            kind=ImportKind.SERVICE_RECORDS,
            file=upload(content, name),
        )
    assert caught.value.message_dict == {"file": [zh(message)]}
    assert not ImportJob.objects.exists() and not ServiceRecord.objects.exists()


def test_wrong_template_names_the_expected_header(w):
    volunteers = xlsx_bytes(["姓名", "性别"], [["张三", "男"]])
    with pytest.raises(ValidationError) as caught:
        import_job_create(
            actor=w.cast.branch_secretary, kind=ImportKind.SERVICE_RECORDS, file=upload(volunteers)
        )
    message = caught.value.message_dict["file"][0]
    assert message == zh(
        "This is not the template for %(kind)s: the first row must read “%(expected)s” but "
        "reads “%(found)s”. Download the template and copy your rows into it."
    ) % {
        "kind": zh("Service records"),
        "expected": "、".join(RECORD_HEADERS),
        "found": "姓名、性别",
    }
    assert "志愿者编号或手机号、活动名称" in message and "姓名、性别" in message
    assert not ImportJob.objects.exists() and not ServiceRecord.objects.exists()


def test_too_large_a_file_is_refused(w, settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(ValidationError) as caught:
        run(w, [{}, {"start": "2026-11-11 09:00", "end": "2026-11-11 10:00"}, {}])
    assert caught.value.message_dict["file"] == [
        zh("A file can hold at most %(max)d rows; split it into several files.") % {"max": 2}
    ]


NO_TEAM = "There is no team “%(name)s” among the teams you manage."
BAD_CELLS = [
    ({"volunteer": ""}, "志愿者编号或手机号", "Fill in this column."),
    ({"activity_name": ""}, "活动名称", "Fill in this column."),
    ({"activity_name": "支部会议"}, "活动名称", None),
    ({"activity_name": "长" * 129}, "活动名称", None),
    ({"category": "唱歌"}, "服务类别", "There is no service category “%(name)s”."),
    ({"start": "昨天上午"}, "开始时间", "Enter a date and time such as 2026-03-05 09:00."),
    ({"end": ""}, "结束时间", "Fill in this column."),
    ({"end": "2026-11-12 08:00"}, "结束时间", "The end must be after the start."),
    ({"start": "2026-11-20 09:00", "end": "2026-11-20 10:00", "hours": 1}, "结束时间",
     "Service can only be recorded once it has ended, not in advance."),
    ({"hours": "两个"}, "服务时长（小时）", "Enter the hours as a number, such as 1.5."),
    ({"hours": 0}, "服务时长（小时）", "The service time must be more than zero."),
    ({"hours": -1}, "服务时长（小时）", "The service time must be more than zero."),
    ({"hours": 3}, "服务时长（小时）", None),
    ({"start": "2026-11-11 06:00", "end": "2026-11-12 07:00", "hours": 25}, "服务时长（小时）",
     "At most %(hours)d hours of service can be recorded for one day."),
    ({"place": ""}, "服务地点", "Fill in this column."),
    ({"content": ""}, "服务内容", "Fill in this column."),
    ({"team": "不存在的服务队"}, "服务队", NO_TEAM),
    ({"team": "桃溪先锋志愿服务队"}, "服务队", NO_TEAM),
    ({"responsible": ""}, "负责人", "Fill in this column."),
    ({"start": "2026-10-09 09:00", "end": "2026-10-09 10:00", "hours": 1}, "补录原因", None),
]  # fmt: skip


@pytest.mark.parametrize(("cells", "column", "message"), BAD_CELLS)
def test_each_bad_cell_is_reported_by_row_and_column_and_nothing_is_saved(
    w, cells, column, message
):
    job = refused(w, [{"start": "2026-11-13 09:00", "end": "2026-11-13 10:00", "hours": 1},
                      cells])  # fmt: skip
    found = problems(job)
    assert (3, column) in found, found
    assert all(row == 3 for row, _column in found), found
    if message:
        assert found[(3, column)] == zh(message) % {
            "name": cells.get("category") or cells.get("team"),
            "hours": 12,
        }
    assert job.message == zh(
        "Nothing was imported: %(count)d problems in %(rows)d rows. Correct them in the file "
        "and upload it again."
    ) % {"count": len(found), "rows": 1}


def test_a_row_spanning_more_than_a_day_is_refused(w):
    job = refused(w, [{"start": "2026-11-10 20:00", "end": "2026-11-12 08:00", "hours": 8}])
    assert problems(job) == {
        (2, "结束时间"): zh(
            "One record covers at most %(hours)d hours from start to end: record longer "
            "service day by day."
        )
        % {"hours": 24}
    }


def test_the_late_entry_message_counts_working_days(w):
    job = refused(w, [{"start": "2026-10-09 09:00", "end": "2026-10-09 10:00", "hours": 1}])
    assert problems(job)[(2, "补录原因")] == zh(
        "This service ended %(days)d working days ago; records are due within %(limit)d "
        "working days. Give a reason for the late entry (补录): a reviewer will check it."
    ) % {"days": working_days_after(datetime.date(2026, 10, 9), NOW.date()), "limit": 10}


def test_a_row_for_someone_outside_your_scope_is_refused(w):
    job = refused(w, [{}], actor=w.cast.other_branch_secretary)
    assert problems(job) == {
        (2, "志愿者编号或手机号"): zh(
            "No volunteer with the number or mobile number “%(key)s” among the volunteers "
            "you manage."
        )
        % {"key": "V000000001"}
    }


def test_your_own_records_cannot_be_imported(w):
    profile(w.cast.branch_secretary, "V000000009")
    job = refused(w, [{"volunteer": "V000000009"}])
    assert (2, "志愿者编号或手机号") in problems(job)


def test_the_read_only_inspector_may_not_import(w):
    with pytest.raises(PermissionDenied):
        run(w, [{}], actor=w.cast.inspector)
    assert not ImportJob.objects.exists()


def test_overlapping_rows_within_the_file(w):
    job = refused(
        w,
        [
            {"start": "2026-11-12 09:00", "end": "2026-11-12 11:00"},
            {"start": "2026-11-12 13:00", "end": "2026-11-12 14:00", "hours": 1},
            {"start": "2026-11-12 10:00", "end": "2026-11-12 12:00"},
        ],
    )
    assert problems(job) == {
        (4, "开始时间"): zh(
            "This overlaps row %(row)d of this file (%(start)s to %(end)s): one person cannot "
            "serve twice at the same time."
        )
        % {"row": 2, "start": "2026-11-12 09:00", "end": "2026-11-12 11:00"}
    }


def test_overlap_with_an_existing_record(w):
    make_record(w.cast.volunteer, start=at("2026-11-12", 10), minutes=60, activity_name="送餐")
    job = refused(w, [{}])
    assert problems(job) == {
        (2, "开始时间"): zh(
            "This overlaps the record “%(name)s” from %(start)s to %(end)s: one person "
            "cannot serve twice at the same time."
        )
        % {"name": "送餐", "start": "2026-11-12 10:00", "end": "2026-11-12 11:00"}
    }


def test_rejected_records_do_not_block(w):
    make_record(w.cast.volunteer, start=at("2026-11-12", 10), status=RecordStatus.REJECTED)
    assert run(w, [{}]).status == ImportStatus.DONE


def test_the_daily_cap_counts_existing_records_and_earlier_rows(w):
    make_record(w.cast.volunteer, start=at("2026-11-12", 0), minutes=8 * 60)
    job = refused(
        w,
        [
            {"start": "2026-11-12 09:00", "end": "2026-11-12 11:00"},
            {"start": "2026-11-12 13:00", "end": "2026-11-12 16:00", "hours": 3},
        ],
    )
    assert problems(job) == {
        (3, "服务时长（小时）"): zh(
            "At most %(hours)d hours of service can be recorded for one day; %(day)s already "
            "has %(existing)s hours."
        )
        % {"hours": 12, "day": "2026-11-12", "existing": 10.0}
    }


def test_many_bad_rows_are_all_reported_in_row_order(w):
    job = refused(w, [{"category": "唱歌"}, {}, {"volunteer": "V999999999", "place": ""}])
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (2, "服务类别"),
        (4, "志愿者编号或手机号"),
        (4, "服务地点"),
    ]


def test_running_a_job_twice_imports_once(w):
    job = run(w, [{}])
    assert imports.import_job_run(job_id=job.pk, now=NOW).status == ImportStatus.DONE
    assert ServiceRecord.objects.count() == 1


def test_a_concurrent_record_found_at_write_time_refuses_the_file(w, monkeypatch):
    """Between checking and writing someone records an overlapping service: nothing saved."""
    original = imports._write_service_records

    def sneak_in(**kwargs):
        make_record(w.cast.volunteer, start=at("2026-11-12", 10), minutes=30)
        return original(**kwargs)

    monkeypatch.setitem(imports.WRITERS, ImportKind.SERVICE_RECORDS, sneak_in)
    job = run(w, [{}])
    assert job.status == ImportStatus.FAILED
    assert list(problems(job)) == [(2, "开始时间")]
    assert ServiceRecord.objects.count() == 0  # the sneaked record rolled back with the rest


@override_settings(IMPORT_SYNC_MAX_ROWS=1)
def test_large_files_run_as_a_task(w, django_capture_on_commit_callbacks):
    # the task takes only the job's id, so it runs on the real clock: yesterday's service
    day = timezone.localdate() - datetime.timedelta(days=1)
    rows = [
        {"start": f"{day} 09:00", "end": f"{day} 10:00", "hours": 1},
        {"start": f"{day} 14:00", "end": f"{day} 15:00", "hours": 1},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = run(w, rows, now=None)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    assert job.imported_rows == 2


@override_settings(IMPORT_SYNC_MAX_ROWS=1)
def test_progress_is_visible_outside_the_write_transaction(w, monkeypatch):
    seen = []
    original = imports.ImportJob.objects.filter

    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1)
    job = ImportJob.objects.create(
        kind=ImportKind.SERVICE_RECORDS,
        file=records_file([{}, {"start": "2026-11-13 09:00", "end": "2026-11-13 10:00",
                                 "hours": 1}]),
        total_rows=2,
        created_by=w.cast.branch_secretary,
    )  # fmt: skip

    from django.db import connection

    def watch(*args, **kwargs):
        seen.append(len(connection.atomic_blocks))
        return original(*args, **kwargs)

    monkeypatch.setattr(imports.ImportJob.objects, "filter", watch)
    outer = len(connection.atomic_blocks)  # the test's own transaction
    imports.import_job_run(job_id=job.pk, now=NOW)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.processed_rows == 2
    # the claim and the progress updates ran in autocommit; only the final update inside
    assert len(seen) >= 4 and set(seen[:-1]) == {outer} and seen[-1] > outer


def test_calendar_agrees_with_workdays(db):
    for day, kind in (
        ("2026-10-01", CalendarDayKind.HOLIDAY),
        ("2026-10-10", CalendarDayKind.WORKDAY),
    ):
        CalendarDay.objects.update_or_create(date=day, defaults={"kind": kind})
    today = datetime.date(2026, 11, 16)
    calendar = _Calendar(datetime.date(2026, 9, 1), today)
    for offset in range(0, 70):
        day = today - datetime.timedelta(days=offset)
        if day >= calendar.count_from:
            assert calendar.working_days_after(day, today) == working_days_after(day, today)
    for day in (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 10, 10),
        datetime.date(2026, 10, 11),
    ):
        for hour in (7, 9, 12, 13, 18):
            start = at(day, hour)
            end = start + datetime.timedelta(hours=1)
            assert calendar.overlaps_working_hours(start, end) == overlaps_working_hours(
                start, end
            ), (day, hour)


def test_imported_records_go_through_the_checks_against_formalism(
    w, django_capture_on_commit_callbacks
):
    """The same near-identical content on many records is flagged for imported rows too."""
    rows = [
        {"start": f"2026-11-{day:02d} 09:00", "end": f"2026-11-{day:02d} 10:00", "hours": 1}
        for day in range(2, 14)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = run(w, rows)
    assert job.status == ImportStatus.DONE, job.errors
    imported = ServiceRecord.objects.filter(source=RecordSource.IMPORT)
    assert imported.count() == len(rows)
    assert not QueuedCheck.objects.exists()  # all checked
    assert all("same_content" in {f["code"] for f in r.flags} for r in imported)
