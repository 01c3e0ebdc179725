"""``insert_audited``: a new row and its audit entry, as ``save()`` and ``audit_log`` write
them, in one statement on PostgreSQL and through the ORM elsewhere."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Upper
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.core.inserts import insert_audited
from apps.core.models import AuditEntry, ExportJob
from apps.core.services import audit_log

pytestmark = pytest.mark.django_db

ONE_STATEMENT = connection.vendor == "postgresql"


@pytest.fixture
def person(db):
    return User.objects.create_user(username="insert_tester", password=None, real_name="王芳")


def job(person, **changes):
    values = {
        "user": person,
        "exporter": "records",
        "format": "xlsx",
        "params": {"年份": 2026, "teams": [1, 2]},
        "title": "服务记录导出",
    }
    values.update(changes)
    return ExportJob(**values)


def columns(obj) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in {"id", "created_at", "target_id"}
    }


def stored(obj) -> dict:
    return columns(type(obj).objects.get(pk=obj.pk))


def entry_about(obj) -> AuditEntry:
    return AuditEntry.objects.get(
        target_type=ContentType.objects.get_for_model(type(obj)), target_id=str(obj.pk)
    )


def test_the_row_and_its_entry_are_what_save_and_audit_log_write(person):
    details = {"rows": 3, "备注": "年度"}
    by_orm = job(person)
    by_orm.save()
    audit_log(actor=person, action="export.ask", target=by_orm, details=details)
    fast = job(person)
    with CaptureQueriesContext(connection) as queries:
        insert_audited(fast, actor=person, action="export.ask", details=details)
    assert len(queries) == (1 if ONE_STATEMENT else 2)
    assert fast.pk is not None and fast.pk != by_orm.pk
    assert not fast._state.adding and fast._state.db == "default"
    assert fast.created_at is not None
    assert stored(fast) == stored(by_orm) == columns(by_orm)
    assert columns(entry_about(fast)) == columns(entry_about(by_orm))
    entry = entry_about(fast)
    assert (entry.actor, entry.action, entry.details) == (person, "export.ask", details)
    assert entry.target_repr == "服务记录导出"


def test_without_details_the_entry_has_empty_ones(person):
    row = job(person)
    insert_audited(row, actor=None, action="export.ask")
    entry = entry_about(row)
    assert (entry.actor, entry.details) == (None, {})


def test_a_row_that_breaks_a_constraint_leaves_no_entry_either(person):
    entries = AuditEntry.objects.count()
    rows = ExportJob.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_audited(job(person, exporter=None), actor=person, action="export.ask")
    assert AuditEntry.objects.count() == entries
    assert ExportJob.objects.count() == rows


def test_a_model_with_save_receivers_goes_through_save(person):
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=ExportJob, dispatch_uid="test-inserts")
    try:
        row = job(person)
        insert_audited(row, actor=person, action="export.ask")
    finally:
        post_save.disconnect(sender=ExportJob, dispatch_uid="test-inserts")
    assert heard == [(row.pk, True)]
    assert entry_about(row).action == "export.ask"


def test_an_expression_for_a_value_is_left_to_the_orm(person):
    row = job(person, exporter=Upper(Value("records")))
    insert_audited(row, actor=person, action="export.ask")
    assert ExportJob.objects.get(pk=row.pk).exporter == "RECORDS"
    assert entry_about(row).action == "export.ask"


def test_a_stored_row_is_saved_and_its_entry_appended(person):
    row = job(person)
    row.save()
    row.title = "改过的标题"
    insert_audited(row, actor=person, action="export.rename")
    assert ExportJob.objects.get(pk=row.pk).title == "改过的标题"
    assert ExportJob.objects.filter(user=person).count() == 1
    assert entry_about(row).action == "export.rename"


def test_a_companion_must_be_a_key_to_the_row_alone(person):
    rows = ExportJob.objects.count()
    with pytest.raises(TypeError, match="core.AuditEntry is not a key to core.ExportJob alone"):
        insert_audited(job(person), actor=person, action="export.ask", companions=(AuditEntry,))
    assert ExportJob.objects.count() == rows


class RenameWrite:
    """An ``Alongside``: renames a user, and hears how many rows it wrote."""

    def __init__(self, pk, name):
        self.pk, self.name, self.rows = pk, name, []

    def statement(self):
        table = connection.ops.quote_name(User._meta.db_table)
        return f"UPDATE {table} SET real_name = %s WHERE id = %s", [self.name, self.pk]

    def done(self, rows):
        self.rows.append(rows)


def test_a_write_alongside_goes_in_the_rows_statement_and_hears_what_it_wrote(person):
    rename, missing = RenameWrite(person.pk, "王芳芳"), RenameWrite(0, "无人")
    row = job(person)
    with CaptureQueriesContext(connection) as queries:
        insert_audited(row, actor=person, action="export.ask", alongside=(rename, missing))
    assert len(queries) == (1 if ONE_STATEMENT else 4)
    assert (rename.rows, missing.rows) == ([1], [0])
    assert User.objects.get(pk=person.pk).real_name == "王芳芳"
    assert ExportJob.objects.get(pk=row.pk).title == "服务记录导出"
    assert entry_about(row).action == "export.ask"


def test_a_refused_row_leaves_the_write_alongside_undone(person):
    rename = RenameWrite(person.pk, "王芳芳")
    rows = ExportJob.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_audited(
            job(person, exporter=None), actor=person, action="export.ask", alongside=(rename,)
        )
    assert rename.rows == []
    assert User.objects.get(pk=person.pk).real_name == "王芳"
    assert ExportJob.objects.count() == rows


def test_a_row_left_to_the_orm_still_writes_alongside(person):
    rename = RenameWrite(person.pk, "王芳芳")
    row = job(person, exporter=Upper(Value("records")))
    insert_audited(row, actor=person, action="export.ask", alongside=(rename,))
    assert rename.rows == [1]
    assert User.objects.get(pk=person.pk).real_name == "王芳芳"
    assert ExportJob.objects.get(pk=row.pk).exporter == "RECORDS"
