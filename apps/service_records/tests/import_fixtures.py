"""Helpers for the import tests: workbooks built in memory, volunteers with profiles."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from apps.accounts.models import ServiceCategory, VolunteerProfile, VolunteerStatus
from apps.service_records.imports import RECORD_COLUMNS, VOLUNTEER_COLUMNS

RECORD_HEADERS = [c.header for c in RECORD_COLUMNS]
VOLUNTEER_HEADERS = [c.header for c in VOLUNTEER_COLUMNS]


def xlsx_bytes(headers, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name="records.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def records_file(rows, name="records.xlsx") -> SimpleUploadedFile:
    return upload(xlsx_bytes(RECORD_HEADERS, [record_row(**r) for r in rows]), name)


def volunteers_file(rows, name="volunteers.xlsx") -> SimpleUploadedFile:
    return upload(xlsx_bytes(VOLUNTEER_HEADERS, [volunteer_row(**r) for r in rows]), name)


def record_row(
    *,
    volunteer="V000000001",
    activity_name="陪伴独居老人",
    category="助老",
    start="2026-11-12 09:00",
    end="2026-11-12 11:00",
    hours=2,
    place="桂园社区",
    content="上门陪伴聊天",
    team="",
    responsible="李明",
    late_reason="",
):
    return [volunteer, activity_name, category, start, end, hours, place, content, team,
            responsible, late_reason]  # fmt: skip


def volunteer_row(
    *,
    name="张三",
    gender="男",
    birth="1980-01-01",
    id_number="110105198001010016",
    area="东湖区东湖街道",
    phone="13900000001",
    skills="急救",
    categories="助老",
    org="T-GY",
):
    return [name, gender, birth, id_number, area, phone, skills, categories, org]


def id_number(birth: str, serial: int) -> str:
    """A valid resident ID number for a birth date (YYYYMMDD) and a 3-digit serial."""
    from apps.accounts.validators import id_number_check_char

    first17 = f"110105{birth}{serial:03d}"
    return first17 + id_number_check_char(first17)


def elderly() -> ServiceCategory:
    return ServiceCategory.objects.get_or_create(code="elderly", defaults={"name": "助老"})[0]


def profile(user, number="V000000001") -> VolunteerProfile:
    return VolunteerProfile.objects.create(
        user=user,
        volunteer_number=number,
        status=VolunteerStatus.ACTIVE,
        birth_date=datetime.date(1985, 5, 1),
        residence_area="东湖区东湖街道",
        consent_at=timezone.now(),
    )
