"""The exporter base: rows in, XLSX and CSV out, never a formula from a user's text."""

import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from apps.core.exporters import BaseExporter, safe_cell

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613900001111", "'+8613900001111"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("助老服务", "助老服务"),
        ("a=b", "a=b"),
        ("", ""),
        (None, None),
        (-2, -2),
        (Decimal("-1.5"), Decimal("-1.5")),
        (datetime.date(2026, 3, 5), datetime.date(2026, 3, 5)),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_safe_cell_turns_lazy_text_into_text():
    assert safe_cell(gettext_lazy("Name")) in {"Name", "姓名", "名称"}


class RecordsExporter(BaseExporter):
    identifier = "records"
    verbose_name = "服务记录"
    column_widths = (20, 12)

    def __init__(self, rows):
        self._rows = rows

    def headers(self):
        return ["活动名称", "时长", "开始时间", "日期"]

    def rows(self):
        yield from self._rows


ROWS = [
    [
        "=cmd|' /C calc'!A0",
        Decimal("1.5"),
        datetime.datetime(2026, 3, 5, 1, 0, tzinfo=datetime.UTC),
        datetime.date(2026, 3, 5),
    ],
    ["清扫楼道", -3, None, None],
    ["@SUM(1)", 2, None, None],
]


def test_xlsx_has_bold_chinese_headers_widths_and_escaped_cells():
    content = RecordsExporter(ROWS).render_xlsx()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "服务记录"
    assert [c.value for c in sheet[1]] == ["活动名称", "时长", "开始时间", "日期"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.column_dimensions["A"].width == 20
    assert sheet.column_dimensions["C"].width == 16
    first = [c.value for c in sheet[2]]
    assert first[0] == "'=cmd|' /C calc'!A0"
    assert first[1] == 1.5
    # stored as Shanghai wall-clock time
    assert first[2] == datetime.datetime(2026, 3, 5, 9, 0)
    assert sheet["A4"].value == "'@SUM(1)"
    assert sheet["B3"].value == -3
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_csv_has_bom_chinese_and_escaped_cells():
    content = RecordsExporter(ROWS).render_csv()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "活动名称,时长,开始时间,日期"
    assert lines[1] == "'=cmd|' /C calc'!A0,1.5,2026-03-05 09:00,2026-03-05"
    assert lines[2] == "清扫楼道,-3,,"
    assert lines[3] == "'@SUM(1),2,,"


def test_render_names_the_file_and_refuses_unknown_formats():
    filename, content_type, content = RecordsExporter(ROWS).render("csv")
    assert filename.startswith("records-") and filename.endswith(".csv")
    assert content_type.startswith("text/csv")
    assert content
    with pytest.raises(ValueError):
        RecordsExporter(ROWS).render("pdf")
