"""Imports of volunteers (MCA Order 67 Art. 5): duplicates, scope, all or nothing."""

import io

import pytest
from openpyxl import load_workbook

from apps.accounts.choices import PoliticalStatus
from apps.accounts.models import User, VolunteerProfile, VolunteerStatus
from apps.core.models import AuditEntry
from apps.organizations.models import Membership
from apps.service_records.imports import import_job_create, import_template
from apps.service_records.models import ImportKind, ImportStatus
from apps.service_records.tests.import_fixtures import (
    VOLUNTEER_HEADERS,
    elderly,
    id_number,
    profile,
    volunteers_file,
)
from conftest import zh


@pytest.fixture
def w(world):
    elderly()
    return world


def run(w, rows, *, actor=None):
    return import_job_create(
        actor=actor or w.cast.branch_secretary,
        kind=ImportKind.VOLUNTEERS,
        file=volunteers_file(rows),
    )


def snapshot():
    return (User.objects.count(), VolunteerProfile.objects.count(), Membership.objects.count())


def refused(w, rows, **kwargs):
    before = snapshot()
    job = run(w, rows, **kwargs)
    assert job.status == ImportStatus.FAILED
    assert snapshot() == before
    return {(e["row"], e["column"]): e["message"] for e in job.errors}


def test_template_has_the_article_5_columns(db):
    book = load_workbook(io.BytesIO(import_template(kind=ImportKind.VOLUNTEERS)))
    assert [c.value for c in book.worksheets[0][1]] == VOLUNTEER_HEADERS
    assert VOLUNTEER_HEADERS == [
        "姓名", "性别", "出生日期", "身份证号码", "居住区域", "手机号", "专业技能", "服务类别",
        "党组织代码",
    ]  # fmt: skip


def test_good_file_creates_active_volunteers_with_memberships(w):
    job = run(
        w,
        [
            {},
            {"name": "李四", "gender": "女", "birth": "1990-02-03",
             "id_number": id_number("19900203", 22), "phone": "13900000002",
             "categories": "助老、elderly", "org": "T-GY"},
        ],
    )  # fmt: skip
    assert job.status == ImportStatus.DONE, job.errors
    assert job.imported_rows == 2
    zhang = User.objects.with_id_number("110105198001010016").get()
    assert zhang.real_name == "张三" and zhang.phone == "13900000001"
    assert zhang.political_status == PoliticalStatus.PARTY_MEMBER
    assert not zhang.has_usable_password()
    assert zhang.id_number_masked.startswith("1101")
    volunteer = zhang.volunteer_profile
    assert volunteer.status == VolunteerStatus.ACTIVE
    assert volunteer.reviewed_by == w.cast.branch_secretary
    assert volunteer.volunteer_number.startswith("V") and len(volunteer.volunteer_number) == 10
    assert [c.name for c in volunteer.service_categories.all()] == ["助老"]
    assert Membership.objects.active().get(user=zhang).organization == w.tree.branch
    # in the importer's scope afterwards
    assert (
        VolunteerProfile.objects.manageable_by(w.cast.branch_secretary)
        .filter(pk=volunteer.pk)
        .exists()
    )
    li = User.objects.get(real_name="李四")
    assert li.gender == "female"
    assert AuditEntry.objects.filter(action="import.volunteers").count() == 1


def test_city_admin_imports_citizens_without_an_organisation(w):
    job = run(w, [{"org": ""}], actor=w.cast.city_admin)
    assert job.status == ImportStatus.DONE, job.errors
    user = User.objects.get(real_name="张三")
    assert user.political_status == PoliticalStatus.MASSES
    assert not Membership.objects.filter(user=user).exists()


def test_duplicates_name_the_existing_volunteer_number(w):
    existing = w.cast.volunteer
    existing.id_number = "110105198001010016"
    existing.phone = "13900000009"
    existing.save()
    profile(existing, "V000000001")
    found = refused(
        w,
        [
            {},
            {"name": "李四", "id_number": id_number("19800101", 22), "phone": "13900000009"},
            {"name": "王五", "id_number": id_number("19800101", 22), "phone": "13900000005"},
            {"name": "赵六", "id_number": id_number("19800101", 33), "phone": "13900000005"},
        ],
    )
    taken_id = zh("A volunteer with this ID number is already registered: %(number)s.")
    taken_phone = zh("This mobile number is already registered: %(number)s.")
    assert found == {
        (2, "身份证号码"): taken_id % {"number": "V000000001"},
        (3, "手机号"): taken_phone % {"number": "V000000001"},
        (4, "身份证号码"): zh("The same ID number is on row %(row)d of this file.") % {"row": 3},
        (5, "手机号"): zh("The same mobile number is on row %(row)d of this file.") % {"row": 4},
    }


BAD = [
    ({"name": ""}, "姓名", "Enter your real name."),
    ({"gender": "未知"}, "性别", "Enter 男 or 女."),
    ({"birth": "八十年代"}, "出生日期", "Enter a date such as 1980-01-01."),
    ({"birth": "1981-01-01"}, "出生日期",
     "The date of birth does not match the one in the ID number."),
    ({"id_number": "110105198001010017"}, "身份证号码",
     "The check digit of this ID number is wrong; please check the number."),
    ({"id_number": "1234"}, "身份证号码",
     "An ID number has 18 characters: 17 digits and a final digit or X."),
    ({"area": ""}, "居住区域", "Fill in this column."),
    ({"phone": "12345"}, "手机号", "Enter a mainland mobile number: 11 digits starting with 1."),
    ({"categories": "唱歌"}, "服务类别", "There is no service category “%(name)s”."),
    ({"org": "T-TX"}, "党组织代码",
     "There is no party organisation with the code “%(code)s” among the organisations you "
     "manage."),
    ({"org": ""}, "党组织代码",
     "Give the code of the volunteer's party organisation: only the city's administrators "
     "import volunteers who are not party members of an organisation they manage."),
]  # fmt: skip


@pytest.mark.parametrize(("cells", "column", "message"), BAD)
def test_each_bad_cell_is_reported_and_nothing_is_saved(w, cells, column, message):
    found = refused(
        w,
        [{"name": "李四", "id_number": id_number("19800101", 44), "phone": "13900000004"}, cells],
    )
    assert found == {
        (3, column): zh(message) % {"name": cells.get("categories"), "code": cells.get("org")}
    }


def test_children_are_not_imported(w):
    found = refused(w, [{"birth": "2018-01-01", "id_number": id_number("20180101", 11)}])
    assert found == {
        (2, "出生日期"): zh(
            "Volunteers under %(age)d years register on the portal with their guardian's "
            "consent; they cannot be imported."
        )
        % {"age": 14}
    }
