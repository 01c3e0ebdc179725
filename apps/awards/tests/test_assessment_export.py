"""The assessment export: its four sheets in Chinese, the hand-worked figures of ``aworld``,
the scope of the asker, formula escaping, the PDF's fonts and text, and constant queries."""

import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from apps.awards import rollup
from apps.awards.exports import AssessmentExporter, bar_chart
from apps.awards.models import AppraisalGrade, DemocraticAppraisal
from apps.awards.tests.conftest import NOW, YEAR, day
from apps.organizations.tests.factories import MembershipFactory
from apps.points.tests.helpers import make_record
from apps.service_records.models import ServiceRecord
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def eworld(aworld):
    w = aworld
    formula = ServiceRecord.objects.filter(volunteer=w.cast.volunteer, duration_minutes=90).get()
    formula.content = '=HYPERLINK("http://evil.example","点我")'
    formula.save(update_fields=["content"])
    DemocraticAppraisal.objects.create(
        assessment_year=rollup.rollup_run_year(year=YEAR, now=NOW),
        organization=w.tree.branch,
        member=w.cast.volunteer,
        grade=AppraisalGrade.EXCELLENT,
        entered_by=w.cast.branch_secretary,
    )
    return w


def exporter(user, organization, year=YEAR):
    return AssessmentExporter.for_job(
        user=user, params={"year": year, "organization": organization.pk}
    )


def workbook(user, organization):
    with translation.override("zh-hans"):
        content = exporter(user, organization).render_xlsx()
    return load_workbook(io.BytesIO(content))


def rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_workbook_has_four_sheets_with_chinese_headers(eworld):
    book = workbook(eworld.cast.branch_secretary, eworld.tree.branch)
    assert book.sheetnames == ["成员汇总", "服务队汇总", "组织指标", "服务记录"]
    assert rows(book["成员汇总"])[0][:4] == [zh("Rank"), zh("Name"), zh("Branch"), zh("Hours")]
    assert zh("Democratic appraisal") in rows(book["成员汇总"])[0]
    assert zh("Owning organisation") in rows(book["服务队汇总"])[0]
    assert rows(book["组织指标"])[0][2] == zh("Participation rate") + " (%)"
    assert rows(book["服务记录"])[0][:3] == [zh("Date"), zh("Name"), zh("Activity")]


def test_member_figures_match_the_hand_worked_year(eworld):
    book = workbook(eworld.cast.branch_secretary, eworld.tree.branch)
    members = {row[1]: row for row in rows(book["成员汇总"])[1:]}
    assert set(members) == {"王秀英", "李明", "陈志强"}  # the citizen and the other branch: no
    volunteer = members["王秀英"]
    # rank, name, branch, hours, records, on time, points, rating, pledges, training, visits
    assert volunteer[:11] == [2, "王秀英", "桂园社区党支部", 3, 3, 2, 12.5, 4.5, 1, 2.5, 2]
    assert volunteer[11] == zh("Excellent (优秀)")
    assert members["李明"][:7] == [1, "李明", "桂园社区党支部", 2, 1, 1, 20]
    assert members["陈志强"][0] == 3 and members["陈志强"][3] == 0
    assert members["李明"][11] is None  # not appraised: an empty cell


def test_team_and_indicator_figures(eworld):
    book = workbook(eworld.cast.branch_secretary, eworld.tree.branch)
    teams = rows(book["服务队汇总"])[1:]
    assert teams == [["桂园红心志愿服务队", "桂园社区党支部", 1, 3, 2, 1, 2, 4]]
    indicators = rows(book["组织指标"])[1:]
    # members, participation, hours/member, reported, paired, four counts, requests, sat., on time
    assert indicators == [["桂园社区党支部", 3, 66.7, 1.67, 33.3, 100, 50, 50, 4, 75]]


def test_records_sheet_lists_the_members_approved_records_of_the_year(eworld):
    book = workbook(eworld.cast.branch_secretary, eworld.tree.branch)
    records = rows(book["服务记录"])[1:]
    # volunteer: 60, 90, 30 (late); team leader: 120. Not: submitted, 2024, other branch, citizen
    assert [(r[1], r[5]) for r in records] == [
        ("王秀英", 1),
        ("王秀英", 1.5),
        ("王秀英", 0.5),
        ("李明", 2),
    ]
    late = records[2]
    assert late[10] == zh("Yes") and records[0][10] == zh("No")
    assert late[9] == zh("Logged by the volunteer")
    assert records[0][6] == "桂园红心志愿服务队"
    assert records[0][8] == "李明"


def test_a_record_content_starting_with_equals_is_not_a_formula(eworld):
    book = workbook(eworld.cast.branch_secretary, eworld.tree.branch)
    contents = [row[4] for row in rows(book["服务记录"])[1:]]
    assert '\'=HYPERLINK("http://evil.example","点我")' in contents
    assert not any(str(value).startswith("=") for value in contents)


def test_the_district_sees_its_children_and_the_whole_subtree(eworld):
    book = workbook(eworld.cast.inspector, eworld.tree.district)
    indicators = rows(book["组织指标"])[1:]
    assert [row[0] for row in indicators] == ["东湖区委", "东湖街道党工委"]
    assert {row[1] for row in rows(book["成员汇总"])[1:]} == {"王秀英", "李明", "陈志强"}


def test_the_file_holds_only_what_its_asker_sees(eworld):
    """A member of the branch who is secretary elsewhere: the branch is not theirs to export,
    and the city's export they ask for holds only their own subtree."""
    w = eworld
    with pytest.raises(Http404):
        exporter(w.cast.other_branch_secretary, w.tree.branch)
    book = workbook(w.cast.other_branch_secretary, w.tree.other_branch)
    assert [row[1] for row in rows(book["成员汇总"])[1:]] == ["刘思远"]
    assert [row[1] for row in rows(book["服务记录"])[1:]] == ["刘思远"]


def test_the_pdf_is_in_chinese_with_the_font_embedded(eworld):
    if not shutil.which("pdftotext"):
        pytest.fail("poppler-utils (pdftotext, pdffonts) must be installed")
    content = exporter(eworld.cast.branch_secretary, eworld.tree.branch).render_pdf()
    assert content.startswith(b"%PDF")
    fonts = subprocess.run(["pdffonts", "-"], input=content, capture_output=True, check=True)
    assert re.search(r"Noto-?Sans-?CJK-?SC", fonts.stdout.decode())
    for line in fonts.stdout.decode().splitlines()[2:]:
        assert " yes " in line  # embedded
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    flat = text.replace(" ", "")
    assert "桂园社区党支部" in flat
    assert "2025" in flat
    assert "陈志强" in flat  # generated by
    for member in ("王秀英", "李明"):
        assert member in flat
    assert "桂园红心志愿服务队" in flat
    with translation.override("zh-hans"):
        assert zh("Member summaries") in flat
        assert zh("Charts") in flat
    assert "服务记录" in flat and "Excel" in flat  # records: in the workbook, said so
    assert "点我" not in flat  # no record is printed


def test_the_pdf_charts_are_inline_svg(eworld):
    html = exporter(eworld.cast.branch_secretary, eworld.tree.branch).pdf_html()
    assert html.count("<svg") == 2
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert 'font-family: "Noto Sans CJK SC"' in html


def test_bar_chart_escapes_labels():
    svg = str(bar_chart([("<b>支部</b>", Decimal("50"))], unit="%", horizontal=True, maximum=100))
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def _grow(w, members: int):
    for index in range(members):
        user = MembershipFactory(organization=w.tree.branch).user
        make_record(user, day=day(3, 1 + index % 27), minutes=30 + index, team=w.team)
    rollup.rollup_run_year(year=YEAR, now=NOW)


def _count(user, organization, format_name):
    user = type(user).objects.get(pk=user.pk)  # a fresh user: its scope is read each time
    with CaptureQueriesContext(connection) as queries:
        exporter(user, organization).render(format_name)
    return len(queries)


@pytest.mark.parametrize("format_name", ["xlsx", "pdf"])
def test_queries_stay_constant_as_rows_grow(aworld, format_name):
    rollup.rollup_run_year(year=YEAR, now=NOW)
    user, branch = aworld.cast.branch_secretary, aworld.tree.branch
    small = _count(user, branch, format_name)
    _grow(aworld, 25)
    large = _count(user, branch, format_name)
    assert large == small
